// ModelBuilder's format 1.1 writer (int8 weights, block-sparse rows, gap-coded indices, tensor
// quantization, int32 biases), read back with the generated FlatBuffers accessors: the runtime's
// reader is tested separately, so these tests pin what the writer puts in the file.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "gnrt/format_version.h"
#include "gnrt/gnrt_generated.h"
#include "gnrt/model_builder.h"

namespace {

const gnrt::fb::Model* read_back(const std::vector<std::uint8_t>& bytes) {
  flatbuffers::Verifier verifier(bytes.data(), bytes.size());
  REQUIRE(gnrt::fb::VerifyModelBuffer(verifier));
  return gnrt::fb::GetModel(bytes.data());
}

template <typename T>
std::vector<T> to_vector(const flatbuffers::Vector<T>* v) {
  REQUIRE(v != nullptr);
  return std::vector<T>(v->begin(), v->end());
}

gnrt::WeightOptions int8_options(gnrt::WeightEncoding encoding, int block_size = 1) {
  gnrt::WeightOptions o;
  o.encoding = encoding;
  o.storage = gnrt::ValueStorage::kInt8;
  o.block_size = block_size;
  return o;
}

}  // namespace

TEST_CASE("int8 dense conv: per-channel scales, half-even values, int32 bias, 1.1 tensors") {
  gnrt::ModelBuilder b;
  const gnrt::TensorId in = b.input("image", 2, 3, 3);
  b.set_quantization(in, 0.02f, 10);
  gnrt::ConvParams p;
  p.out_channels = 3;
  p.kernel_h = p.kernel_w = 1;
  p.relu = true;
  // Scales chosen exact so the values show the rounding directly. Row 0: max |w| 127 -> scale
  // 1 (2.5 -> 2). Row 1: all zero -> scale 1, values 0. Row 2: max 254 -> scale 2 (7 / 2 = 3.5
  // -> 4).
  const std::vector<float> w = {2.5f, -127.0f, 0.0f, 0.0f, 254.0f, 7.0f};
  const std::vector<float> bias = {1.0f, -0.5f, 1.0f};
  const gnrt::TensorId c =
      b.conv2d("conv", in, p, w, bias, int8_options(gnrt::WeightEncoding::kDense));
  b.set_quantization(c, 0.1f, 0);
  const auto bytes = b.finish({c});
  const auto* m = read_back(bytes);

  CHECK(m->format_version() == gnrt::kFormatVersion);
  CHECK(m->format_version() == 1001u);
  const auto* q_in = m->tensors()->Get(0)->quantization();
  REQUIRE(q_in != nullptr);
  CHECK(q_in->scale() == 0.02f);
  CHECK(q_in->zero_point() == 10);
  const auto* q_out = m->tensors()->Get(1)->quantization();
  REQUIRE(q_out != nullptr);
  CHECK(q_out->scale() == 0.1f);
  CHECK(q_out->zero_point() == 0);

  const auto* conv = m->operators()->Get(0)->options_as_Conv2DOptions();
  REQUIRE(conv != nullptr);
  const auto* wt = conv->weights();
  CHECK(wt->value_type() == gnrt::fb::ValueType::INT8);
  CHECK(wt->layout() == gnrt::fb::WeightLayout::DENSE);
  CHECK(wt->values_f32() == nullptr);
  CHECK(wt->indices_delta() == nullptr);
  CHECK(wt->row_nonzeros() == nullptr);
  const std::vector<float> scales = to_vector(wt->scales());
  REQUIRE(scales.size() == 3);
  CHECK(scales[0] == 1.0f);
  CHECK(scales[1] == 1.0f);
  CHECK(scales[2] == 2.0f);
  const std::vector<std::int8_t> values = to_vector(wt->values_i8());
  const std::vector<std::int8_t> expected_values = {2, -127, 0, 0, 127, 4};
  CHECK(values == expected_values);
  // FlatBuffers aligns from the buffer's start (its size is padded to the largest alignment), so
  // the offset, not the address (std::vector's storage is only malloc-aligned), is what to pin.
  CHECK((reinterpret_cast<const std::uint8_t*>(wt->values_i8()->data()) - bytes.data()) % 64 == 0);

  CHECK(conv->bias() == nullptr);
  const std::vector<std::int32_t> b32 = to_vector(conv->bias_i32());
  REQUIRE(b32.size() == 3);
  CHECK(b32[0] == 50);   // 1.0 / (0.02 * 1)
  CHECK(b32[1] == -25);  // -0.5 / 0.02
  CHECK(b32[2] == 25);   // 1.0 / (0.02 * 2)
}

TEST_CASE("int8 rounding is half to even on w / scale") {
  gnrt::ModelBuilder b;
  const gnrt::TensorId in = b.input("x", 4, 1, 1);
  b.set_quantization(in, 1.0f, 0);
  const std::vector<float> w = {127.0f, 3.5f, -2.5f, 0.4f};
  const gnrt::TensorId fc =
      b.fully_connected("fc", in, 1, w, {}, false, int8_options(gnrt::WeightEncoding::kDense));
  const auto bytes = b.finish({fc});
  const auto* op = read_back(bytes)->operators()->Get(0)->options_as_FullyConnectedOptions();
  REQUIRE(op != nullptr);
  const std::vector<std::int8_t> expected = {127, 4, -2, 0};
  CHECK(to_vector(op->weights()->values_i8()) == expected);
  CHECK(op->bias_i32() == nullptr);  // no bias given: absent (zero)
  CHECK(op->bias() == nullptr);
}

TEST_CASE("int8 sparse FC: gap-coded indices with escapes, empty rows, output stays float") {
  const int in_features = 600;
  const int rows = 3;
  std::vector<float> w(static_cast<std::size_t>(rows) * in_features, 0.0f);
  // Row 0: entries 0, 300, 599 -> gaps 1, 300 (= 255 + 45), 299 (= 255 + 44); scale 2.
  w[0] = 5.0f;
  w[300] = -254.0f;
  w[599] = 7.0f;
  // Row 1: entries 255 (gap 256 = 255 + 1) and 510 (gap 255: no escape).
  w[in_features + 255] = 4.0f;
  w[in_features + 510] = -4.0f;
  // Row 2: empty.
  gnrt::ModelBuilder b;
  const gnrt::TensorId in = b.input("x", in_features, 1, 1);
  b.set_quantization(in, 0.5f, 128);
  const gnrt::TensorId fc = b.fully_connected("fc", in, rows, w, {1.0f, 2.0f, 3.0f}, false,
                                              int8_options(gnrt::WeightEncoding::kSparse));
  const gnrt::TensorId sm = b.softmax("prob", fc);
  const auto bytes = b.finish({sm});
  const auto* m = read_back(bytes);
  CHECK(m->format_version() == 1001u);
  CHECK(m->tensors()->Get(fc)->quantization() == nullptr);
  CHECK(m->tensors()->Get(sm)->quantization() == nullptr);

  const auto* op = m->operators()->Get(0)->options_as_FullyConnectedOptions();
  REQUIRE(op != nullptr);
  const auto* wt = op->weights();
  CHECK(wt->layout() == gnrt::fb::WeightLayout::SPARSE_ROWS);
  CHECK(wt->value_type() == gnrt::fb::ValueType::INT8);
  CHECK(wt->block_size() == 1);
  CHECK(wt->indices_u8() == nullptr);
  CHECK(wt->indices_u16() == nullptr);
  CHECK(wt->indices_u32() == nullptr);
  const std::vector<std::uint32_t> expected_rows = {3, 2, 0};
  CHECK(to_vector(wt->row_nonzeros()) == expected_rows);
  const std::vector<std::uint8_t> expected_delta = {1, 0, 45, 0, 44, 0, 1, 255};
  CHECK(to_vector(wt->indices_delta()) == expected_delta);
  const std::vector<std::int8_t> expected_values = {2, -127, 4, 127, -127};
  CHECK(to_vector(wt->values_i8()) == expected_values);
  const std::vector<float> scales = to_vector(wt->scales());
  REQUIRE(scales.size() == 3);
  CHECK(scales[0] == 2.0f);
  CHECK(scales[1] == 4.0f / 127.0f);
  CHECK(scales[2] == 1.0f);
  const std::vector<std::int32_t> b32 = to_vector(op->bias_i32());
  REQUIRE(b32.size() == 3);
  CHECK(b32[0] == 1);  // 1 / (0.5 * 2)
  CHECK(b32[1] == static_cast<std::int32_t>(std::nearbyint(2.0 / (0.5 * double(scales[1])))));
  CHECK(b32[2] == 6);  // 3 / (0.5 * 1)

  // The decoder's view: walking the gap code gives the absolute indices back.
  std::vector<int> decoded;
  std::size_t pos = 0;
  for (std::uint32_t r = 0; r < 3; ++r) {
    int previous = -1, skip = 0;
    for (std::uint32_t k = 0; k < expected_rows[r];) {
      const std::uint8_t byte =
          wt->indices_delta()->Get(static_cast<flatbuffers::uoffset_t>(pos++));
      if (byte == 0) {
        skip += 255;
        continue;
      }
      previous += skip + byte;
      skip = 0;
      decoded.push_back(previous);
      ++k;
    }
  }
  const std::vector<int> expected_indices = {0, 300, 599, 255, 510};
  CHECK(decoded == expected_indices);
}

TEST_CASE("int8 block-sparse conv: block entries, channel-ordered values, entry indices") {
  gnrt::ModelBuilder b;
  const gnrt::TensorId in = b.input("x", 8, 5, 5);
  b.set_quantization(in, 0.1f, 0);
  gnrt::ConvParams p;
  p.out_channels = 2;
  p.kernel_h = p.kernel_w = 3;
  p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = 1;
  const int kh = 3, kw = 3, in_c = 8;
  auto at = [&](int o, int ic, int ky, int kx) {
    return ((static_cast<std::size_t>(o) * in_c + ic) * kh + ky) * kw + kx;
  };
  std::vector<float> w(2 * in_c * kh * kw, 0.0f);
  w[at(0, 0, 0, 0)] = 127.0f;   // block 0 (channels 0..3) at tap (0,0): entry 0
  w[at(0, 5, 1, 2)] = -127.0f;  // block 1 (channels 4..7) at tap (1,2): entry (1*3+1)*3+2 = 14
  w[at(0, 7, 1, 2)] = 63.0f;    // same block
  w[at(1, 3, 2, 2)] = 254.0f;   // block 0 at (2,2): entry 8
  const gnrt::TensorId c =
      b.conv2d("conv", in, p, w, {}, int8_options(gnrt::WeightEncoding::kSparse, 4));
  b.set_quantization(c, 0.2f, 3);
  const auto bytes = b.finish({c});
  const auto* wt = read_back(bytes)->operators()->Get(0)->options_as_Conv2DOptions()->weights();
  CHECK(wt->layout() == gnrt::fb::WeightLayout::SPARSE_ROWS);
  CHECK(wt->block_size() == 4);
  const std::vector<std::uint32_t> expected_rows = {2, 1};
  CHECK(to_vector(wt->row_nonzeros()) == expected_rows);
  const std::vector<std::uint8_t> expected_delta = {1, 14, 9};
  CHECK(to_vector(wt->indices_delta()) == expected_delta);
  // Row 0 scale 1: block 0 = (127, 0, 0, 0); block 1 = channels 4..7: (0, -127, 0, 63).
  // Row 1 scale 2: block 0 = channels 0..3: (0, 0, 0, 127).
  const std::vector<std::int8_t> expected_values = {127, 0, 0, 0, 0, -127, 0, 63, 0, 0, 0, 127};
  CHECK(to_vector(wt->values_i8()) == expected_values);
}

TEST_CASE("int8 kAuto picks the smaller encoding") {
  gnrt::ModelBuilder b;
  const gnrt::TensorId in = b.input("x", 64, 1, 1);
  b.set_quantization(in, 1.0f, 0);
  std::vector<float> dense_w(4 * 64, 0.25f);
  std::vector<float> sparse_w(4 * 64, 0.0f);
  sparse_w[5] = 1.0f;
  const gnrt::TensorId f1 = b.fully_connected("dense", in, 4, dense_w, {}, false,
                                              int8_options(gnrt::WeightEncoding::kAuto));
  const gnrt::TensorId f2 = b.fully_connected("sparse", in, 4, sparse_w, {}, false,
                                              int8_options(gnrt::WeightEncoding::kAuto));
  const auto bytes = b.finish({f1, f2});
  const auto* m = read_back(bytes);
  CHECK(m->operators()->Get(0)->options_as_FullyConnectedOptions()->weights()->layout() ==
        gnrt::fb::WeightLayout::DENSE);
  CHECK(m->operators()->Get(1)->options_as_FullyConnectedOptions()->weights()->layout() ==
        gnrt::fb::WeightLayout::SPARSE_ROWS);
}

TEST_CASE("a float model stays format 1.0 without quantization fields") {
  gnrt::ModelBuilder b;
  const gnrt::TensorId in = b.input("x", 4, 1, 1);
  const gnrt::TensorId fc = b.fully_connected("fc", in, 2, std::vector<float>(8, 1.0f), {});
  const auto bytes = b.finish({fc});
  const auto* m = read_back(bytes);
  CHECK(m->format_version() == gnrt::kFormatVersion_1_0);
  CHECK(m->format_version() == 1000u);
  for (const auto* t : *m->tensors()) CHECK(t->quantization() == nullptr);
  const auto* wt = m->operators()->Get(0)->options_as_FullyConnectedOptions()->weights();
  CHECK(wt->value_type() == gnrt::fb::ValueType::FLOAT32);
  CHECK(wt->scales() == nullptr);
  CHECK(wt->values_i8() == nullptr);
}

TEST_CASE("set_quantization and int8 layers reject bad arguments") {
  gnrt::ModelBuilder b;
  const gnrt::TensorId in = b.input("x", 4, 2, 2);
  CHECK_THROWS_AS(b.set_quantization(in, 0.0f, 0), std::invalid_argument);
  CHECK_THROWS_AS(b.set_quantization(in, -1.0f, 0), std::invalid_argument);
  CHECK_THROWS_AS(b.set_quantization(in, std::numeric_limits<float>::quiet_NaN(), 0),
                  std::invalid_argument);
  CHECK_THROWS_AS(b.set_quantization(in, std::numeric_limits<float>::infinity(), 0),
                  std::invalid_argument);
  CHECK_THROWS_AS(b.set_quantization(in, 1.0f, 256), std::invalid_argument);
  CHECK_THROWS_AS(b.set_quantization(in, 1.0f, -1), std::invalid_argument);
  CHECK_THROWS_AS(b.set_quantization(99, 1.0f, 0), std::invalid_argument);

  gnrt::ConvParams p;
  p.out_channels = 2;
  const std::vector<float> w(8, 1.0f);
  // Input not quantized yet.
  CHECK_THROWS_AS(b.conv2d("c", in, p, w, {}, int8_options(gnrt::WeightEncoding::kAuto)),
                  std::invalid_argument);
  b.set_quantization(in, 0.5f, 0);
  // Block sizes: only 1/2/4/8, only int8, only dividing in_per_group (4 here).
  CHECK_THROWS_AS(b.conv2d("c", in, p, w, {}, int8_options(gnrt::WeightEncoding::kSparse, 3)),
                  std::invalid_argument);
  CHECK_THROWS_AS(b.conv2d("c", in, p, w, {}, int8_options(gnrt::WeightEncoding::kSparse, 8)),
                  std::invalid_argument);
  gnrt::WeightOptions float_blocks;
  float_blocks.block_size = 2;
  CHECK_THROWS_AS(b.conv2d("c", in, p, w, {}, float_blocks), std::invalid_argument);
  // A bias that does not fit int32 at 0.5 * (1 / 127).
  CHECK_THROWS_AS(b.conv2d("c", in, p, w, {1e9f, 0.0f}, int8_options(gnrt::WeightEncoding::kAuto)),
                  std::invalid_argument);
}

TEST_CASE("finish() checks the quantized graph rules") {
  SUBCASE("an int8 conv needs a quantized output") {
    gnrt::ModelBuilder b;
    const gnrt::TensorId in = b.input("x", 1, 2, 2);
    b.set_quantization(in, 1.0f, 0);
    gnrt::ConvParams p;
    p.out_channels = 1;
    const gnrt::TensorId c =
        b.conv2d("c", in, p, {1.0f}, {}, int8_options(gnrt::WeightEncoding::kDense));
    CHECK_THROWS_AS(b.finish({c}), std::invalid_argument);
  }
  SUBCASE("an int8 FC has a float output") {
    gnrt::ModelBuilder b;
    const gnrt::TensorId in = b.input("x", 1, 1, 1);
    b.set_quantization(in, 1.0f, 0);
    const gnrt::TensorId fc = b.fully_connected("fc", in, 1, {1.0f}, {}, false,
                                                int8_options(gnrt::WeightEncoding::kDense));
    b.set_quantization(fc, 1.0f, 0);
    CHECK_THROWS_AS(b.finish({fc}), std::invalid_argument);
  }
  SUBCASE("concat inputs and output share one quantization") {
    gnrt::ModelBuilder b;
    const gnrt::TensorId in = b.input("x", 1, 2, 2);
    gnrt::PoolParams pool;
    const gnrt::TensorId a = b.max_pool("a", in, pool);
    const gnrt::TensorId c = b.concat("cat", {in, a});
    b.set_quantization(in, 1.0f, 0);
    b.set_quantization(a, 1.0f, 0);
    b.set_quantization(c, 2.0f, 0);
    CHECK_THROWS_AS(b.finish({c}), std::invalid_argument);
  }
  SUBCASE("a pool's input and output share one quantization") {
    gnrt::ModelBuilder b;
    const gnrt::TensorId in = b.input("x", 1, 2, 2);
    b.set_quantization(in, 1.0f, 0);
    gnrt::PoolParams pool;
    const gnrt::TensorId a = b.avg_pool("a", in, pool);
    b.set_quantization(a, 1.0f, 1);
    CHECK_THROWS_AS(b.finish({a}), std::invalid_argument);
  }
  SUBCASE("changing the scale an int8 layer was built at") {
    gnrt::ModelBuilder b;
    const gnrt::TensorId in = b.input("x", 1, 1, 1);
    b.set_quantization(in, 1.0f, 0);
    b.fully_connected("fc", in, 1, {1.0f}, {0.5f}, false,
                      int8_options(gnrt::WeightEncoding::kDense));
    CHECK_THROWS_AS(b.set_quantization(in, 2.0f, 0), std::invalid_argument);
    CHECK_NOTHROW(b.set_quantization(in, 1.0f, 3));  // zero point does not enter bias_i32
  }
}
