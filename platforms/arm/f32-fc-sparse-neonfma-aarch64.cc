// Sparse fully connected (matrix-vector), A64 NEON with FMA: per output, eight nonzeros per
// step gathered by lane loads into two accumulators.
#if !defined(__aarch64__)
#error "A64 only"
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
    return vfmaq_laneq_f32(acc, x, w4, kLane);
  }
  static float mac_scalar(float acc, float x, float w) { return std::fma(x, w, acc); }
};

}  // namespace

void f32_fc_sparse__neonfma_aarch64(const FcProblem& problem, const void* packed,
                                    const float* input, float* output, int o_begin, int o_end) {
  arm::fc_sparse_run<MacFma>(problem, packed, input, output, o_begin, o_end);
}

}  // namespace kernels
}  // namespace gnrt
