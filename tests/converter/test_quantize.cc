// gn-convert quantize: a small float model built with ModelBuilder quantized in process (the int8
// file loads, its tensors carry quantization, run_int8_graph is checked against scalar loops and
// against the float graph), and the command end to end on models/googlenet-fmnist-16x.gnrt with
// few images; bad input gives a one-line error and a non-zero exit.
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "export/int8_graph.h"
#include "export/onnx_calibration.h"
#include "export/quantize.h"
#include "gnrt/gnrt.h"
#include "gnrt/model_builder.h"
#include "data/dataset.h"
#include "dense_weights.h"
#include "model.h"  // the runtime's decoder
#include "test_util.h"
#include "util/files.h"

#include "doctest_torch.h"  // last: after LibTorch's glog macros

using namespace gnconvert;
using namespace gnconvert_test;

namespace {

const std::string kRoot = GNRT_SOURCE_DIR;
const std::string kModel = kRoot + "/models/googlenet-fmnist-16x.gnrt";
const std::string kFashion = "/usr/share/datasets/fashion-mnist";

std::vector<float> random_weights(std::mt19937& rng, std::size_t n, float stddev, double zeros) {
  std::normal_distribution<float> normal(0.0f, stddev);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<float> w(n);
  for (float& v : w) v = u(rng) < zeros ? 0.0f : normal(rng);
  return w;
}

// A float model with every operator quantize handles: a dense 1-channel stem, a max pool, sparse
// 1x1 and 3x3 convolutions (8 input channels: block 4 possible) in two branches, their concat, an
// average pool counting its padding, GAP, FC and softmax.
std::vector<std::uint8_t> small_float_model() {
  std::mt19937 rng(7);
  gnrt::ModelBuilder b;
  const gnrt::TensorId in = b.input("image", 1, 12, 12);
  gnrt::ConvParams stem;
  stem.out_channels = 8;
  stem.kernel_h = stem.kernel_w = 3;
  stem.pad_top = stem.pad_left = stem.pad_bottom = stem.pad_right = 1;
  stem.relu = true;
  const gnrt::TensorId c1 = b.conv2d("stem", in, stem, random_weights(rng, 8 * 9, 0.4f, 0.0),
                                     random_weights(rng, 8, 0.1f, 0.0),
                                     {gnrt::WeightEncoding::kDense});
  gnrt::PoolParams mp;
  mp.kernel_h = mp.kernel_w = 3;
  mp.stride_h = mp.stride_w = 2;
  mp.pad_top = mp.pad_left = mp.pad_bottom = mp.pad_right = 1;
  mp.ceil_mode = true;
  const gnrt::TensorId p1 = b.max_pool("pool1", c1, mp);
  gnrt::ConvParams one;
  one.out_channels = 8;
  one.relu = true;
  // Whole zero blocks of 4 input channels (so block 4 is smaller) plus scattered zeros.
  std::vector<float> w1 = random_weights(rng, 8 * 8, 0.3f, 0.2);
  for (int o = 0; o < 8; ++o)
    for (int i = (o % 2) * 4; i < (o % 2) * 4 + 4; ++i) w1[static_cast<std::size_t>(o * 8 + i)] = 0;
  const gnrt::TensorId a = b.conv2d("branch1x1", p1, one, w1, random_weights(rng, 8, 0.1f, 0.0),
                                    {gnrt::WeightEncoding::kSparse});
  gnrt::ConvParams three = stem;
  three.out_channels = 6;
  const gnrt::TensorId c = b.conv2d("branch3x3", p1, three,
                                    random_weights(rng, 6 * 8 * 9, 0.15f, 0.7),
                                    random_weights(rng, 6, 0.1f, 0.0),
                                    {gnrt::WeightEncoding::kSparse});
  const gnrt::TensorId cat = b.concat("concat", {a, c});
  gnrt::PoolParams ap;
  ap.kernel_h = ap.kernel_w = 3;
  ap.pad_top = ap.pad_left = ap.pad_bottom = ap.pad_right = 1;
  ap.count_include_pad = true;
  const gnrt::TensorId avg = b.avg_pool("avgpool", cat, ap);
  gnrt::PoolParams gap;
  gap.global = true;
  const gnrt::TensorId g = b.avg_pool("gap", avg, gap);
  const gnrt::TensorId fc = b.fully_connected("fc", g, 4, random_weights(rng, 4 * 14, 0.5f, 0.0),
                                              random_weights(rng, 4, 0.2f, 0.0), false,
                                              {gnrt::WeightEncoding::kDense});
  const gnrt::TensorId sm = b.softmax("softmax", fc);
  gnrt::ModelMetadata md;
  md.name = "small";
  md.labels = {"a", "b", "c", "d"};
  md.mean = {0.25f};
  md.std = {0.5f};
  md.pruning.params_dense_training = 1234;
  md.pruning.nonzeros_training = 567;
  md.pruning.method = "test";
  b.set_metadata(md);
  return b.finish({sm});
}

void load(const std::vector<std::uint8_t>& bytes, gnrt::Model* m) {
  const gnrt::Status s = gnrt::load_model(bytes.data(), bytes.size(), m);
  INFO(s.message);
  REQUIRE(s.ok());
}

Result convert(const std::string& args, const TempDir& tmp) {
  return run_gn_convert(GN_CONVERT_PATH, args, tmp);
}

}  // namespace

TEST_CASE("quantize a small float model: loads, quantized tensors, oracle vs scalar and float") {
  torch::manual_seed(3);
  const std::vector<std::uint8_t> float_bytes = small_float_model();
  gnrt::Model fm;
  load(float_bytes, &fm);
  const torch::Tensor calibration = torch::randn({64, 1, 12, 12});
  const std::vector<ActivationQuant> quant =
      int8_activation_quantization(fm, calibrate_ranges(fm, calibration));
  QuantizeSettings settings;
  settings.description = "test";
  const std::vector<std::uint8_t> bytes = build_int8_model(fm, quant, settings);
  gnrt::Model qm;
  load(bytes, &qm);  // libgnrt's loader and its format 1.1 validation

  // Also through the public C API.
  gnrt_model* handle = nullptr;
  REQUIRE(gnrt_model_load_buffer(bytes.data(), bytes.size(), &handle) == GNRT_OK);
  gnrt_model_destroy(handle);

  SUBCASE("structure, quantization and metadata") {
    CHECK(qm.int8);
    REQUIRE(qm.ops.size() == fm.ops.size());
    CHECK(qm.name == "small");
    CHECK(qm.labels.size() == 4);
    CHECK(qm.mean == fm.mean);
    CHECK(qm.std_dev == fm.std_dev);
    CHECK(qm.params_dense_training == 1234);
    CHECK(qm.nonzeros_training == 567);
    CHECK(qm.default_height == 12);
    CHECK(qm.tensors[static_cast<std::size_t>(qm.input)].quantized);
    for (std::size_t i = 0; i < qm.ops.size(); ++i) {
      const gnrt::OpDesc& op = qm.ops[i];
      CHECK(op.name == fm.ops[i].name);
      const gnrt::TensorDesc& out = qm.tensors[static_cast<std::size_t>(op.output)];
      const bool float_out =
          op.type == gnrt::OpType::kFullyConnected || op.type == gnrt::OpType::kSoftmax;
      CHECK_MESSAGE(out.quantized == !float_out, op.name);
      if (out.quantized) {
        const ActivationQuant& q = quant[static_cast<std::size_t>(op.output)];
        CHECK(out.scale == q.scale);
        CHECK(out.zero_point == q.zero_point);
      }
      if (op.type == gnrt::OpType::kConv2D || op.type == gnrt::OpType::kFullyConnected) {
        CHECK(op.weights.int8);
        CHECK(op.weights.sparse == fm.ops[i].weights.sparse);
        CHECK(op.bias_i32 != nullptr);
      }
    }
    CHECK(qm.ops[0].weights.block_size == 1);  // the 1-channel stem
    CHECK(qm.ops[2].name == "branch1x1");
    CHECK(qm.ops[2].weights.block_size == 4);  // whole zero blocks: 1x4 is smaller
    // The block the builder chose matches the size model quantize used to choose it.
    const std::vector<float> w1 = gnrt::dense_weights(fm.ops[2].weights).values;
    CHECK(qm.ops[2].weights.stored_bytes == int8_weight_bytes(w1, 8, 8, 1, 1, true, 4));
    CHECK(int8_weight_bytes(w1, 8, 8, 1, 1, true, 4) < int8_weight_bytes(w1, 8, 8, 1, 1, true, 1));
  }

  SUBCASE("stored int8 weights decode to the float weights within half a step") {
    for (std::size_t i = 0; i < qm.ops.size(); ++i) {
      const gnrt::OpDesc& op = qm.ops[i];
      if (!op.weights.int8) continue;
      const std::vector<std::int8_t> q = dense_int8_weights(op);
      const gnrt::WeightRef& fw = fm.ops[i].weights;
      // The float file's stem, FC (dense) and sparse rows: expand them the simple way.
      std::vector<float> w(q.size(), 0.0f);
      if (!fw.sparse) {
        w.assign(fw.values_f32, fw.values_f32 + q.size());
      } else {
        std::size_t k = 0;
        for (int r = 0; r < fw.rows; ++r)
          for (std::uint32_t e = 0; e < fw.row_nonzeros[r]; ++e, ++k) {
            const std::size_t col = fw.indices_u8 ? fw.indices_u8[k] : fw.indices_u16[k];
            w[static_cast<std::size_t>(r) * static_cast<std::size_t>(fw.row_length) + col] =
                fw.values_f32[k];
          }
      }
      for (std::size_t k = 0; k < q.size(); ++k) {
        const float s = op.weights.scales[k / static_cast<std::size_t>(op.weights.row_length)];
        if (w[k] == 0.0f) CHECK(q[k] == 0);
        CHECK(std::fabs(q[k] * s - w[k]) <= 0.5001f * s);
      }
    }
  }

  SUBCASE("run_int8_graph equals scalar integer loops on the input and the stem") {
    const torch::Tensor x = torch::randn({2, 1, 12, 12});
    const std::vector<torch::Tensor> t = run_int8_graph_tensors(qm, x);
    const gnrt::TensorDesc& in = qm.tensors[static_cast<std::size_t>(qm.input)];
    const gnrt::OpDesc& stem = qm.ops[0];
    const gnrt::TensorDesc& out = qm.tensors[static_cast<std::size_t>(stem.output)];
    auto xa = x.accessor<float, 4>();
    std::vector<int> qin(2 * 144);
    for (int n = 0; n < 2; ++n)
      for (int y = 0; y < 12; ++y)
        for (int xx = 0; xx < 12; ++xx) {
          const float v = std::nearbyint(xa[n][0][y][xx] / in.scale) + in.zero_point;
          qin[static_cast<std::size_t>(n * 144 + y * 12 + xx)] =
              static_cast<int>(std::min(255.0f, std::max(0.0f, v)));
        }
    auto qa = t[static_cast<std::size_t>(qm.input)].accessor<float, 4>();
    auto ya = t[static_cast<std::size_t>(stem.output)].accessor<float, 4>();
    int mismatches = 0;
    for (int n = 0; n < 2; ++n)
      for (int y = 0; y < 12; ++y)
        for (int xx = 0; xx < 12; ++xx)
          mismatches += qa[n][0][y][xx] != qin[static_cast<std::size_t>(n * 144 + y * 12 + xx)];
    for (int o = 0; o < 8; ++o) {
      const float m = static_cast<float>(static_cast<double>(in.scale) *
                                         static_cast<double>(stem.weights.scales[o]) /
                                         static_cast<double>(out.scale));
      for (int n = 0; n < 2; ++n)
        for (int y = 0; y < 12; ++y)
          for (int xx = 0; xx < 12; ++xx) {
            std::int32_t acc = stem.bias_i32[o];
            for (int ky = 0; ky < 3; ++ky)
              for (int kx = 0; kx < 3; ++kx) {
                const int iy = y + ky - 1, ix = xx + kx - 1;
                const int q = iy < 0 || iy >= 12 || ix < 0 || ix >= 12
                                  ? in.zero_point
                                  : qin[static_cast<std::size_t>(n * 144 + iy * 12 + ix)];
                acc += stem.weights.values_i8[o * 9 + ky * 3 + kx] * (q - in.zero_point);
              }
            float r = static_cast<float>(acc) * m;
            r = std::min(512.0f, std::max(-512.0f, r));
            const int want =
                std::min(255, std::max(out.zero_point,
                                       static_cast<int>(std::nearbyint(r)) + out.zero_point));
            mismatches += ya[n][o][y][xx] != static_cast<float>(want);
          }
    }
    CHECK(mismatches == 0);
  }

  SUBCASE("int8 logits agree with the float graph's") {
    const torch::Tensor x = torch::randn({64, 1, 12, 12});
    const torch::Tensor f = graph_logits(fm, run_float_graph(fm, x));
    const torch::Tensor q = run_int8_graph(qm, x);
    REQUIRE(q.sizes() == f.sizes());
    const double diff = (q - f).abs().max().item<double>();
    const double range = f.abs().max().item<double>();
    const double agree = (q.argmax(1) == f.argmax(1)).to(torch::kDouble).mean().item<double>();
    MESSAGE("largest |int8 - fp32| logit " << diff << " of largest |logit| " << range
                                           << ", top-1 agreement " << agree);
    // Tolerance: each of the 5 requantized tensors on the path to the logits rounds to half of its
    // step (1/510 of its range) and the weights to half of theirs (1/254 of max|w| per row), so
    // a few percent of the logit range is the expected worst case; 5% leaves room, while a wrong
    // scale, zero point or bias (an error of whole steps per value) exceeds it many times.
    CHECK(diff <= 0.05 * range);
    CHECK(agree >= 0.9);
    // The softmax output of the int8 graph is a distribution over the same logits.
    const std::vector<torch::Tensor> all = run_int8_graph_tensors(qm, x);
    const torch::Tensor probs = all[static_cast<std::size_t>(qm.outputs[0])];
    CHECK(torch::allclose(probs, torch::softmax(q, 1)));
  }

  SUBCASE("an int8 model cannot be quantized again") {
    CHECK(contains(error_of([&] { build_int8_model(qm, quant, settings); }), "already int8"));
  }
}

TEST_CASE("gn-convert quantize on the shipped 16x model (few images)") {
  TempDir tmp;
  const std::string out = tmp / "q.gnrt", report = tmp / "q.json";
  const Result r = convert("quantize " + kModel + " --fashion-mnist " + kFashion + " -o " + out +
                               " --calibration-images 64 --eval-images 200 --report " + report,
                           tmp);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  gnrt_model* handle = nullptr;
  REQUIRE(gnrt_model_load_file(out.c_str(), &handle) == GNRT_OK);
  gnrt_model_destroy(handle);
  gnrt::Model qm, fm;
  REQUIRE(gnrt::load_model_file(out.c_str(), &qm).ok());
  REQUIRE(gnrt::load_model_file(kModel.c_str(), &fm).ok());
  CHECK(qm.int8);
  CHECK(qm.name == fm.name);
  CHECK(qm.labels.size() == 10);
  CHECK(qm.mean == fm.mean);
  CHECK(qm.std_dev == fm.std_dev);
  CHECK(qm.params_dense_training == fm.params_dense_training);
  CHECK(qm.nonzeros_training == fm.nonzeros_training);
  CHECK(qm.test_accuracy == -1.0f);  // 200 images are not the test set
  int quantized = 0, block4 = 0;
  for (const auto& t : qm.tensors) quantized += t.quantized;
  for (const auto& op : qm.ops) block4 += op.weights.block_size == 4;
  CHECK(quantized == static_cast<int>(qm.tensors.size()) - 2);  // all but logits and softmax
  CHECK(block4 > 0);

  const nlohmann::json j = read_json(report);
  CHECK(j["calibration_images"] == 64);
  CHECK(j["eval_images"] == 200);
  CHECK(j["output_bytes"].get<std::size_t>() == qm.size);
  CHECK(j["output_bytes"].get<std::size_t>() < j["input_bytes"].get<std::size_t>());
  CHECK(j["layers"].size() == qm.ops.size());
  const double fp32 = j["fp32_accuracy"], int8 = j["int8_accuracy"];
  MESSAGE("200 test images: fp32 " << fp32 << ", int8 " << int8 << ", agreement "
                                   << j["top1_agreement"].get<double>());
  CHECK(fp32 > 0.8);
  CHECK(int8 > fp32 - 0.05);
  CHECK(j["top1_agreement"].get<double>() >= 0.95);
  CHECK(j["layers"][0]["precision"] == "int8");
  CHECK(j["layers"][0]["block_size"] == 1);

  // The oracle reads the written file: logits close to the float graph's on test images.
  const Dataset data = load_dataset("fashion-mnist", kFashion);
  std::vector<std::size_t> indices;
  for (std::size_t i = 0; i < 64; ++i) indices.push_back(1000 + i);
  const torch::Tensor x = preprocess_images(fm, data.test, indices);
  const torch::Tensor f = graph_logits(fm, run_float_graph(fm, x));
  const torch::Tensor q = run_int8_graph(qm, x);
  const double diff = (q - f).abs().max().item<double>(), range = f.abs().max().item<double>();
  const double agree = (q.argmax(1) == f.argmax(1)).to(torch::kDouble).mean().item<double>();
  MESSAGE("GoogLeNet 16x, 64 test images: largest |int8 - fp32| logit "
          << diff << " of largest |logit| " << range << ", top-1 agreement " << agree);
  CHECK(diff <= 0.1 * range);
  CHECK(agree >= 0.95);
}

TEST_CASE("gn-convert quantize: bad input is a one-line error and writes nothing") {
  TempDir tmp;
  const std::string out = tmp / "q.gnrt";
  auto expect_error = [&](const std::string& args, const std::string& message, int status) {
    const Result r = convert(args, tmp);
    INFO(args << "\n" << r.out << r.err);
    CHECK(r.status == status);
    CHECK(contains(r.err, message));
    CHECK(lines(r.err) == 1);
    CHECK(!file_exists(out));
  };
  expect_error("quantize " + tmp.path + "/missing.gnrt --fashion-mnist " + kFashion + " -o " + out,
               "missing.gnrt", 2);
  expect_error("quantize " + kModel + " --fashion-mnist " + tmp.path + "/nodata -o " + out,
               "nodata", 1);
  expect_error("quantize " + kModel + " --fashion-mnist " + kFashion + " -o " + out + " --bogus",
               "--bogus", 2);
  expect_error("quantize " + kModel + " -o " + out, "--fashion-mnist", 2);
  // An int8 model as the input.
  const std::vector<std::uint8_t> small = small_float_model();
  gnrt::Model fm;
  load(small, &fm);
  const std::vector<ActivationQuant> quant =
      int8_activation_quantization(fm, calibrate_ranges(fm, torch::randn({8, 1, 12, 12})));
  write_bytes(tmp / "int8.gnrt", build_int8_model(fm, quant, {}));
  expect_error("quantize " + tmp.path + "/int8.gnrt --fashion-mnist " + kFashion + " -o " + out,
               "already an int8 model", 1);
  // Not a model at all.
  write_bytes(tmp / "junk.gnrt", std::vector<std::uint8_t>(64, 7));
  expect_error("quantize " + tmp.path + "/junk.gnrt --fashion-mnist " + kFashion + " -o " + out,
               "cannot load", 1);
}
