// Per-layer details of a .gnrt file for `gnrt info` (and the output kind for `gnrt run`). The C API
// deliberately exposes no per-layer weights, so this module reads the file with the runtime's own
// loader (runtime/src/model.h: FlatBuffer verification, full semantic validation, decoded
// operators and weights) and describes what it decoded; only the metadata the runtime does not
// decode (description, producer, pruning summary) is read from the verified FlatBuffer root.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gnrt::cli {

struct LayerDetails {
  int index = 0;
  std::string name;
  std::string type;        // Conv2D, MaxPool, AvgPool, GlobalAvgPool, Concat, FullyConnected,
                           // Softmax (gnrt::op_type_name)
  std::string window;      // "7x7/2" for convolutions and pools, "global", or "-"
  std::string activation;  // "relu" or "-"
  std::vector<std::vector<int>> input_shapes;  // NCHW at the default size
  std::vector<int> output_shape;
  bool has_weights = false;
  std::uint64_t params_dense = 0;  // elements of the weight tensor if stored dense
  std::uint64_t nonzeros = 0;      // stored entries (sparse) or nonzero elements (dense)
  std::uint64_t bytes = 0;         // bytes of weight values, indices, counts and bias
  std::string weight_layout;       // "dense", "sparse_rows" or "-"
  std::string value_type;          // "float32", "float16", "int8" or "-"
  // What the operator computes in: "int8" (int8 weights on uint8 activations), "uint8" (pools
  // and concatenations of quantized tensors), "fp16" (float16 weights, float arithmetic) or "fp32".
  std::string precision;
  nlohmann::json attributes = nlohmann::json::object();  // kernel, stride, padding, ...
};

struct ModelDetails {
  std::uint32_t format_version = 0;  // major * 1000 + minor
  std::string description;
  std::string producer;
  bool has_pruning = false;
  std::uint64_t params_dense_training = 0, nonzeros_training = 0;
  std::uint64_t macs_dense = 0, macs_sparse = 0;
  int training_height = 0, training_width = 0;
  std::string pruning_method, pruning_recipe;
  // True when the first graph output is produced by a Softmax operator (it holds
  // probabilities); false when it holds logits.
  bool output_is_softmax = false;
  std::vector<LayerDetails> layers;
};

// Throws CliError with the loader's message when the bytes are not a valid model. (Callers load
// the file with the C API first, so this happens only when the file changed in between.)
ModelDetails inspect_model(const std::vector<std::uint8_t>& bytes, const std::string& name);

}  // namespace gnrt::cli
