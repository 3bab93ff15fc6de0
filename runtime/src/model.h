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
// float32, float16 or int8 (format 1.1). Pointers point into the model bytes.
//
// Sparse rows hold entries of `block_size` weights (consecutive input channels at one tap; 1
// except for int8): `row_nonzeros[o]` entries per row, each with an index below
// `row_entries()` (((ic / block_size) * kh + ky) * kw + kx) and `block_size` values. The
// indices are absolute (indices_u8/u16/u32) or gap-coded (indices_delta, int8 only; see
// schema/gnrt.fbs), exactly one of the four.
struct WeightRef {
  int rows = 0;
  int row_length = 0;  // weights per row: in_per_group * kh * kw
  bool sparse = false;
  bool float16 = false;
  bool int8 = false;
  const float* values_f32 = nullptr;
  const std::uint16_t* values_f16 = nullptr;
  const std::int8_t* values_i8 = nullptr;  // in [-127, 127]
  const float* scales = nullptr;           // int8: rows entries, finite and positive
  std::size_t value_count = 0;
  int block_size = 1;
  const std::uint32_t* row_nonzeros = nullptr;  // rows entries (sparse): entries per row
  const std::uint8_t* indices_u8 = nullptr;     // one of the four (sparse)
  const std::uint16_t* indices_u16 = nullptr;
  const std::uint32_t* indices_u32 = nullptr;
  const std::uint8_t* indices_delta = nullptr;
  std::size_t indices_delta_count = 0;  // bytes of indices_delta (entries plus escapes)
  std::uint64_t nonzeros = 0;  // stored weights (sparse: entries * block_size) or nonzero values
  std::size_t stored_bytes = 0;
  int row_entries() const { return row_length / block_size; }
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
  // int8 Conv2D / FullyConnected (format 1.1): out_channels entries at scale
  // input_scale * weights.scales[o], or nullptr (zero). `bias` is then nullptr.
  const std::int32_t* bias_i32 = nullptr;
  // Softmax
  float beta = 1.0f;
};

struct TensorDesc {
  std::string name;
  int channels = 0;
  int default_height = 0;
  int default_width = 0;
  int producer = -1;  // operator index, -1 for the graph input
  // Format 1.1: a uint8 tensor, real = scale * (q - zero_point); float32 when !quantized.
  bool quantized = false;
  float scale = 0.0f;
  int zero_point = 0;
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
  bool int8 = false;  // some tensor is quantized (format 1.1)

  ~Model();
};

// Verifies and decodes `size` bytes at `data` (not copied; must outlive the model).
Status load_model(const void* data, std::size_t size, Model* model);
// Maps `path` read-only and loads it.
Status load_model_file(const char* path, Model* model);

}  // namespace gnrt
