// Output-size rules shared by the model writer and the runtime (one definition, two users).
// Arithmetic in 64 bits so that no value from a file can overflow.
#pragma once

#include <cstdint>

namespace gnrt {
namespace shape_rules {

// Convolution: floor((in + pads - dilation * (kernel - 1) - 1) / stride) + 1, or 0 if the
// effective kernel does not fit.
inline std::int64_t conv_out(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                             std::int64_t pad_before, std::int64_t pad_after,
                             std::int64_t dilation) {
  const std::int64_t span = in + pad_before + pad_after - (dilation * (kernel - 1) + 1);
  if (span < 0 || stride <= 0) return 0;
  return span / stride + 1;
}

// Pooling with optional ceil mode (PyTorch/Caffe): the last window must start inside the input or
// its leading padding.
inline std::int64_t pool_out(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                             std::int64_t pad_before, std::int64_t pad_after, bool ceil_mode) {
  const std::int64_t span = in + pad_before + pad_after - kernel;
  if (span < 0 || stride <= 0) return 0;
  std::int64_t out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  if (ceil_mode && (out - 1) * stride >= in + pad_before) --out;
  return out;
}

}  // namespace shape_rules
}  // namespace gnrt
