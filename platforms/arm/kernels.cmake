# NEON kernels for aarch64 and armv7; included by platforms/CMakeLists.txt when GNRT_ARCH is one
# of them. The build lines come from the file names (one file per row of kernels.inc):
# f32-*-aarch64.cc only on aarch64, f32-*-armv7.cc only on armv7, the other f32-*.cc on both. The
# armv7 toolchain file makes NEON (without FMA) the baseline; there every kernel file gets
# -mfpu=neon, and *-neonfma-armv7.cc -mfpu=neon-vfpv4 (picked only when AT_HWCAP has VFPv4).
# The int8 kernels qs8-*.cc follow the same architecture rule; on aarch64 *-neondot-aarch64.cc
# alone gets -march=armv8.2-a+dotprod (picked only when AT_HWCAP has ASIMDDP).
set(_gnrt_arm_common
  arm/sparse_pack.cc
  arm/kernel_list.cc)

file(GLOB _gnrt_arm_kernels CONFIGURE_DEPENDS RELATIVE ${CMAKE_CURRENT_SOURCE_DIR}
  ${CMAKE_CURRENT_SOURCE_DIR}/arm/f32-*.cc ${CMAKE_CURRENT_SOURCE_DIR}/arm/qs8-*.cc)
if(GNRT_ARCH STREQUAL "aarch64")
  list(FILTER _gnrt_arm_kernels EXCLUDE REGEX "-armv7\\.cc$")
  foreach(_gnrt_file IN LISTS _gnrt_arm_kernels)
    if(_gnrt_file MATCHES "-neondot-aarch64\\.cc$")
      set_source_files_properties(${_gnrt_file} PROPERTIES COMPILE_OPTIONS "-march=armv8.2-a+dotprod")
    endif()
  endforeach()
else()
  list(FILTER _gnrt_arm_kernels EXCLUDE REGEX "-aarch64\\.cc$")
  foreach(_gnrt_file IN LISTS _gnrt_arm_kernels)
    if(_gnrt_file MATCHES "-neonfma-armv7\\.cc$")
      set_source_files_properties(${_gnrt_file} PROPERTIES COMPILE_OPTIONS "-mfpu=neon-vfpv4")
    else()
      set_source_files_properties(${_gnrt_file} PROPERTIES COMPILE_OPTIONS "-mfpu=neon")
    endif()
  endforeach()
endif()

target_sources(gnrt_kernels PRIVATE ${_gnrt_arm_common} ${_gnrt_arm_kernels})
target_compile_definitions(gnrt_kernels PRIVATE GNRT_KERNELS_ARM)
unset(_gnrt_arm_common)
unset(_gnrt_arm_kernels)
unset(_gnrt_file)
