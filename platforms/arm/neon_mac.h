// The multiply-accumulate policies of the NEON kernels (the Mac template parameter of
// sparse_neon_impl.h): MacFma (fused, A64 or ARMv7 VFPv4) and MacMla (ARMv7 VMLA: rounded
// product, then add). Only NEON-flagged kernel files include this header; internal linkage so
// that files built with different -mfpu flags never share a definition. Also the vector helpers
// the NEON kernels share (horizontal_sum).
#pragma once

#include <arm_neon.h>

#include <cmath>

namespace gnrt {
namespace kernels {
namespace arm {
namespace {  // NOLINT(build/namespaces): internal linkage on purpose, see above

#if defined(__ARM_FEATURE_FMA) || defined(__aarch64__)
struct MacFma {
  static float32x4_t mac(float32x4_t acc, float32x4_t x, float32x4_t w) {
    return vfmaq_f32(acc, x, w);
  }
  template <int kLane>
  static float32x4_t mac_lane(float32x4_t acc, float32x4_t x, float32x4_t w4) {
#if defined(__aarch64__)
    return vfmaq_laneq_f32(acc, x, w4, kLane);
#else
    // AArch32 VFMA has no by-scalar form: broadcast the lane (once per nonzero, the compiler
    // hoists it out of the per-vector loop).
    return vfmaq_f32(acc, x,
                     vdupq_lane_f32(kLane < 2 ? vget_low_f32(w4) : vget_high_f32(w4), kLane & 1));
#endif
  }
  static float mac_scalar(float acc, float x, float w) { return std::fma(x, w, acc); }
};
#endif

#if defined(__arm__) && !defined(__aarch64__)
struct MacMla {
  static float32x4_t mac(float32x4_t acc, float32x4_t x, float32x4_t w) {
    return vmlaq_f32(acc, x, w);
  }
  template <int kLane>
  static float32x4_t mac_lane(float32x4_t acc, float32x4_t x, float32x4_t w4) {
    // VMLA has a by-scalar form that takes a lane of a d register.
    return vmlaq_lane_f32(acc, x, kLane < 2 ? vget_low_f32(w4) : vget_high_f32(w4), kLane & 1);
  }
  static float mac_scalar(float acc, float x, float w) { return acc + x * w; }
};
#endif

// The sum of the four lanes (AArch32 has no across-vector add).
inline float horizontal_sum(float32x4_t v) {
#if defined(__aarch64__)
  return vaddvq_f32(v);
#else
  const float32x2_t pair = vadd_f32(vget_low_f32(v), vget_high_f32(v));
  return vget_lane_f32(vpadd_f32(pair, pair), 0);
#endif
}

}  // namespace
}  // namespace arm
}  // namespace kernels
}  // namespace gnrt
