// Direct sparse convolution, stride 2, AVX-512: the per-output-row phase buffer of the s2p
// kernels with its rows aligned and shifted (sparse_conv_phase.h, "shift form"), run by the
// shifted-accumulator tiles of the s1g kernels (up to 8 vectors), so that every load from the
// buffer is aligned. Loop nest: sparse_conv_shift_impl.h.
#include "x86/kernels_x86.h"
#include "x86/sparse_conv_shift_impl.h"

namespace gnrt {
namespace kernels {
namespace x86 {

bool f32_conv2d_sparse_s2pg_128x1__avx512_supports(const ConvProblem& p) {
  return sparse_conv_phase_shift_supported(p);
}

void f32_conv2d_sparse_s2pg_128x1__avx512(const ConvProblem& p, const void* packed,
                                          const float* input, float* output, int oc_begin,
                                          int oc_end) {
  sparse_conv_phase_shift<8>(p, packed, input, output, oc_begin, oc_end);
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
