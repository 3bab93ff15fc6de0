// Loaded model: the verified FlatBuffer (read in place) plus a decoded, validated operator list.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "gnrt/gnrt_generated.h"
#include "status.h"

namespace gnrt {

enum class OpType {
  kConv2D,
  kMaxPool,
  kAvgPool,
  kGlobalAvgPool,
  kConcat,
  kFullyConnected,
  kSoftmax
};

const char* op_type_name(OpType type);

// A weight matrix as stored in the file: `rows` rows of `row_length` entries, dense or sparse,
// float32 or float16. Pointers point into the model bytes.
struct WeightRef {
  int rows = 0;
  int row_length = 0;
  bool sparse = false;
  bool float16 = false;
  const float* values_f32 = nullptr;
  const std::uint16_t* values_f16 = nullptr;
  std::size_t value_count = 0;
  const std::uint32_t* row_nonzeros = nullptr;  // rows entries (sparse)
  const std::uint8_t* indices_u8 = nullptr;     // one of the three (sparse)
  const std::uint16_t* indices_u16 = nullptr;
  const std::uint32_t* indices_u32 = nullptr;
  std::uint64_t nonzeros = 0;  // stored nonzeros (sparse) or nonzero values (dense)
  std::size_t stored_bytes = 0;
};

struct OpDesc {
  OpType type;
  std::string name;
  std::vector<int> inputs;
  int output = -1;
  bool relu = false;
  // Conv2D / pools
  int kernel_h = 1, kernel_w = 1, stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0, pad_bottom = 0, pad_right = 0;
  int dilation_h = 1, dilation_w = 1;
  int groups = 1;
  int out_channels = 0;  // Conv2D and FullyConnected (out_features)
  bool ceil_mode = false;
  bool count_include_pad = false;
  // Conv2D / FullyConnected
  WeightRef weights;
  const float* bias = nullptr;  // out_channels entries or nullptr
  // Softmax
  float beta = 1.0f;
};

struct TensorDesc {
  std::string name;
  int channels = 0;
  int default_height = 0;
  int default_width = 0;
  int producer = -1;  // operator index, -1 for the graph input
};

// Limits that bound everything derived from numbers in a file.
constexpr int kMaxTensors = 1 << 13;  // planning is quadratic in these; GoogLeNet has 74
constexpr int kMaxOperators = 1 << 13;
constexpr int kMaxChannels = 1 << 16;
constexpr int kMaxSpatial = 1 << 14;
constexpr int kMaxKernel = 64;
constexpr int kMaxStride = 64;
constexpr int kMaxConcatInputs = 1024;

struct Model {
  // Model bytes: either caller-owned or a private mapping this object unmaps.
  const std::uint8_t* data = nullptr;
  std::size_t size = 0;
  void* mapping = nullptr;
  std::size_t mapping_size = 0;

  const fb::Model* root = nullptr;
  std::vector<TensorDesc> tensors;
  std::vector<OpDesc> ops;
  int input = -1;
  std::vector<int> outputs;

  std::string name;
  int input_channels = 0;
  int default_height = 0;
  int default_width = 0;
  std::vector<const char*>
      labels;  // point into the buffer (FlatBuffers strings are NUL-terminated)
  std::vector<float> mean, std_dev;
  std::uint64_t params_dense = 0;
  std::uint64_t nonzeros = 0;
  std::uint64_t params_dense_training = 0;
  std::uint64_t nonzeros_training = 0;
  float test_accuracy = -1.0f;

  ~Model();
};

// Verifies and decodes `size` bytes at `data` (not copied; must outlive the model).
Status load_model(const void* data, std::size_t size, Model* model);
// Maps `path` read-only and loads it.
Status load_model_file(const char* path, Model* model);

}  // namespace gnrt
