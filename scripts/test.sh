#!/bin/sh
# The test command: configure (release preset: tests + ARM cross builds under qemu), build, run
# every ctest case. Assumes scripts/install-deps.sh has run.
set -eu
cd "$(dirname "$0")/.."
JOBS="${GNRT_JOBS:-$(nproc)}"
cmake --preset release
cmake --build --preset release -j "$JOBS"
ctest --preset release -j "$JOBS"
