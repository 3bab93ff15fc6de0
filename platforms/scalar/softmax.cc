// Reference softmax, stable for large inputs: subtract the maximum before exponentiating.
#include <cassert>
#include <cmath>

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {

void f32_softmax__scalar(int n, const float* input, float* output, float beta) {
  assert(n >= 0);
  if (n == 0) return;
  // The maximum of beta * x (not of x) keeps every exponent <= 0 for any sign of beta.
  float max_value = beta * input[0];
  for (int i = 1; i < n; ++i) {
    const float scaled = beta * input[i];
    max_value = scaled > max_value ? scaled : max_value;
  }
  // Accumulate in double so that thousands of small terms do not lose precision.
  double sum = 0.0;
  for (int i = 0; i < n; ++i) {
    const float e = std::exp(beta * input[i] - max_value);
    output[i] = e;
    sum += e;
  }
  const float scale = static_cast<float>(1.0 / sum);
  for (int i = 0; i < n; ++i) output[i] *= scale;
}

}  // namespace kernels
}  // namespace gnrt
