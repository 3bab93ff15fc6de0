// Global average pooling, avx2: per channel, vector sums over the interior rows (masked row
// tails, nothing outside the interior read) and one horizontal sum. Loop nest: pool_impl.h.
#include "x86/kernels_x86.h"
#include "x86/pool_impl.h"
#include "x86/vec_avx2.h"

namespace gnrt {
namespace kernels {
namespace x86 {

bool f32_global_avgpool__avx2_supports(const PoolProblem& p) { return global_avgpool_supported(p); }

void f32_global_avgpool__avx2(const PoolProblem& p, const float* input, float* output, int c_begin,
                              int c_end) {
  global_avgpool_channels<VecAvx2>(p, input, output, c_begin, c_end);
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
