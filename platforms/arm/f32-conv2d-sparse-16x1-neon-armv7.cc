// Sparse direct convolution, ARMv7 NEON without FMA (VMLA). Tile: 16 output positions (4 q
// registers of accumulators) x 1 output channel: with 16 q registers, 4 accumulators + 4 loaded
// inputs + the broadcast weight leave room for the compiler's schedule. Built with -mfpu=neon.
#if !defined(__arm__) || defined(__aarch64__)
#error "AArch32 only"
#endif

#include "arm/neon_kernels.h"
#include "arm/neon_mac.h"
#include "arm/sparse_neon_impl.h"

namespace gnrt {
namespace kernels {
void f32_conv2d_sparse_16x1__neon_armv7(const ConvProblem& problem, const void* packed,
                                        const float* input, float* output, int oc_begin,
                                        int oc_end) {
  arm::conv_sparse_run<arm::MacMla, 4, 4>(problem, packed, input, output, oc_begin, oc_end);
}

}  // namespace kernels
}  // namespace gnrt
