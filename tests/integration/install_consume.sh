#!/bin/sh
# Installs the build tree into a temporary prefix, then builds and runs a consumer of the
# installed library both ways: CMake find_package(gnrt) and pkg-config.
# usage: install_consume.sh BUILD_DIR SOURCE_DIR MODEL WORK_DIR
set -eu
build=$1; src=$2; model=$3; work=$4
rm -rf "$work"; mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" > "$work/install.log"
test -f "$prefix/include/gnrt/gnrt.h"
test -f "$prefix/lib/libgnrt.a" || test -f "$prefix/lib/libgnrt.so"

# 1. CMake package.
cmake -S "$src/tests/integration/consumer" -B "$work/cmake-build" -DCMAKE_PREFIX_PATH="$prefix" \
  -DCMAKE_BUILD_TYPE=Release > "$work/cmake-configure.log"
cmake --build "$work/cmake-build" > "$work/cmake-build.log"
out1=$("$work/cmake-build/consumer" "$model")
echo "find_package consumer: $out1"

# 2. pkg-config (static: --static adds the C++ runtime and pthreads).
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
cc -c "$src/tests/integration/consumer/consumer.c" -o "$work/consumer.o" $(pkg-config --cflags gnrt)
c++ "$work/consumer.o" -o "$work/consumer-pc" $(pkg-config --static --libs gnrt)
out2=$("$work/consumer-pc" "$model")
echo "pkg-config consumer: $out2"

# Both builds ran the same model on the same input.
test "$out1" = "$out2"
case "$out1" in
  "gnrt "*" outputs="*" argmax="*) ;;
  *) echo "unexpected output: $out1" >&2; exit 1 ;;
esac
