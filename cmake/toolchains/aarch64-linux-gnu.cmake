# Cross build for 64-bit ARM Linux (Debian's g++-aarch64-linux-gnu).
#
#   cmake -S . -B build-arm64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#         -DGNRT_BUILD_TOOLS=OFF -DGNRT_BUILD_CONVERTER=OFF -DGNRT_BUILD_BENCH=OFF \
#         -DGNRT_WITH_XNNPACK=OFF
#   ctest --test-dir build-arm64   # each test under qemu-aarch64 (CMAKE_CROSSCOMPILING_EMULATOR)
#
# A64 always has Advanced SIMD with fused multiply-add, so no ISA flags are needed here; the NEON
# kernels in platforms/arm/ set whatever else they need per source file.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)

set(GNRT_CROSS_TRIPLE aarch64-linux-gnu)
set(CMAKE_C_COMPILER ${GNRT_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${GNRT_CROSS_TRIPLE}-g++)
set(CMAKE_FIND_ROOT_PATH /usr/${GNRT_CROSS_TRIPLE})

# add_test(COMMAND <target>) then runs the target under qemu; -L is QEMU_LD_PREFIX (the target's
# dynamic loader and libraries).
find_program(GNRT_QEMU_AARCH64 qemu-aarch64)
if(GNRT_QEMU_AARCH64)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${GNRT_QEMU_AARCH64} -L /usr/${GNRT_CROSS_TRIPLE})
endif()

include(${CMAKE_CURRENT_LIST_DIR}/host-header-only.cmake)
