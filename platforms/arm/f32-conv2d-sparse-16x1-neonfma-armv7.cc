// Sparse direct convolution, ARMv7 NEON with VFPv4 fused multiply-add (VFMA). Same tile as the
// VMLA variant; built with -mfpu=neon-vfpv4 and chosen only when AT_HWCAP has HWCAP_VFPv4.
#if !defined(__arm__) || defined(__aarch64__)
#error "AArch32 only"
#endif
#if !defined(__ARM_FEATURE_FMA)
#error "needs -mfpu=neon-vfpv4 (set per file in platforms/arm/kernels.cmake)"
#endif

#include "arm/neon_kernels.h"
#include "arm/neon_mac.h"
#include "arm/sparse_neon_impl.h"

namespace gnrt {
namespace kernels {
void f32_conv2d_sparse_16x1__neonfma_armv7(const ConvProblem& problem, const void* packed,
                                           const float* input, float* output, int oc_begin,
                                           int oc_end) {
  arm::conv_sparse_run<arm::MacFma, 4, 4>(problem, packed, input, output, oc_begin, oc_end);
}

}  // namespace kernels
}  // namespace gnrt
