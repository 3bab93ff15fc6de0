// Declarations of the x86 microkernels (one file each, named after the function with '_' -> '-'
// and the ISA suffix). Each sparse convolution packs with sparse_conv_pack (sparse_conv_packing.h),
// each dense convolution with dense_conv_pack (dense_conv_packing.h).
#pragma once

#include <cstddef>

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {
namespace x86 {

#define GNRT_X86_CONV_RUN(name)                                                                \
  void name(const ConvProblem& problem, const void* packed, const float* input, float* output, \
            int oc_begin, int oc_end);                                                         \
  bool name##_supports(const ConvProblem& problem);

#define GNRT_X86_FC_RUN(name)                                                                \
  void name(const FcProblem& problem, const void* packed, const float* input, float* output, \
            int o_begin, int o_end);

GNRT_X86_CONV_RUN(f32_conv2d_sparse_s1_128x1__avx512)
GNRT_X86_CONV_RUN(f32_conv2d_sparse_s1g_128x1__avx512)
GNRT_X86_CONV_RUN(f32_conv2d_sparse_s1g_64x1__avx512)
GNRT_X86_CONV_RUN(f32_conv2d_sparse_s1_64x1__avx512)
GNRT_X86_CONV_RUN(f32_conv2d_sparse_s2_128x1__avx512)
GNRT_X86_CONV_RUN(f32_conv2d_sparse_s1_64x1__avx2)
GNRT_X86_CONV_RUN(f32_conv2d_sparse_s2_64x1__avx2)
GNRT_X86_CONV_RUN(f32_conv2d_sparse_s2p_64x1__avx2)
GNRT_X86_CONV_RUN(f32_conv2d_sparse_s2p_128x1__avx512)
GNRT_X86_CONV_RUN(f32_conv2d_sparse_s2pg_128x1__avx512)
GNRT_X86_CONV_RUN(f32_conv2d_dense_s1_48x8__avx512)
GNRT_X86_CONV_RUN(f32_conv2d_dense_s1_16x4__avx2)
std::size_t f32_conv2d_dense_s1_48x8__avx512_packed_bytes(const ConvProblem& problem);
void f32_conv2d_dense_s1_48x8__avx512_pack(const ConvProblem& problem, void* packed);
std::size_t f32_conv2d_dense_s1_16x4__avx2_packed_bytes(const ConvProblem& problem);
void f32_conv2d_dense_s1_16x4__avx2_pack(const ConvProblem& problem, void* packed);

GNRT_X86_FC_RUN(f32_fc_sparse_16x1__avx512)
GNRT_X86_FC_RUN(f32_fc_sparse_8x1__avx2)
GNRT_X86_FC_RUN(f32_fc_dense_4x16__avx512)
GNRT_X86_FC_RUN(f32_fc_dense_4x8__avx2)

#define GNRT_X86_POOL_RUN(name)                                                         \
  void name(const PoolProblem& problem, const float* input, float* output, int c_begin, \
            int c_end);                                                                 \
  bool name##_supports(const PoolProblem& problem);

GNRT_X86_POOL_RUN(f32_maxpool2d_3x3s1__avx512)
GNRT_X86_POOL_RUN(f32_maxpool2d_3x3s2__avx512)
GNRT_X86_POOL_RUN(f32_global_avgpool__avx512)
GNRT_X86_POOL_RUN(f32_maxpool2d_3x3s1__avx2)
GNRT_X86_POOL_RUN(f32_maxpool2d_3x3s2__avx2)
GNRT_X86_POOL_RUN(f32_global_avgpool__avx2)

#undef GNRT_X86_POOL_RUN
#undef GNRT_X86_CONV_RUN
#undef GNRT_X86_FC_RUN

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
