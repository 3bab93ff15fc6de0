# x86-64 kernels (AVX2+FMA, AVX-512). Included by platforms/CMakeLists.txt on x86_64.
# ISA flags are set per source file: only the microkernel files (*-avx2.cc / *-avx512.cc) get
# them, so the library as a whole still runs on any x86-64 CPU and the selector picks by
# detect_isa().
set(GNRT_X86_DIR ${CMAKE_CURRENT_SOURCE_DIR}/x86)

# Plan-time code (packing, kernel list, selection): no ISA flags.
set(GNRT_X86_COMMON_SOURCES
  ${GNRT_X86_DIR}/select-x86.cc
  ${GNRT_X86_DIR}/kernel_list.cc
  ${GNRT_X86_DIR}/sparse_conv_packing.cc
  ${GNRT_X86_DIR}/dense_conv_packing.cc
  ${GNRT_X86_DIR}/fc_packing.cc)

# Microkernels, one per file.
set(GNRT_X86_AVX2_SOURCES
  ${GNRT_X86_DIR}/f32-conv2d-sparse-s1-64x1-avx2.cc
  ${GNRT_X86_DIR}/f32-conv2d-sparse-s2-64x1-avx2.cc
  ${GNRT_X86_DIR}/f32-conv2d-sparse-s2p-64x1-avx2.cc
  ${GNRT_X86_DIR}/f32-conv2d-dense-s1-16x4-avx2.cc
  ${GNRT_X86_DIR}/f32-fc-sparse-8x1-avx2.cc
  ${GNRT_X86_DIR}/f32-fc-dense-4x8-avx2.cc
  ${GNRT_X86_DIR}/f32-maxpool2d-3x3s1-avx2.cc
  ${GNRT_X86_DIR}/f32-maxpool2d-3x3s2-avx2.cc
  ${GNRT_X86_DIR}/f32-global-avgpool-avx2.cc)
set(GNRT_X86_AVX512_SOURCES
  ${GNRT_X86_DIR}/f32-conv2d-sparse-s1-128x1-avx512.cc
  ${GNRT_X86_DIR}/f32-conv2d-sparse-s1g-128x1-avx512.cc
  ${GNRT_X86_DIR}/f32-conv2d-sparse-s1g-64x1-avx512.cc
  ${GNRT_X86_DIR}/f32-conv2d-sparse-s1-64x1-avx512.cc
  ${GNRT_X86_DIR}/f32-conv2d-sparse-s2-128x1-avx512.cc
  ${GNRT_X86_DIR}/f32-conv2d-sparse-s2p-128x1-avx512.cc
  ${GNRT_X86_DIR}/f32-conv2d-sparse-s2pg-128x1-avx512.cc
  ${GNRT_X86_DIR}/f32-conv2d-dense-s1-48x8-avx512.cc
  ${GNRT_X86_DIR}/f32-fc-sparse-16x1-avx512.cc
  ${GNRT_X86_DIR}/f32-fc-dense-4x16-avx512.cc
  ${GNRT_X86_DIR}/f32-maxpool2d-3x3s1-avx512.cc
  ${GNRT_X86_DIR}/f32-maxpool2d-3x3s2-avx512.cc
  ${GNRT_X86_DIR}/f32-global-avgpool-avx512.cc)

set_source_files_properties(${GNRT_X86_AVX2_SOURCES} PROPERTIES COMPILE_OPTIONS "-mavx2;-mfma")
set_source_files_properties(${GNRT_X86_AVX512_SOURCES} PROPERTIES
  COMPILE_OPTIONS "-mavx512f;-mavx512bw;-mavx512dq;-mavx512vl;-mfma")

target_sources(gnrt_kernels PRIVATE
  ${GNRT_X86_COMMON_SOURCES} ${GNRT_X86_AVX2_SOURCES} ${GNRT_X86_AVX512_SOURCES})
target_compile_definitions(gnrt_kernels PRIVATE GNRT_KERNELS_X86=1 GNRT_POOL_KERNELS_X86=1)
