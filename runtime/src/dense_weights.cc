#include "dense_weights.h"

#include <cstddef>

#include "gnrt/half.h"

namespace gnrt {

double DenseWeights::density() const {
  return values.empty() ? 0.0 : static_cast<double>(nonzeros) / static_cast<double>(values.size());
}

DenseWeights dense_weights(const WeightRef& w) {
  DenseWeights out;
  const std::size_t row_length = static_cast<std::size_t>(w.row_length);
  out.values.assign(static_cast<std::size_t>(w.rows) * row_length, 0.0f);
  out.nonzeros = w.nonzeros;
  auto value = [&](std::size_t i) {
    return w.float16 ? half_to_float(w.values_f16[i]) : w.values_f32[i];
  };
  if (!w.sparse) {
    for (std::size_t i = 0; i < w.value_count; ++i) out.values[i] = value(i);
    return out;
  }
  std::size_t entry = 0;
  for (std::size_t row = 0; row < static_cast<std::size_t>(w.rows); ++row) {
    for (std::uint32_t k = 0; k < w.row_nonzeros[row]; ++k, ++entry) {
      const std::size_t index = w.indices_u8    ? w.indices_u8[entry]
                                : w.indices_u16 ? w.indices_u16[entry]
                                                : w.indices_u32[entry];
      out.values[row * row_length + index] = value(entry);
    }
  }
  return out;
}

std::vector<float> bias_or_zeros(const OpDesc& op) {
  std::vector<float> bias(static_cast<std::size_t>(op.out_channels), 0.0f);
  if (op.bias != nullptr) bias.assign(op.bias, op.bias + op.out_channels);
  return bias;
}

}  // namespace gnrt
