// Padding of the .gnrt graph's windows in LibTorch, shared by the float graph (onnx_calibration.cc)
// and the int8 graph (int8_graph.cc).
#pragma once

#include <torch/torch.h>

#include "model.h"  // the runtime's decoder (gnrt_runtime_internals)

namespace gnconvert {

// Whether PyTorch's own (symmetric) padding expresses the operator's.
inline bool symmetric_padding(const gnrt::OpDesc& op) {
  return op.pad_top == op.pad_bottom && op.pad_left == op.pad_right &&
         2 * op.pad_top <= op.kernel_h && 2 * op.pad_left <= op.kernel_w;
}

// x [N, C, H, W] padded as the operator pads its input, with `value`.
inline torch::Tensor pad(const torch::Tensor& x, const gnrt::OpDesc& op, double value) {
  return torch::constant_pad_nd(x, {op.pad_left, op.pad_right, op.pad_top, op.pad_bottom}, value);
}

}  // namespace gnconvert
