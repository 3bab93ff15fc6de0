// Direct sparse convolution, stride 1, AVX-512, with shifted accumulators for the taps off the
// kernel's centre column: every load is aligned when the row and channel strides are multiples
// of 16 floats and the planes start aligned (the planner's AVX-512 layout). Tiles of up to 4
// vectors of one output channel. Loop nest: sparse_conv_shift_impl.h; packing: the shift-group
// form of sparse_conv_packing.h.
#include "x86/kernels_x86.h"
#include "x86/sparse_conv_shift_impl.h"

namespace gnrt {
namespace kernels {
namespace x86 {

bool f32_conv2d_sparse_s1g_64x1__avx512_supports(const ConvProblem& p) {
  return sparse_conv_shift_supported(p);
}

void f32_conv2d_sparse_s1g_64x1__avx512(const ConvProblem& p, const void* packed,
                                        const float* input, float* output, int oc_begin,
                                        int oc_end) {
  sparse_conv_shift<4>(p, packed, input, output, oc_begin, oc_end);
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
