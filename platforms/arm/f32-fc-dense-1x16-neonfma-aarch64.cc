// Dense fully connected (matrix-vector), A64 NEON with FMA: per output, 16 inputs per step into
// four accumulators. Packed: bias[out], then the weights [out][in] (sparse weights expanded).
// It takes exactly the problems of the sparse kernel listed before it, which the selector always
// prefers on ARM (no measured crossover, docs/arm.md): the tests and bench_kernels_timed run it,
// selection never reaches it.
#if !defined(__aarch64__)
#error "A64 only"
#endif

#include <arm_neon.h>

#include <cmath>
#include <cstring>

#include "arm/neon_kernels.h"
#include "arm/sparse_pack.h"
#include "select_internal.h"

namespace gnrt {
namespace kernels {

bool f32_fc_dense_1x16__neonfma_aarch64_supports(const FcProblem& problem) {
  return arm::fc_sparse_supported(problem);
}

std::size_t f32_fc_dense_1x16__neonfma_aarch64_packed_bytes(const FcProblem& problem) {
  const std::size_t out = static_cast<std::size_t>(problem.out_features);
  return internal::align64(out * sizeof(float)) +
         internal::align64(out * static_cast<std::size_t>(problem.in_features) * sizeof(float));
}

void f32_fc_dense_1x16__neonfma_aarch64_pack(const FcProblem& problem, void* packed) {
  const std::size_t out = static_cast<std::size_t>(problem.out_features);
  auto* bias = static_cast<float*>(packed);
  if (problem.bias != nullptr) {
    std::memcpy(bias, problem.bias, out * sizeof(float));
  } else {
    std::memset(bias, 0, out * sizeof(float));
  }
  internal::expand_fc_weights(problem,
                              bias + internal::align64(out * sizeof(float)) / sizeof(float));
}

void f32_fc_dense_1x16__neonfma_aarch64(const FcProblem& problem, const void* packed,
                                        const float* input, float* output, int o_begin, int o_end) {
  const int in = problem.in_features;
  const auto* bias = static_cast<const float*>(packed);
  const float* weights =
      bias + internal::align64(static_cast<std::size_t>(problem.out_features) * sizeof(float)) /
                 sizeof(float);
  for (int o = o_begin; o < o_end; ++o) {
    const float* w = weights + static_cast<std::size_t>(o) * in;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    float32x4_t acc2 = vdupq_n_f32(0.0f), acc3 = vdupq_n_f32(0.0f);
    int i = 0;
    for (; i + 16 <= in; i += 16) {
      acc0 = vfmaq_f32(acc0, vld1q_f32(input + i), vld1q_f32(w + i));
      acc1 = vfmaq_f32(acc1, vld1q_f32(input + i + 4), vld1q_f32(w + i + 4));
      acc2 = vfmaq_f32(acc2, vld1q_f32(input + i + 8), vld1q_f32(w + i + 8));
      acc3 = vfmaq_f32(acc3, vld1q_f32(input + i + 12), vld1q_f32(w + i + 12));
    }
    for (; i + 4 <= in; i += 4) acc0 = vfmaq_f32(acc0, vld1q_f32(input + i), vld1q_f32(w + i));
    float sum = vaddvq_f32(vaddq_f32(vaddq_f32(acc0, acc1), vaddq_f32(acc2, acc3))) + bias[o];
    for (; i < in; ++i) sum = std::fma(input[i], w[i], sum);
    if (problem.activation == Activation::kRelu && sum < 0.0f) sum = 0.0f;
    output[o] = sum;
  }
}

}  // namespace kernels
}  // namespace gnrt
