// gn-convert quantize (docs/converter.md, "quantize"): post-training int8 quantization of a float
// .gnrt model into a format 1.1 int8 .gnrt file. The float graph as the runtime decodes it is
// re-emitted with ModelBuilder: every tensor an operator reads (except softmax's) becomes uint8
// with the calibrated per-tensor parameters, every convolution int8 (per-output-channel
// symmetric weights, int32 bias), the fully connected layer int8 with float logits, softmax float.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "export/onnx_export.h"  // TensorRange, ActivationQuant, activation_quantization

namespace gnrt {
struct Model;
}

namespace gnconvert {

// The uint8 parameters of every tensor of `model` for a format 1.1 file: activation_quantization
// with every pool (max, average, global average) sharing one range between its input and output,
// as format 1.1 requires; tensors that no int8 operator touches (softmax in/out, logits) keep
// scale 1 / zero point 0 and are left float by the builder.
std::vector<ActivationQuant> int8_activation_quantization(const gnrt::Model& model,
                                                          const std::vector<TensorRange>& ranges);

// Stored bytes of one int8 layer's weights as libgnrt's loader counts them (WeightRef::
// stored_bytes): dense rows + scales, or block-sparse values + gap-coded indices + row counts +
// scales. `weights` is the float OIHW matrix; a block is stored when any of its weights is nonzero.
std::size_t int8_weight_bytes(const std::vector<float>& weights, int rows, int in_per_group,
                              int kh, int kw, bool sparse, int block_size);

// The block size for a sparse int8 convolution: 4 when in_per_group is a multiple of 4 and the
// 1x4 blocks take fewer stored bytes than single weights, else 1.
int choose_block_size(const std::vector<float>& weights, int rows, int in_per_group, int kh,
                      int kw);

struct QuantizeSettings {
  std::string description;     // the int8 file's metadata description
  float test_accuracy = -1.0f;  // the int8 file's metadata test_accuracy (-1: unknown)
};

// The int8 .gnrt bytes for the float `model` with activation parameters `quant` (indexed like
// model.tensors). Throws std::runtime_error for a model that is already int8, an operator order
// the int8 format cannot express, or parameters the builder refuses (its message).
std::vector<std::uint8_t> build_int8_model(const gnrt::Model& model,
                                           const std::vector<ActivationQuant>& quant,
                                           const QuantizeSettings& settings);

}  // namespace gnconvert
