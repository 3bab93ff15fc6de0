// The activation every reference kernel applies to its outputs.
#pragma once

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {
namespace scalar {

inline float activate(float value, Activation activation) {
  if (activation == Activation::kRelu && value < 0.0f) return 0.0f;
  return value;
}

}  // namespace scalar
}  // namespace kernels
}  // namespace gnrt
