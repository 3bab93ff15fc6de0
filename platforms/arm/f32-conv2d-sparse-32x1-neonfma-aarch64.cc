// Sparse direct convolution, A64 NEON with FMA. Tile: 32 output positions (8 q registers of
// accumulators, 8 of inputs) x 1 output channel; per nonzero one pointer advance, one weight
// broadcast, eight loads, eight FMLA.
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

void f32_conv2d_sparse_32x1__neonfma_aarch64(const ConvProblem& problem, const void* packed,
                                             const float* input, float* output, int oc_begin,
                                             int oc_end) {
  arm::conv_sparse_run<MacFma, 8, 4>(problem, packed, input, output, oc_begin, oc_end);
}

}  // namespace kernels
}  // namespace gnrt
