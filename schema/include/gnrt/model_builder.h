// ModelBuilder: writes .gnrt files. Used by tests (models built in code), the benchmarks (random
// pruned GoogLeNet) and gn-convert's export. Host-side tool code: may throw std::invalid_argument
// on misuse (wrong sizes, unknown tensor ids); the runtime never links it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gnrt {

enum class WeightEncoding {
  kDense,   // store every element
  kSparse,  // store only nonzeros, per output channel
  kAuto,    // sparse when it is smaller on disk than dense
};

// kInt8 (format 1.1): symmetric per output channel, scale = max|w| / 127 (1 for an all-zero
// row), values round(w / scale) in [-127, 127]; zeros stay zero. Needs the layer's input tensor
// quantized (set_quantization) before the layer is added; a float bias becomes int32 at
// input_scale * scale[o]. Sparse int8 rows always use gap-coded indices (indices_delta).
enum class ValueStorage { kFloat32, kFloat16, kInt8 };

struct WeightOptions {
  WeightEncoding encoding = WeightEncoding::kAuto;
  ValueStorage storage = ValueStorage::kFloat32;
  // kInt8 sparse only: entries are blocks of this many consecutive input channels at one tap
  // (1, 2, 4 or 8; in_per_group must be a multiple). A block is stored when any of its float
  // weights is nonzero.
  int block_size = 1;
};

struct ConvParams {
  int out_channels = 0;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
  bool relu = false;
};

struct PoolParams {
  bool global = false;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  bool ceil_mode = false;
  bool count_include_pad = false;
  bool relu = false;
};

struct PruningInfo {
  std::uint64_t params_dense_training = 0;
  std::uint64_t nonzeros_training = 0;
  // Deployed-graph counts and MACs are computed by the builder from the weights it was given;
  // macs are computed at training_height x training_width when those are nonzero.
  int training_height = 0;
  int training_width = 0;
  std::string method;
  std::string recipe;
};

struct ModelMetadata {
  std::string name;
  std::string description;
  std::string producer = "gnrt ModelBuilder";
  std::vector<std::string> labels;
  std::vector<float> mean;  // per input channel; empty = 0
  std::vector<float> std;   // per input channel; empty = 1
  PruningInfo pruning;
  float test_accuracy = -1.0f;
};

// Output size of a convolution / pooling window along one axis (shared with the runtime's
// shape inference through identical formulas; see docs/format.md).
int conv_output_size(int in, int kernel, int stride, int pad_before, int pad_after, int dilation);
int pool_output_size(int in, int kernel, int stride, int pad_before, int pad_after, bool ceil_mode);

// Tensor ids returned by the builder index the model's tensor table.
using TensorId = int;

class ModelBuilder {
 public:
  ModelBuilder();
  ~ModelBuilder();
  ModelBuilder(const ModelBuilder&) = delete;
  ModelBuilder& operator=(const ModelBuilder&) = delete;

  // The graph input, NCHW with batch 1, at the model's default size.
  TensorId input(const std::string& name, int channels, int height, int width);

  // weights: OIHW dense, out_channels * (in_channels / groups) * kh * kw floats (zeros are the
  // pruned connections). bias: out_channels floats or empty.
  TensorId conv2d(const std::string& name, TensorId input, const ConvParams& params,
                  const std::vector<float>& weights, const std::vector<float>& bias,
                  const WeightOptions& options = {});
  TensorId max_pool(const std::string& name, TensorId input, const PoolParams& params);
  TensorId avg_pool(const std::string& name, TensorId input, const PoolParams& params);
  TensorId concat(const std::string& name, const std::vector<TensorId>& inputs);
  // Input is flattened (C*H*W features). weights: [out_features][in_features].
  TensorId fully_connected(const std::string& name, TensorId input, int out_features,
                           const std::vector<float>& weights, const std::vector<float>& bias,
                           bool relu = false, const WeightOptions& options = {});
  TensorId softmax(const std::string& name, TensorId input, float beta = 1.0f);

  void set_metadata(const ModelMetadata& metadata);

  // Format 1.1: makes `tensor` a uint8 tensor, real = scale * (q - zero_point). scale finite and
  // positive, zero_point in [0, 255] (std::invalid_argument otherwise). Set a layer's input
  // before adding an int8 layer that reads it; the rest may be set any time before finish().
  // A model with any quantized tensor is written as format 1.1, otherwise as 1.0.
  void set_quantization(TensorId tensor, float scale, int zero_point);

  // Shape (NCHW) of a tensor at the default size.
  std::vector<int> shape(TensorId tensor) const;

  // Serializes with `outputs` as the graph outputs. The builder can be finished once.
  std::vector<std::uint8_t> finish(const std::vector<TensorId>& outputs);

  // Totals over conv/FC layers added so far.
  std::uint64_t params_dense() const;
  std::uint64_t nonzeros() const;

 private:
  struct Impl;
  TensorId add_pool(const std::string& name, TensorId input, const PoolParams& params, bool max);
  Impl* impl_;
};

// Writes bytes to `path` atomically (temporary file + rename). Throws std::runtime_error.
void write_file_atomic(const std::string& path, const std::vector<std::uint8_t>& bytes);

}  // namespace gnrt
