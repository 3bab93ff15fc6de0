// Sparse direct convolution, ARMv7 NEON with VFPv4 fused multiply-add (VFMA). Same tile as the
// VMLA variant; built with -mfpu=neon-vfpv4 and chosen only when AT_HWCAP has HWCAP_VFPv4.
#if !defined(__arm__) || defined(__aarch64__)
#error "AArch32 only"
#endif
#if !defined(__ARM_FEATURE_FMA)
#error "needs -mfpu=neon-vfpv4 (set per file in platforms/arm/kernels.cmake)"
#endif

#include <cmath>

#include "arm/neon_kernels.h"
#include "arm/sparse_neon_impl.h"

namespace gnrt {
namespace kernels {
namespace {

struct MacFma {
  static float32x4_t mac(float32x4_t acc, float32x4_t x, float32x4_t w) {
    return vfmaq_f32(acc, x, w);
  }
  template <int kLane>
  static float32x4_t mac_lane(float32x4_t acc, float32x4_t x, float32x4_t w4) {
    // AArch32 VFMA has no by-scalar form: broadcast the lane (once per nonzero, the compiler
    // hoists it out of the per-vector loop).
    return vfmaq_f32(acc, x,
                     vdupq_lane_f32(kLane < 2 ? vget_low_f32(w4) : vget_high_f32(w4), kLane & 1));
  }
  static float mac_scalar(float acc, float x, float w) { return std::fma(x, w, acc); }
};

}  // namespace

void f32_conv2d_sparse_16x1__neonfma_armv7(const ConvProblem& problem, const void* packed,
                                           const float* input, float* output, int oc_begin,
                                           int oc_end) {
  arm::conv_sparse_run<MacFma, 4, 4>(problem, packed, input, output, oc_begin, oc_end);
}

}  // namespace kernels
}  // namespace gnrt
