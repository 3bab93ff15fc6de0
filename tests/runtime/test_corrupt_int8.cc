// The loader on broken format 1.1 (int8) fields: a one-convolution int8 model written with the
// raw FlatBuffers API, so that every new field can be broken on its own. Each break must be
// refused by gnrt_model_load_buffer with GNRT_INVALID_MODEL and a message naming the problem
// (docs/format.md, "Format 1.1: int8"), before anything is planned or run. A libgnrt built with
// GNRT_INT8=OFF refuses even the valid model, with GNRT_UNSUPPORTED.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "gnrt/gnrt.h"
#include "gnrt/gnrt_generated.h"

namespace fb = gnrt::fb;

namespace {

// input [1, 8, 5, 5] uint8 -> 3x3 convolution, pad 1, ReLU, 4 output channels, int8 weights in
// 1x4 blocks (row length (8 / 4) * 9 = 18 entries), gap-coded indices -> output [1, 4, 5, 5] uint8.
struct RawQConv {
  float in_scale = 0.02f, out_scale = 0.05f;
  int in_zero = 10, out_zero = 0;
  bool quantize_input = true, quantize_output = true;
  int in_c = 8;
  int block_size = 4;
  std::vector<std::uint32_t> row_nonzeros{2, 1, 0, 1};
  // row 0: entries 0 and 17; row 1: entry 4; row 3: entry 9.
  std::vector<std::uint8_t> delta{1, 17, 5, 10};
  std::vector<std::int8_t> values{1, -2, 3, 4, 5, 6, -7, 8, -9, 10, 11, 12, 13, -14, 15, 127};
  std::vector<float> scales{0.01f, 0.02f, 0.03f, 0.04f};
  std::vector<std::int32_t> bias_i32{100, -50, 0, 7};
  std::vector<float> float_bias;    // non-empty: a float bias besides (or instead of) bias_i32
  std::vector<float> float_values;  // non-empty: values_f32 besides values_i8
  bool with_bias_i32 = true;
  bool with_scales = true;

  std::vector<std::uint8_t> build() const {
    flatbuffers::FlatBufferBuilder b;
    auto shape = b.CreateVector(std::vector<int>{4, in_c, 3, 3});
    auto rows = b.CreateVector(row_nonzeros);
    auto deltas = b.CreateVector(delta);
    auto i8 = b.CreateVector(values);
    auto f32 = float_values.empty() ? 0 : b.CreateVector(float_values);
    auto sc = with_scales ? b.CreateVector(scales) : 0;
    auto weights = fb::CreateWeights(b, shape, fb::WeightLayout::SPARSE_ROWS, fb::ValueType::INT8,
                                     f32, 0, rows, 0, 0, 0, i8, sc, block_size, deltas);
    auto fbias = float_bias.empty() ? 0 : b.CreateVector(float_bias);
    auto ibias = with_bias_i32 ? b.CreateVector(bias_i32) : 0;
    auto conv = fb::CreateConv2DOptions(b, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, fb::Activation::RELU,
                                        weights, fbias, ibias);
    auto op = fb::CreateOperator(b, b.CreateString("conv"), b.CreateVector(std::vector<int>{0}),
                                 b.CreateVector(std::vector<int>{1}),
                                 fb::OperatorOptions::Conv2DOptions, conv.Union());
    auto qin = quantize_input ? fb::CreateQuantization(b, in_scale, in_zero) : 0;
    auto qout = quantize_output ? fb::CreateQuantization(b, out_scale, out_zero) : 0;
    std::vector<flatbuffers::Offset<fb::Tensor>> tensors{
        fb::CreateTensor(b, b.CreateString("input"),
                         b.CreateVector(std::vector<int>{1, in_c, 5, 5}), qin),
        fb::CreateTensor(b, b.CreateString("output"), b.CreateVector(std::vector<int>{1, 4, 5, 5}),
                         qout)};
    auto meta = fb::CreateMetadata(b, b.CreateString("raw-int8"));
    auto model =
        fb::CreateModel(b, 1001, meta, b.CreateVector(tensors),
                        b.CreateVector(std::vector<flatbuffers::Offset<fb::Operator>>{op}),
                        b.CreateVector(std::vector<int>{0}), b.CreateVector(std::vector<int>{1}));
    fb::FinishModelBuffer(b, model);
    return std::vector<std::uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  }
};

// Loads from 8-byte aligned storage; returns the status and the message.
gnrt_status load(const std::vector<std::uint8_t>& bytes, std::string* message) {
  std::vector<std::uint64_t> words((bytes.size() + 7) / 8 + 1);
  std::memcpy(words.data(), bytes.data(), bytes.size());
  gnrt_model* model = nullptr;
  const gnrt_status s = gnrt_model_load_buffer(words.data(), bytes.size(), &model);
  *message = s == GNRT_OK ? "" : gnrt_last_error();
  if (s == GNRT_OK) {
    gnrt_plan* plan = nullptr;
    const gnrt_status ps = gnrt_plan_create(model, nullptr, &plan);
    if (ps == GNRT_OK) {
      std::vector<float> input(8 * 5 * 5, 0.3f);
      CHECK(gnrt_plan_set_input(plan, input.data(), input.size()) == GNRT_OK);
      CHECK(gnrt_plan_run(plan) == GNRT_OK);
      gnrt_plan_destroy(plan);
    }
    CHECK_MESSAGE(ps == GNRT_OK, gnrt_last_error());
    gnrt_model_destroy(model);
  } else {
    CHECK(model == nullptr);
  }
  return s;
}

bool int8_built() {
  std::string message;
  return load(RawQConv{}.build(), &message) != GNRT_UNSUPPORTED;
}

void expect_invalid(const std::function<void(RawQConv&)>& edit, const char* fragment) {
  RawQConv raw;
  edit(raw);
  std::string message;
  const gnrt_status s = load(raw.build(), &message);
  CHECK_MESSAGE(s == GNRT_INVALID_MODEL, "status " << s << ", message: " << message);
  CHECK_MESSAGE(message.find(fragment) != std::string::npos,
                "expected '" << std::string(fragment) << "' in: " << message);
}

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

}  // namespace

TEST_CASE("the raw int8 convolution is valid as written, or refused as unsupported without int8") {
  std::string message;
  const gnrt_status s = load(RawQConv{}.build(), &message);
  if (s == GNRT_UNSUPPORTED) {
    CHECK(message.find("without int8 support") != std::string::npos);
  } else {
    CHECK_MESSAGE(s == GNRT_OK, message);
  }
}

TEST_CASE("every format 1.1 field is validated before anything runs") {
  if (!int8_built()) return;  // the case above checked the GNRT_UNSUPPORTED refusal
  // Tensor quantization: scale finite, positive and normal; zero point 0..255.
  for (float bad : {0.0f, -0.5f, kNaN, kInf, 1e-40f}) {
    CAPTURE(bad);
    expect_invalid([bad](RawQConv& r) { r.in_scale = bad; }, "quantization scale");
    expect_invalid([bad](RawQConv& r) { r.out_scale = bad; }, "quantization scale");
  }
  expect_invalid([](RawQConv& r) { r.in_zero = 256; }, "quantization zero_point");
  expect_invalid([](RawQConv& r) { r.out_zero = -1; }, "quantization zero_point");
  // Weight scales: one per output channel, finite, positive, normal.
  for (float bad : {0.0f, -0.01f, kNaN, kInf, 1e-39f}) {
    CAPTURE(bad);
    expect_invalid([bad](RawQConv& r) { r.scales[2] = bad; }, "weight scale");
  }
  expect_invalid([](RawQConv& r) { r.scales.pop_back(); }, "scales with one entry per output");
  expect_invalid([](RawQConv& r) { r.with_scales = false; }, "scales with one entry per output");
  // Values: int8 in [-127, 127], exactly values_i8, one block of values per entry.
  expect_invalid([](RawQConv& r) { r.values[5] = -128; }, "outside [-127, 127]");
  expect_invalid([](RawQConv& r) { r.float_values.assign(16, 0.5f); }, "exactly values_i8");
  expect_invalid([](RawQConv& r) { r.values.pop_back(); }, "values (expected 16)");
  // Blocks: 1, 2, 4 or 8, dividing the input channels per group.
  expect_invalid([](RawQConv& r) { r.block_size = 3; }, "block_size 3");
  expect_invalid([](RawQConv& r) { r.block_size = 16; }, "block_size 16");
  expect_invalid(
      [](RawQConv& r) {
        r.block_size = 8;
        r.in_c = 4;
      },
      "multiple of block_size");
  // Gap-coded indices: inside their rows, no escape pending, nothing left over.
  expect_invalid([](RawQConv& r) { r.delta = {1, 18, 5, 10}; }, "out of range [0, 18)");
  expect_invalid([](RawQConv& r) { r.delta = {1, 17, 5}; }, "indices_delta ends inside");
  expect_invalid([](RawQConv& r) { r.delta = {1, 17, 5, 0, 10}; }, "escape past");
  expect_invalid([](RawQConv& r) { r.delta = {1, 17, 5, 10, 3}; }, "bytes after the last entry");
  expect_invalid([](RawQConv& r) { r.row_nonzeros = {2, 1, 0, 19}; }, "more than its 18 blocks");
  // Biases: int32, one per output channel, no float bias beside them.
  expect_invalid([](RawQConv& r) { r.float_bias.assign(4, 0.1f); }, "take bias_i32");
  expect_invalid([](RawQConv& r) { r.bias_i32.pop_back(); }, "bias_i32 has 3");
  // Arithmetic limits: the int32 accumulator and the requantization multiplier.
  expect_invalid([](RawQConv& r) { r.bias_i32[0] = 2147483000; }, "accumulator could overflow");
  expect_invalid([](RawQConv& r) { r.out_scale = 1e-30f; }, "requantization multiplier");
  expect_invalid([](RawQConv& r) { r.in_scale = 1e-36f; }, "requantization multiplier");
  // Operator rules: int8 weights exactly between quantized tensors.
  expect_invalid([](RawQConv& r) { r.quantize_output = false; }, "quantized input and output");
  expect_invalid([](RawQConv& r) { r.quantize_input = false; }, "quantized input and output");
}
