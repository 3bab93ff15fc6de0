// int8 sparse convolution, stride 1, ARMv7 NEON (-mfpu=neon): qs8_s1f_neon_impl.h with MlalDot
// (VMOVL.U8, VMLAL.S16 into 4 int32 lanes per position, VPADD once per tile) and the armv7
// requantization (round half to even by adding 1.5 * 2^23: ARMv7 NEON has no rounding
// conversion). Tiles of 8 positions (2 vectors, 8 accumulator registers of the 16) x the 4
// channels of a group.
#include "arm/neon_kernels.h"
#include "arm/qs8_s1f_neon_impl.h"

namespace gnrt {
namespace kernels {

bool qs8_conv2d_sparse_s1f_8x4__neon_armv7_supports(const QConvProblem& p) {
  return qconv_s1_flat_fits(p);
}

void qs8_conv2d_sparse_s1f_8x4__neon_armv7(const QConvProblem& p, const void* packed,
                                           const std::uint8_t* input, std::uint8_t* output,
                                           int oc_begin, int oc_end) {
  s1f_neon::run<s1f_neon::MlalDot, 2>(p, packed, input, output, oc_begin, oc_end);
}

}  // namespace kernels
}  // namespace gnrt
