// Reference fully connected layers (dense and CSR sparse matrix-vector products).
#include <cassert>
#include <cstddef>

#include "gnrt/kernels.h"
#include "scalar/activation.h"

namespace gnrt {
namespace kernels {

using scalar::activate;

void f32_fc_dense__scalar(int in_features, int out_features, const float* input,
                          const float* weights, const float* bias, float* output,
                          Activation activation, int o_begin, int o_end) {
  assert(0 <= o_begin && o_begin <= o_end && o_end <= out_features);
  (void)out_features;
  for (int o = o_begin; o < o_end; ++o) {
    const float* row = weights + static_cast<std::ptrdiff_t>(o) * in_features;
    float sum = bias != nullptr ? bias[o] : 0.0f;
    for (int i = 0; i < in_features; ++i) sum += row[i] * input[i];
    output[o] = activate(sum, activation);
  }
}

void f32_fc_sparse__scalar(int in_features, int out_features, const float* input,
                           const SparseRows& weights, const float* bias, float* output,
                           Activation activation, int o_begin, int o_end) {
  assert(0 <= o_begin && o_begin <= o_end && o_end <= out_features);
  (void)in_features;
  (void)out_features;
  for (int o = o_begin; o < o_end; ++o) {
    float sum = bias != nullptr ? bias[o] : 0.0f;
    for (std::uint32_t n = weights.row_begin[o]; n < weights.row_begin[o + 1]; ++n) {
      assert(weights.indices[n] < static_cast<std::uint32_t>(in_features));
      sum += weights.values[n] * input[weights.indices[n]];
    }
    output[o] = activate(sum, activation);
  }
}

}  // namespace kernels
}  // namespace gnrt
