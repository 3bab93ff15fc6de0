# NEON kernels for aarch64 and armv7; included by platforms/CMakeLists.txt when GNRT_ARCH is one
# of them. ISA flags are set per source file. The armv7 toolchain file makes NEON (without FMA)
# the baseline; the VFPv4 FMA variant is compiled with its own -mfpu and picked from AT_HWCAP.
set(_gnrt_arm_common
  arm/sparse_pack.cc
  arm/select_arm.cc
  arm/f32-maxpool2d-3x3s1-neon.cc
  arm/f32-maxpool2d-3x3s2-neon.cc
  arm/f32-global-avgpool-neon.cc)

if(GNRT_ARCH STREQUAL "aarch64")
  set(_gnrt_arm_kernels
    arm/f32-conv2d-sparse-32x1-neonfma-aarch64.cc
    arm/f32-fc-sparse-neonfma-aarch64.cc)
else()
  set(_gnrt_arm_kernels
    arm/f32-conv2d-sparse-16x1-neon-armv7.cc
    arm/f32-conv2d-sparse-16x1-neonfma-armv7.cc
    arm/f32-fc-sparse-neon-armv7.cc)
  set_source_files_properties(
    arm/f32-conv2d-sparse-16x1-neon-armv7.cc
    arm/f32-fc-sparse-neon-armv7.cc
    arm/f32-maxpool2d-3x3s1-neon.cc
    arm/f32-maxpool2d-3x3s2-neon.cc
    arm/f32-global-avgpool-neon.cc
    PROPERTIES COMPILE_OPTIONS "-mfpu=neon")
  set_source_files_properties(
    arm/f32-conv2d-sparse-16x1-neonfma-armv7.cc
    PROPERTIES COMPILE_OPTIONS "-mfpu=neon-vfpv4")
endif()

target_sources(gnrt_kernels PRIVATE ${_gnrt_arm_common} ${_gnrt_arm_kernels})
target_compile_definitions(gnrt_kernels PRIVATE GNRT_KERNELS_ARM GNRT_POOL_KERNELS_ARM)
unset(_gnrt_arm_common)
unset(_gnrt_arm_kernels)
