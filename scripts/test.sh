#!/bin/sh
# The test command. Assumes scripts/install-deps.sh has run.
#  1. release preset: everything (converter, tools, benchmarks' smoke tests), all doctest suites,
#     the ARM kernels and runtime tests cross-built for aarch64 and armv7 and run under qemu;
#  2. asan preset: runtime, kernels and tools rebuilt with AddressSanitizer and
#     UndefinedBehaviorSanitizer, and their tests run again;
#  3. tsan preset: runtime, kernels and C API rebuilt with ThreadSanitizer; the runtime tests (label
#     "runtime": C API, planner, thread pool, concurrent plans over one shared model) run again,
#     any report failing the run.
# GNRT_TEST_PRESETS="release" runs only the first.
set -eu
cd "$(dirname "$0")/.."
JOBS="${GNRT_JOBS:-$(nproc)}"
PRESETS="${GNRT_TEST_PRESETS:-release asan tsan}"
for preset in $PRESETS; do
  echo "== test.sh: preset $preset"
  cmake --preset "$preset"
  cmake --build --preset "$preset" -j "$JOBS"
  ctest --preset "$preset" -j "$JOBS"
done
