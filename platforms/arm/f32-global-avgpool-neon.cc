// Global average pooling, NEON (aarch64 and armv7): eight lanes per step per row.
#include "arm/neon_kernels.h"
#include "arm/pool_neon_impl.h"

namespace gnrt {
namespace kernels {

void f32_global_avgpool__neon(const PoolProblem& problem, const float* input, float* output,
                              int c_begin, int c_end) {
  arm::global_avgpool_run(problem, input, output, c_begin, c_end);
}

}  // namespace kernels
}  // namespace gnrt
