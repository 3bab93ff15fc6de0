// Format 1.1 end to end between the writer and the loader: an int8 model made by ModelBuilder
// (quantized tensors, block-sparse int8 convolution with gap-coded indices, int8 FC) passes
// libgnrt's validation and runs, and a 1.0 model from the same builder still loads as 1.0.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gnrt/gnrt.h"
#include "gnrt/gnrt_generated.h"
#include "gnrt/model_builder.h"

namespace {

std::vector<std::uint8_t> small_int8_model(bool int8) {
  gnrt::ModelBuilder b;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-0.5f, 0.5f);
  const gnrt::TensorId in = b.input("input", 8, 9, 9);
  if (int8) b.set_quantization(in, 0.02f, 10);
  gnrt::ConvParams cp;
  cp.out_channels = 12;
  cp.kernel_h = cp.kernel_w = 3;
  cp.pad_top = cp.pad_left = cp.pad_bottom = cp.pad_right = 1;
  cp.relu = true;
  // 12 x 8 x 3 x 3, every other 4-channel block at each tap zero (block-sparse).
  std::vector<float> w(12 * 8 * 9);
  for (int o = 0; o < 12; ++o)
    for (int c = 0; c < 8; ++c)
      for (int t = 0; t < 9; ++t)
        w[(o * 8 + c) * 9 + t] = ((c / 4 + t + o) % 2 == 0) ? u(rng) : 0.0f;
  std::vector<float> bias(12, 0.1f);
  gnrt::WeightOptions wo;
  if (int8) {
    wo.storage = gnrt::ValueStorage::kInt8;
    wo.encoding = gnrt::WeightEncoding::kSparse;
    wo.block_size = 4;
  }
  const gnrt::TensorId conv = b.conv2d("conv", in, cp, w, bias, wo);
  if (int8) b.set_quantization(conv, 0.05f, 0);
  gnrt::PoolParams pp;
  pp.kernel_h = pp.kernel_w = 3;
  pp.stride_h = pp.stride_w = 2;
  const gnrt::TensorId pool = b.max_pool("pool", conv, pp);
  if (int8) b.set_quantization(pool, 0.05f, 0);
  gnrt::PoolParams gp;
  gp.global = true;
  const gnrt::TensorId gap = b.avg_pool("gap", pool, gp);
  if (int8) b.set_quantization(gap, 0.05f, 0);
  std::vector<float> fw(5 * 12);
  for (auto& v : fw) v = u(rng);
  gnrt::WeightOptions fo;
  if (int8) fo.storage = gnrt::ValueStorage::kInt8;
  const gnrt::TensorId fc = b.fully_connected("fc", gap, 5, fw, std::vector<float>(5, 0.0f), false, fo);
  const gnrt::TensorId sm = b.softmax("prob", fc);
  return b.finish({sm});
}

}  // namespace

TEST_CASE("an int8 model from ModelBuilder passes libgnrt's 1.1 validation and runs; 1.0 still does") {
  for (bool int8 : {false, true}) {
    CAPTURE(int8);
    const std::vector<std::uint8_t> bytes = small_int8_model(int8);
    const gnrt::fb::Model* root = gnrt::fb::GetModel(bytes.data());
    CHECK(root->format_version() == (int8 ? 1001u : 1000u));
    gnrt_model* model = nullptr;
    const gnrt_status s = gnrt_model_load_buffer(bytes.data(), bytes.size(), &model);
    REQUIRE_MESSAGE(s == GNRT_OK, gnrt_last_error());
    gnrt_plan* plan = nullptr;
    const gnrt_status ps = gnrt_plan_create(model, nullptr, &plan);
    REQUIRE_MESSAGE(ps == GNRT_OK, gnrt_last_error());
    // Both run: finite probabilities that sum to 1 (tests/runtime/test_int8_plan.cc checks the
    // int8 values exactly).
    std::vector<float> input(8 * 9 * 9, 0.25f);
    REQUIRE(gnrt_plan_set_input(plan, input.data(), input.size()) == GNRT_OK);
    REQUIRE(gnrt_plan_run(plan) == GNRT_OK);
    std::vector<float> prob(5);
    REQUIRE(gnrt_plan_get_output(plan, prob.data(), prob.size()) == GNRT_OK);
    float sum = 0.0f;
    for (float p : prob) {
      CHECK(std::isfinite(p));
      sum += p;
    }
    CHECK(sum == doctest::Approx(1.0f).epsilon(1e-5));
    gnrt_plan_destroy(plan);
    gnrt_model_destroy(model);
  }
}
