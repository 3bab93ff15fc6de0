// Direct sparse convolution, stride 2 (any kernel size, dilation, groups), AVX2+FMA: tiles of up to
// 8 vectors of output pixels of one output channel in registers. Loop nest and run layout:
// sparse_conv_impl.h; packing: sparse_conv_packing.h.
#include "x86/kernels_x86.h"
#include "x86/sparse_conv_impl.h"
#include "x86/vec_avx2.h"

namespace gnrt {
namespace kernels {
namespace x86 {

bool f32_conv2d_sparse_s2_64x1__avx2_supports(const ConvProblem& p) {
  return p.geometry.stride_h == 2 && p.geometry.stride_w == 2 && sparse_conv_border_ok(p);
}

void f32_conv2d_sparse_s2_64x1__avx2(const ConvProblem& p, const void* packed, const float* input,
                                     float* output, int oc_begin, int oc_end) {
  sparse_conv_entry<VecAvx2, 2>(p, packed, input, output, oc_begin, oc_end);
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
