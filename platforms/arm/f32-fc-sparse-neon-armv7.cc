// Sparse fully connected (matrix-vector), ARMv7 NEON (VMLA): per output, eight nonzeros per
// step gathered by lane loads into two accumulators. Built with -mfpu=neon.
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

void f32_fc_sparse__neon_armv7(const FcProblem& problem, const void* packed, const float* input,
                               float* output, int o_begin, int o_end) {
  arm::fc_sparse_run<MacMla>(problem, packed, input, output, o_begin, o_end);
}

}  // namespace kernels
}  // namespace gnrt
