# x86-64 kernels (AVX2+FMA, AVX-512). Included by platforms/CMakeLists.txt on x86_64.
# The build lines come from the file names: every microkernel file f32-*-avx2.cc / f32-*-avx512.cc
# (one per row of kernels.inc) gets that ISA's flags, the rest none, so the library as a whole
# still runs on any x86-64 CPU and the selector picks by detect_isa().
set(GNRT_X86_DIR ${CMAKE_CURRENT_SOURCE_DIR}/x86)

# Plan-time code (packing, kernel list): no ISA flags.
set(GNRT_X86_COMMON_SOURCES
  ${GNRT_X86_DIR}/kernel_list.cc
  ${GNRT_X86_DIR}/sparse_conv_packing.cc
  ${GNRT_X86_DIR}/dense_conv_packing.cc
  ${GNRT_X86_DIR}/fc_packing.cc)

file(GLOB GNRT_X86_AVX2_SOURCES CONFIGURE_DEPENDS ${GNRT_X86_DIR}/f32-*-avx2.cc)
file(GLOB GNRT_X86_AVX512_SOURCES CONFIGURE_DEPENDS ${GNRT_X86_DIR}/f32-*-avx512.cc)
file(GLOB GNRT_X86_AVX512VNNI_SOURCES CONFIGURE_DEPENDS ${GNRT_X86_DIR}/qs8-*-avx512vnni.cc)
file(GLOB GNRT_X86_AVXVNNI_SOURCES CONFIGURE_DEPENDS ${GNRT_X86_DIR}/qs8-*-avxvnni.cc)
file(GLOB GNRT_X86_QS8_AVX2_SOURCES CONFIGURE_DEPENDS ${GNRT_X86_DIR}/qs8-*-avx2.cc
  ${GNRT_X86_DIR}/qu8-*-avx2.cc)
file(GLOB GNRT_X86_QU8_AVX512_SOURCES CONFIGURE_DEPENDS ${GNRT_X86_DIR}/qu8-*-avx512.cc)

set_source_files_properties(${GNRT_X86_AVX2_SOURCES} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma")
set_source_files_properties(${GNRT_X86_AVX512_SOURCES} PROPERTIES
  COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512dq;-mavx512vl;-mfma")
set_source_files_properties(${GNRT_X86_AVX512VNNI_SOURCES} PROPERTIES
  COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512dq;-mavx512vl;-mavx512vnni")
set_source_files_properties(${GNRT_X86_AVXVNNI_SOURCES} PROPERTIES
  COMPILE_OPTIONS "-mavx2;-mfma;-mavxvnni")
set_source_files_properties(${GNRT_X86_QS8_AVX2_SOURCES} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma")
set_source_files_properties(${GNRT_X86_QU8_AVX512_SOURCES} PROPERTIES
  COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512dq;-mavx512vl")

# ThreadSanitizer builds: the microkernels' contracted over- and under-reads are not races to
# report (see GNRT_SANITIZE_THREAD in the top-level CMakeLists.txt).
if(GNRT_SANITIZE_THREAD)
  foreach(_gnrt_file ${GNRT_X86_AVX2_SOURCES} ${GNRT_X86_AVX512_SOURCES} ${GNRT_X86_AVX512VNNI_SOURCES}
      ${GNRT_X86_AVXVNNI_SOURCES} ${GNRT_X86_QS8_AVX2_SOURCES} ${GNRT_X86_QU8_AVX512_SOURCES})
    get_source_file_property(_gnrt_options ${_gnrt_file} COMPILE_OPTIONS)
    set_source_files_properties(${_gnrt_file} PROPERTIES
      COMPILE_OPTIONS "${_gnrt_options};-fno-sanitize=thread")
  endforeach()
endif()

target_sources(gnrt_kernels PRIVATE
  ${GNRT_X86_COMMON_SOURCES} ${GNRT_X86_AVX2_SOURCES} ${GNRT_X86_AVX512_SOURCES}
  ${GNRT_X86_AVX512VNNI_SOURCES} ${GNRT_X86_AVXVNNI_SOURCES} ${GNRT_X86_QS8_AVX2_SOURCES}
  ${GNRT_X86_QU8_AVX512_SOURCES})
target_compile_definitions(gnrt_kernels PRIVATE GNRT_KERNELS_X86=1)
