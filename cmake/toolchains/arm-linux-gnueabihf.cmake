# Cross build for 32-bit ARM Linux, hard-float ABI (Debian's g++-arm-linux-gnueabihf).
#
#   cmake -S . -B build-armv7 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/arm-linux-gnueabihf.cmake \
#         -DGNRT_BUILD_TOOLS=OFF -DGNRT_BUILD_CONVERTER=OFF -DGNRT_BUILD_BENCH=OFF \
#         -DGNRT_WITH_XNNPACK=OFF
#   ctest --test-dir build-armv7   # each test under qemu-arm (CMAKE_CROSSCOMPILING_EMULATOR)
#
# Target: ARMv7-A with NEON (Cortex-A7/A9/A15 class boards). NEON (without VFPv4's fused
# multiply-add) is the baseline of the whole build; the FMA kernel variant in platforms/arm/ adds
# -mfpu=neon-vfpv4 to its own source file and is chosen at run time from AT_HWCAP.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR armv7-a)

set(GNRT_CROSS_TRIPLE arm-linux-gnueabihf)
set(CMAKE_C_COMPILER ${GNRT_CROSS_TRIPLE}-gcc)
set(CMAKE_CXX_COMPILER ${GNRT_CROSS_TRIPLE}-g++)
set(CMAKE_FIND_ROOT_PATH /usr/${GNRT_CROSS_TRIPLE})

set(_gnrt_armv7_flags "-march=armv7-a -mfpu=neon -mfloat-abi=hard")
set(CMAKE_C_FLAGS_INIT "${_gnrt_armv7_flags}")
set(CMAKE_CXX_FLAGS_INIT "${_gnrt_armv7_flags}")
unset(_gnrt_armv7_flags)

find_program(GNRT_QEMU_ARM qemu-arm)
if(GNRT_QEMU_ARM)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${GNRT_QEMU_ARM} -L /usr/${GNRT_CROSS_TRIPLE})
endif()

include(${CMAKE_CURRENT_LIST_DIR}/host-header-only.cmake)
