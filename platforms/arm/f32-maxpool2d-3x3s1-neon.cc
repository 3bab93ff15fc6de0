// 3x3 max pooling, stride 1, NEON (aarch64 and armv7): strips of 8 output columns, horizontal
// row maxima reused down the strip (pool_neon_impl.h). Needs a nonnegative input.
#include "arm/neon_kernels.h"
#include "arm/pool_neon_impl.h"

namespace gnrt {
namespace kernels {

void f32_maxpool2d_3x3s1__neon(const PoolProblem& problem, const float* input, float* output,
                               int c_begin, int c_end) {
  arm::maxpool3x3_run<1>(problem, input, output, c_begin, c_end);
}

}  // namespace kernels
}  // namespace gnrt
