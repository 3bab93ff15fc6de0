// Dense direct convolution, stride 1, groups 1, AVX2+FMA: 2 vectors of pixels x 4 output channels
// of accumulators. Loop nest: dense_conv_impl.h; packing: dense_conv_packing.h.
#include "x86/dense_conv_impl.h"
#include "x86/kernels_x86.h"
#include "x86/vec_avx2.h"

namespace gnrt {
namespace kernels {
namespace x86 {

bool f32_conv2d_dense_s1_16x4__avx2_supports(const ConvProblem& p) {
  return p.geometry.stride_h == 1 && p.geometry.stride_w == 1 && dense_conv_supported(p);
}

std::size_t f32_conv2d_dense_s1_16x4__avx2_packed_bytes(const ConvProblem& p) {
  return dense_conv_packed_bytes(p, 4);
}

void f32_conv2d_dense_s1_16x4__avx2_pack(const ConvProblem& p, void* packed) {
  dense_conv_pack(p, 4, packed);
}

void f32_conv2d_dense_s1_16x4__avx2(const ConvProblem& p, const void* packed, const float* input,
                                    float* output, int oc_begin, int oc_end) {
  dense_conv_entry<VecAvx2, 2, 4>(p, packed, input, output, oc_begin, oc_end);
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
