#!/bin/sh
# Installs every Debian bookworm package gnrt needs to build, test and run its tools.
# Used by the README and by .ci/run. Run as root (or through sudo).
#
# Never add :arm64 / :armhf variants of -dev packages here: they are not co-installable with the
# amd64 ones and apt would remove LibTorch and XNNPACK to make room. The ARM builds use the
# cross compilers and the project's own kernels.
set -eu

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES="
  build-essential cmake ninja-build pkg-config python3
  libflatbuffers-dev flatbuffers-compiler
  doctest-dev libbenchmark-dev
  libxnnpack-dev libpthreadpool-dev libcpuinfo-dev
  libtorch-dev
  python3-torch python3-torchvision
  libgloo-dev redis-server
  libcli11-dev nlohmann-json3-dev zlib1g-dev
  dataset-fashion-mnist
  g++-aarch64-linux-gnu g++-arm-linux-gnueabihf qemu-user
  libonnx-dev libprotobuf-dev protobuf-compiler python3-onnx llvm
"

$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -q
# shellcheck disable=SC2086
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $PACKAGES

# ONNX Runtime 1.30 (CPU), the peer engine of the ONNX tests and scripts/bench-peers.sh: the npm
# package onnxruntime-node, into bench/ort/node_modules. Its CPU libraries for linux x64 and arm64
# are inside the package; --ignore-scripts skips its install script, which only fetches GPU parts
# from a host this machine cannot reach. Node.js comes from Debian unless the machine has one.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nodejs npm
fi
(cd "$(dirname "$0")/../bench/ort" && npm ci --ignore-scripts --no-audit --no-fund)
