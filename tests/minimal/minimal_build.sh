#!/bin/sh
# Builds the `minimal` configuration of libgnrt (GNRT_MINIMAL=ON: runtime only, -fno-exceptions
# -fno-rtti, no XNNPACK, no tests, MinSizeRel), installs it into a prefix, and builds the C
# example examples/classify.c against the installed package (find_package(gnrt), libgnrt linked
# statically, --gc-sections). Run by the minimal_<arch>_build ctest cases (tests/minimal/).
#
# usage: minimal_build.sh SOURCE_DIR WORK_DIR GENERATOR JOBS [TOOLCHAIN_FILE]
#
# Leaves in WORK_DIR: build/ (the minimal build), prefix/ (its install), app/classify and
# app/classify-static-cxx (the example, the second with -static-libstdc++ -static-libgcc).
# Re-running reuses build/ and app/ (incremental); prefix/ is installed afresh.
set -eu
src=$1; work=$2; generator=$3; jobs=$4; toolchain=${5:-}

mkdir -p "$work"
set --
if [ -n "$toolchain" ]; then
  set -- "-DCMAKE_TOOLCHAIN_FILE=$toolchain"
fi

echo "== minimal build: configure ($work/build)"
cmake -S "$src" -B "$work/build" -G "$generator" "$@" \
  -DCMAKE_BUILD_TYPE=MinSizeRel \
  -DGNRT_MINIMAL=ON \
  -DGNRT_BUILD_TESTS=OFF \
  -DGNRT_WITH_XNNPACK=OFF \
  -DGNRT_CROSS_TESTS=OFF \
  -DGNRT_SANITIZE=OFF > "$work/configure.log"

# In the minimal configuration the only targets are the schema header, the kernels and libgnrt.
echo "== minimal build: build"
cmake --build "$work/build" --parallel "$jobs"

echo "== minimal build: install ($work/prefix)"
rm -rf "$work/prefix"
cmake --install "$work/build" --prefix "$work/prefix" > "$work/install.log"
test -f "$work/prefix/include/gnrt/gnrt.h"
libdir=$(ls -d "$work/prefix"/lib*/cmake/gnrt)

# The app finds the package by its directory: a cross toolchain re-roots CMAKE_PREFIX_PATH under
# its CMAKE_FIND_ROOT_PATH, but a <Package>_DIR is used as given.
echo "== minimal build: classify app"
cmake -S "$src/tests/minimal/app" -B "$work/app" -G "$generator" "$@" \
  -DCMAKE_BUILD_TYPE=MinSizeRel \
  -Dgnrt_DIR="$libdir" \
  -DGNRT_EXAMPLES_DIR="$src/examples" > "$work/app-configure.log"
cmake --build "$work/app" --parallel "$jobs"
test -x "$work/app/classify"
test -x "$work/app/classify-static-cxx"
echo "== minimal build: done"
