// Dense direct convolution, stride 1, groups 1, AVX-512: 3 vectors of pixels x 8 output channels of
// accumulators. Loop nest: dense_conv_impl.h; packing: dense_conv_packing.h.
#include "x86/dense_conv_impl.h"
#include "x86/kernels_x86.h"
#include "x86/vec_avx512.h"

namespace gnrt {
namespace kernels {
namespace x86 {

bool f32_conv2d_dense_s1_48x8__avx512_supports(const ConvProblem& p) {
  return p.geometry.stride_h == 1 && p.geometry.stride_w == 1 && dense_conv_supported(p);
}

std::size_t f32_conv2d_dense_s1_48x8__avx512_packed_bytes(const ConvProblem& p) {
  return dense_conv_packed_bytes(p, 8);
}

void f32_conv2d_dense_s1_48x8__avx512_pack(const ConvProblem& p, void* packed) {
  dense_conv_pack(p, 8, packed);
}

void f32_conv2d_dense_s1_48x8__avx512(const ConvProblem& p, const void* packed, const float* input,
                                      float* output, int oc_begin, int oc_end) {
  dense_conv_entry<VecAvx512, 3, 8>(p, packed, input, output, oc_begin, oc_end);
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
