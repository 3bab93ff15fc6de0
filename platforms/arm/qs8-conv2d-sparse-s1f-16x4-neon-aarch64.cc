// int8 sparse convolution, stride 1, A64 Advanced SIMD without the dot-product extension
// (ARMv8.0 cores: Cortex-A53/A57/A72): qs8_s1f_neon_impl.h with MlalDot, each position's 4
// activation bytes widened (UXTL) and multiplied by the entry's 4 int16 weights into 4 int32
// lanes (SMLAL), the lanes summed once per tile (ADDP). Tiles of 16 positions (4 vectors, 16
// accumulator registers) x the 4 channels of a group.
#include "arm/neon_kernels.h"
#include "arm/qs8_s1f_neon_impl.h"

namespace gnrt {
namespace kernels {

bool qs8_conv2d_sparse_s1f_16x4__neon_aarch64_supports(const QConvProblem& p) {
  return qconv_s1_flat_fits(p);
}

void qs8_conv2d_sparse_s1f_16x4__neon_aarch64(const QConvProblem& p, const void* packed,
                                              const std::uint8_t* input, std::uint8_t* output,
                                              int oc_begin, int oc_end) {
  s1f_neon::run<s1f_neon::MlalDot, 4>(p, packed, input, output, oc_begin, oc_end);
}

}  // namespace kernels
}  // namespace gnrt
