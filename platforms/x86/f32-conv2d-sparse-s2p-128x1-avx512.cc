// Direct sparse convolution, stride 2, through a per-output-row phase buffer (even/odd input
// columns split once per row on the stack, then stride-1 tiles of up to 8 vectors), avx512.
// Layout and packing: sparse_conv_phase.h; loop nest: sparse_conv_impl.h.
#include "x86/kernels_x86.h"
#include "x86/sparse_conv_impl.h"
#include "x86/vec_avx512.h"

namespace gnrt {
namespace kernels {
namespace x86 {

bool f32_conv2d_sparse_s2p_128x1__avx512_supports(const ConvProblem& p) {
  return sparse_conv_phase_supported(p);
}

void f32_conv2d_sparse_s2p_128x1__avx512(const ConvProblem& p, const void* packed,
                                         const float* input, float* output, int oc_begin,
                                         int oc_end) {
  sparse_conv_phase_entry<VecAvx512, 8>(p, packed, input, output, oc_begin, oc_end);
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
