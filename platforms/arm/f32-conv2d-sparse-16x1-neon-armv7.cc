// Sparse direct convolution, ARMv7 NEON without FMA (VMLA). Tile: 16 output positions (4 q
// registers of accumulators) x 1 output channel: with 16 q registers, 4 accumulators + 4 loaded
// inputs + the broadcast weight leave room for the compiler's schedule. Built with -mfpu=neon.
#if !defined(__arm__) || defined(__aarch64__)
#error "AArch32 only"
#endif

#include "arm/neon_kernels.h"
#include "arm/sparse_neon_impl.h"

namespace gnrt {
namespace kernels {
namespace {

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

}  // namespace

void f32_conv2d_sparse_16x1__neon_armv7(const ConvProblem& problem, const void* packed,
                                        const float* input, float* output, int oc_begin,
                                        int oc_end) {
  arm::conv_sparse_run<MacMla, 4, 4>(problem, packed, input, output, oc_begin, oc_end);
}

}  // namespace kernels
}  // namespace gnrt
