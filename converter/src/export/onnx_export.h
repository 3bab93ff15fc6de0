// ONNX export of a deployed .gnrt graph (docs/onnx.md, "Export"): the model as the runtime's own
// decoder sees it (runtime/src/model.h), written as an ONNX opset-13 graph with dense weights
// (pruned weights are zeros), either in float32 or as a static QDQ int8 graph (int8 weights per
// output channel, uint8 activations per tensor, int32 biases, float32 logits/softmax).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gnrt {
struct Model;
}

namespace gnconvert {

// The observed range of one activation tensor over the calibration images (float32 values as the
// float graph computes them).
struct TensorRange {
  float min = 0.0f;
  float max = 0.0f;
  bool seen = false;
};

// uint8 affine quantization of one tensor: q = clamp(round(x / scale) + zero_point, 0, 255).
struct ActivationQuant {
  float scale = 1.0f;
  std::uint8_t zero_point = 0;
};

struct OnnxExportSettings {
  std::string source_name;          // the .gnrt file name (metadata gnrt.source)
  bool int8 = false;                // QDQ graph; `ranges` then holds one range per gnrt tensor
  std::vector<TensorRange> ranges;  // indexed like gnrt::Model::tensors
  std::string calibration;          // one-line method description (metadata gnrt.calibration)
};

// The uint8 parameters of every gnrt tensor for the QDQ graph: each range widened to include 0
// (ONNX needs an exactly representable zero), then tensors that meet at a Concat (its inputs and
// its output) and the input and output of each MaxPool share one range, so the concatenation and
// the pooling are exact on the quantized values. With `all_pools` (the int8 .gnrt file of
// gn-convert quantize, whose format requires it) average and global average pools share their
// input's range too. Throws when a tensor that needs a scale has no range.
std::vector<ActivationQuant> activation_quantization(const gnrt::Model& model,
                                                     const std::vector<TensorRange>& ranges,
                                                     bool all_pools = false);

// The serialized ONNX model. Throws std::runtime_error for operators or attributes ONNX cannot
// express the same way (named).
std::string export_onnx(const gnrt::Model& model, const OnnxExportSettings& settings);

}  // namespace gnconvert
