// The int8 (format 1.1) .gnrt graph computed in LibTorch the way libgnrt's int8 executor is
// specified to compute it (docs/converter.md, "quantize"): an independent oracle of an int8 file,
// reading only what the file stores (uint8 tensor scales and zero points, int8 weights with their
// per-channel scales, int32 biases), through the runtime's own decoder (runtime/src/model.h).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace gnrt {
struct Model;
struct OpDesc;
}  // namespace gnrt

namespace gnconvert {

// The int8 weights of an int8 Conv2D / FullyConnected as a dense [rows][row_length] matrix of
// q values (OIHW / [out][in], zeros where nothing is stored), decoded from the file's dense or
// block-sparse rows (indices_u8/u16/u32 or gap-coded indices_delta). Throws std::runtime_error
// when the operator has no int8 weights.
std::vector<std::int8_t> dense_int8_weights(const gnrt::OpDesc& op);

// Every tensor of the graph for a batch of float inputs [N, C, H, W] (preprocessed as libgnrt
// does, see preprocess_images): quantized tensors hold their uint8 values q (as float32 integers
// 0..255), float tensors (logits, softmax) their float values. Per operator:
//   input:  q = clamp(round_half_even(x / s) + z, 0, 255)
//   conv:   acc = bias_i32[o] + sum q_w * (q_in - z_in)   (exact int32; padding reads z_in)
//           q = clamp(round_half_even(clamp(float(acc) * m[o], -512, 512)) + z_out, lo, 255),
//           m[o] = float(double(s_in) * double(s_w[o]) / double(s_out)), lo = z_out after ReLU
//           (platforms/include/gnrt/qkernels.h, the runtime's requantization)
//   max pool: on q (padding never wins); avg pool / GAP: round_half_even(sum of q / count),
//           padding taps counting as z_in when count_include_pad
//   concat: copies q; FC: logits = float(acc) * float(double(s_in) * double(s_w[o]));
//   softmax: float. A fused ReLU on a pool is max(q, z).
// Throws std::runtime_error for a model that is not int8 or an operator it cannot express.
std::vector<torch::Tensor> run_int8_graph_tensors(const gnrt::Model& int8_model,
                                                  const torch::Tensor& float_input);

// The float logits [N, classes] of the int8 graph: the input of the final Softmax, or the graph
// output when the graph does not end in a Softmax.
torch::Tensor run_int8_graph(const gnrt::Model& int8_model, const torch::Tensor& float_input);

// The same tensor (logits) picked out of any graph's tensors, e.g. run_float_graph's.
torch::Tensor graph_logits(const gnrt::Model& model, const std::vector<torch::Tensor>& tensors);

}  // namespace gnconvert
