// The loader on broken files: a generated corpus of truncated and bit-flipped models, and models
// that verify as FlatBuffers but break a semantic rule. Each must give an error status and a
// message (or, for harmless flips, run), never a crash or a hang.
#include <doctest/doctest.h>

#include <cstring>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "gnrt/format_version.h"
#include "gnrt/gnrt.h"
#include "gnrt/gnrt_generated.h"
#include "small_models.h"

namespace fb = gnrt::fb;

namespace {

// Loads, and when that works plans (with a small arena cap) and runs once. Returns the status
// of the first failing step.
gnrt_status exercise(const std::vector<std::uint8_t>& bytes, std::string* message) {
  std::vector<std::uint64_t> words((bytes.size() + 7) / 8 + 1);
  if (!bytes.empty()) std::memcpy(words.data(), bytes.data(), bytes.size());
  gnrt_model* model = nullptr;
  gnrt_status s = gnrt_model_load_buffer(words.data(), bytes.size(), &model);
  if (s != GNRT_OK) {
    *message = gnrt_last_error();
    CHECK(model == nullptr);
    return s;
  }
  gnrt_options options;
  gnrt_options_init(&options);
  options.max_arena_bytes = 64u << 20;
  gnrt_plan* plan = nullptr;
  s = gnrt_plan_create(model, &options, &plan);
  if (s == GNRT_OK) {
    int dims[4];
    gnrt_plan_input_shape(plan, dims);
    std::vector<float> input(static_cast<std::size_t>(dims[1]) * dims[2] * dims[3], 0.5f);
    s = gnrt_plan_set_input(plan, input.data(), input.size());
    if (s == GNRT_OK) s = gnrt_plan_run(plan);
    gnrt_plan_destroy(plan);
  }
  *message = s == GNRT_OK ? "" : gnrt_last_error();
  gnrt_model_destroy(model);
  return s;
}

std::vector<std::uint8_t> base_model() {
  gnrt::testing::SmallGoogLeNet spec;
  spec.in_channels = 1;
  spec.size = 32;
  spec.seed = 5;
  spec.density = 0.03;
  spec.metadata.name = "corpus";
  for (int i = 0; i < 10; ++i) spec.metadata.labels.push_back("class" + std::to_string(i));
  spec.weights.encoding = gnrt::WeightEncoding::kSparse;
  return gnrt::testing::small_googlenet(spec);
}

// A one-convolution model written with the raw FlatBuffers API so that a test can break any
// field. `edit` may change the knobs before serialization.
struct RawConv {
  int in_c = 2, h = 5, w = 5, out_c = 3, k = 3, stride = 1, pad = 1, groups = 1;
  std::vector<int> weight_shape{3, 2, 3, 3};
  std::vector<std::uint32_t> row_nonzeros{2, 1, 0};
  std::vector<std::uint16_t> indices{0, 17, 4};
  std::vector<float> values{0.5f, -1.0f, 2.0f};
  std::vector<float> bias{0.1f, 0.2f, 0.3f};
  std::vector<int> out_shape{1, 3, 5, 5};
  std::vector<int> op_inputs{0};
  std::vector<int> op_outputs{1};
  std::vector<int> graph_inputs{0};
  std::vector<int> graph_outputs{1};
  std::uint32_t version = gnrt::kFormatVersion;
  int labels = 0;
  bool with_weights = true;
  bool dense = false;

  std::vector<std::uint8_t> build() const {
    flatbuffers::FlatBufferBuilder b;
    flatbuffers::Offset<fb::Weights> weights;
    if (with_weights) {
      auto shape = b.CreateVector(weight_shape);
      auto vals = b.CreateVector(values);
      if (dense) {
        weights =
            fb::CreateWeights(b, shape, fb::WeightLayout::DENSE, fb::ValueType::FLOAT32, vals);
      } else {
        auto rows = b.CreateVector(row_nonzeros);
        auto idx = b.CreateVector(indices);
        weights = fb::CreateWeights(b, shape, fb::WeightLayout::SPARSE_ROWS, fb::ValueType::FLOAT32,
                                    vals, 0, rows, 0, idx);
      }
    }
    auto bias_vec = b.CreateVector(bias);
    auto conv = fb::CreateConv2DOptions(b, k, k, stride, stride, pad, pad, pad, pad, 1, 1, groups,
                                        out_c, fb::Activation::RELU, weights, bias_vec);
    auto op = fb::CreateOperator(b, b.CreateString("conv"), b.CreateVector(op_inputs),
                                 b.CreateVector(op_outputs), fb::OperatorOptions::Conv2DOptions,
                                 conv.Union());
    std::vector<flatbuffers::Offset<fb::Tensor>> tensors{
        fb::CreateTensor(b, b.CreateString("input"),
                         b.CreateVector(std::vector<int>{1, in_c, h, w})),
        fb::CreateTensor(b, b.CreateString("output"), b.CreateVector(out_shape))};
    std::vector<flatbuffers::Offset<flatbuffers::String>> label_strings;
    for (int i = 0; i < labels; ++i) label_strings.push_back(b.CreateString("l"));
    auto meta = fb::CreateMetadata(b, b.CreateString("raw"), 0, 0,
                                   labels ? b.CreateVector(label_strings) : 0);
    auto model = fb::CreateModel(b, version, meta, b.CreateVector(tensors),
                                 b.CreateVector(std::vector<flatbuffers::Offset<fb::Operator>>{op}),
                                 b.CreateVector(graph_inputs), b.CreateVector(graph_outputs));
    fb::FinishModelBuffer(b, model);
    return std::vector<std::uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
  }
};

void expect_invalid(const std::function<void(RawConv&)>& edit, const char* fragment,
                    gnrt_status expected = GNRT_INVALID_MODEL) {
  RawConv raw;
  edit(raw);
  std::string message;
  const gnrt_status s = exercise(raw.build(), &message);
  CHECK_MESSAGE(s == expected, message);
  CHECK_MESSAGE(message.find(fragment) != std::string::npos, "message was: " << message);
}

}  // namespace

TEST_CASE("the raw one-convolution model is valid as written") {
  std::string message;
  CHECK_MESSAGE(exercise(RawConv{}.build(), &message) == GNRT_OK, message);
}

TEST_CASE("semantic violations are each reported with the offending field") {
  expect_invalid([](RawConv& r) { r.indices = {0, 18, 4}; }, "out of range");
  expect_invalid([](RawConv& r) { r.indices = {5, 3, 4}; }, "ascending");
  expect_invalid([](RawConv& r) { r.row_nonzeros = {2, 2, 0}; }, "declare");
  expect_invalid([](RawConv& r) { r.row_nonzeros = {2, 1}; }, "row_nonzeros");
  expect_invalid([](RawConv& r) { r.row_nonzeros = {19, 0, 0}; }, "more than");
  expect_invalid([](RawConv& r) { r.weight_shape = {3, 2, 3, 4}; }, "weight shape");
  expect_invalid([](RawConv& r) { r.with_weights = false; }, "weights missing");
  expect_invalid([](RawConv& r) { r.bias = {1.0f}; }, "bias");
  expect_invalid([](RawConv& r) { r.k = 0; }, "kernel size");
  expect_invalid([](RawConv& r) { r.k = 1000000; }, "kernel size");
  expect_invalid([](RawConv& r) { r.stride = -2; }, "stride");
  expect_invalid([](RawConv& r) { r.pad = -1; }, "padding");
  expect_invalid(
      [](RawConv& r) {
        r.groups = 2;
        r.out_c = 3;
      },
      "groups");
  expect_invalid([](RawConv& r) { r.out_c = 4; }, "weight shape");
  expect_invalid([](RawConv& r) { r.in_c = 2000000000; }, "channels out of range");
  expect_invalid([](RawConv& r) { r.h = 1 << 30; }, "height/width out of range");
  expect_invalid([](RawConv& r) { r.out_shape = {1, 3, 6, 5}; }, "produces");
  expect_invalid([](RawConv& r) { r.op_inputs = {7}; }, "tensor index 7 out of range");
  expect_invalid([](RawConv& r) { r.op_inputs = {1}; }, "not computed before");
  expect_invalid([](RawConv& r) { r.op_outputs = {0}; }, "already defined");
  expect_invalid([](RawConv& r) { r.op_outputs = {1, 1}; }, "exactly one output");
  expect_invalid([](RawConv& r) { r.graph_inputs = {}; }, "exactly one input");
  expect_invalid([](RawConv& r) { r.graph_outputs = {-1}; }, "out of range");
  expect_invalid([](RawConv& r) { r.version = 2000; }, "format version");
  expect_invalid([](RawConv& r) { r.labels = 4; }, "labels");
  expect_invalid([](RawConv& r) { r.dense = true; }, "dense weights hold");
}

TEST_CASE("wrong identifier, empty and tiny buffers") {
  std::vector<std::uint8_t> bytes = base_model();
  std::string message;
  std::vector<std::uint8_t> wrong = bytes;
  std::memcpy(wrong.data() + 4, "TFL3", 4);
  CHECK(exercise(wrong, &message) == GNRT_INVALID_MODEL);
  CHECK(message.find("identifier") != std::string::npos);
  CHECK(exercise({}, &message) == GNRT_INVALID_MODEL);
  CHECK(exercise({1, 2, 3}, &message) == GNRT_INVALID_MODEL);
  CHECK(exercise(std::vector<std::uint8_t>(4096, 0xff), &message) == GNRT_INVALID_MODEL);
}

TEST_CASE("hundreds of truncated and bit-flipped models never crash") {
  const std::vector<std::uint8_t> bytes = base_model();
  std::string message;
  REQUIRE_MESSAGE(exercise(bytes, &message) == GNRT_OK, message);
  int rejected = 0, accepted = 0;
  // Truncations: every length class, including one byte short.
  for (std::size_t cut = 0; cut < bytes.size();
       cut += std::max<std::size_t>(1, bytes.size() / 150)) {
    std::vector<std::uint8_t> t(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    const gnrt_status s = exercise(t, &message);
    CHECK(s != GNRT_OK);
    CHECK(!message.empty());
  }
  CHECK(exercise(std::vector<std::uint8_t>(bytes.begin(), bytes.end() - 1), &message) != GNRT_OK);
  // Flips: random positions, biased to the first 512 bytes where the tables live.
  std::mt19937 rng(1234);
  for (int i = 0; i < 600; ++i) {
    std::vector<std::uint8_t> f = bytes;
    std::uniform_int_distribution<std::size_t> anywhere(0, f.size() - 1),
        head(0, std::min<std::size_t>(511, f.size() - 1));
    const int flips = 1 + i % 3;
    for (int k = 0; k < flips; ++k) {
      const std::size_t pos = (i % 2) ? head(rng) : anywhere(rng);
      f[pos] ^= static_cast<std::uint8_t>(1u << (rng() % 8));
    }
    const gnrt_status s = exercise(f, &message);
    if (s == GNRT_OK) {
      ++accepted;
    } else {
      ++rejected;
      CHECK(!message.empty());
    }
  }
  MESSAGE("bit flips: " << rejected << " rejected with a message, " << accepted
                        << " still valid and ran");
  CHECK(rejected > 0);
}
