// Direct sparse convolution, stride 1 (any kernel size, dilation, groups), AVX-512: tiles of up to
// 4 vectors of output pixels of one output channel in registers (the 128x1 kernel's
// input footprint per tile, halved). Loop nest and run layout:
// sparse_conv_impl.h; packing: sparse_conv_packing.h.
#include "x86/kernels_x86.h"
#include "x86/sparse_conv_impl.h"
#include "x86/vec_avx512.h"

namespace gnrt {
namespace kernels {
namespace x86 {

bool f32_conv2d_sparse_s1_64x1__avx512_supports(const ConvProblem& p) {
  return p.geometry.stride_h == 1 && p.geometry.stride_w == 1 && sparse_conv_border_ok(p);
}

void f32_conv2d_sparse_s1_64x1__avx512(const ConvProblem& p, const void* packed, const float* input,
                                       float* output, int oc_begin, int oc_end) {
  sparse_conv_entry<VecAvx512, 1, 4>(p, packed, input, output, oc_begin, oc_end);
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
