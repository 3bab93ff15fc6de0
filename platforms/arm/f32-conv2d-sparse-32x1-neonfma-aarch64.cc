// Sparse direct convolution, A64 NEON with FMA. Tile: 32 output positions (8 q registers of
// accumulators, 8 of inputs) x 1 output channel; per nonzero one pointer advance, one weight
// broadcast, eight loads, eight FMLA.
#if !defined(__aarch64__)
#error "A64 only"
#endif

#include "arm/neon_kernels.h"
#include "arm/neon_mac.h"
#include "arm/sparse_neon_impl.h"

namespace gnrt {
namespace kernels {
void f32_conv2d_sparse_32x1__neonfma_aarch64(const ConvProblem& problem, const void* packed,
                                             const float* input, float* output, int oc_begin,
                                             int oc_end) {
  arm::conv_sparse_run<arm::MacFma, 8, 4>(problem, packed, input, output, oc_begin, oc_end);
}

}  // namespace kernels
}  // namespace gnrt
