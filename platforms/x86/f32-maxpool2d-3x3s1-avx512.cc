// Max pooling 3x3 stride 1 on the zero-border fast path (nonnegative input), avx512: one vector of
// output columns per strip, horizontal row maxima kept in registers down the strip. Loop nest and
// preconditions: pool_impl.h.
#include "x86/kernels_x86.h"
#include "x86/pool_impl.h"
#include "x86/vec_avx512.h"

namespace gnrt {
namespace kernels {
namespace x86 {

bool f32_maxpool2d_3x3s1__avx512_supports(const PoolProblem& p) {
  return maxpool3x3_supported(p, 1);
}

void f32_maxpool2d_3x3s1__avx512(const PoolProblem& p, const float* input, float* output,
                                 int c_begin, int c_end) {
  maxpool3x3_entry<VecAvx512, 1>(p, input, output, c_begin, c_end);
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
