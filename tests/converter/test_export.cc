// Export: BN folding and libgnrt-vs-LibTorch equivalence of the written model.
#include "export/export.h"
#include "gnrt/gnrt.h"
#include "prune/pruner.h"
#include "test_util.h"
#include "tiny_session.h"
#include "train/evaluation.h"

#include "doctest_torch.h"  // last: after LibTorch's glog macros

using namespace gnconvert;
using namespace gnconvert_test;

namespace {

// A pruned model with non-trivial BatchNorm statistics and affine parameters.
Session exported_session(const std::string& data_dir) {
  TinySessionOptions o;  // Session's defaults but for the validation split and the seed
  o.validation = 16;
  o.epochs = 15;
  o.lr = 0.05;
  o.eval_batch = 200;
  o.seed = 11;
  Session s = tiny_session(data_dir, "", o);
  torch::NoGradGuard no_grad;
  torch::manual_seed(5);
  for (auto& m : s.net->modules(false)) {
    if (auto* bn = m->as<torch::nn::BatchNorm2d>()) {
      bn->weight.uniform_(0.5, 1.5);
      bn->bias.uniform_(-0.2, 0.2);
    }
  }
  recalibrate_batchnorm(s, 2);
  s.net->fc->weight.normal_(0.0, 0.3);  // logits of several units, so the relative bound bites
  s.net->fc->bias.uniform_(-1.0, 1.0);
  PruneRecipe r;
  r.mode = "std";
  prune_to(s, r, count_params(s.net, false) / 8);
  return s;
}

}  // namespace

TEST_CASE("BN folding keeps pruned weights at zero and matches conv+BN") {
  TempDir data;
  write_toy_mnist(data.path, 48, 8);
  Session s = exported_session(data.path);
  auto provider = folded_weights(s.net);
  gnrt::GoogLeNetConfig config;
  config.in_channels = 1;
  config.num_classes = 10;
  for (const auto& spec : gnrt::googlenet_layers(config)) {
    CAPTURE(spec.name);
    auto lw = provider(spec);
    for (const auto& layer : model_layers(s.net)) {
      if (layer.name != spec.name) continue;
      auto w = layer.weight.detach().flatten();
      REQUIRE(static_cast<int64_t>(lw.weights.size()) == w.numel());
      std::int64_t zeros_torch = w.eq(0).sum().item<int64_t>(), zeros_folded = 0;
      for (float v : lw.weights) zeros_folded += v == 0.0f;
      CHECK(zeros_torch == zeros_folded);
      CHECK(static_cast<int>(lw.bias.size()) == spec.shape[0]);
    }
  }
  gnrt::LayerSpec wrong{"conv1", {64, 3, 7, 7}, false};
  CHECK_THROWS(provider(wrong));
  gnrt::LayerSpec unknown{"conv9", {64, 1, 7, 7}, false};
  CHECK_THROWS(provider(unknown));
}

TEST_CASE("the exported file computes LibTorch's function in libgnrt") {
  TempDir data;
  write_toy_mnist(data.path, 48, 8);
  Session s = exported_session(data.path);
  std::vector<std::size_t> images = {0, 1, 2, 3};

  ExportSettings logits;
  logits.softmax = false;
  auto bytes = export_model(s, logits);
  VerifyResult v = verify_export(s, bytes, s.dataset.test, images, false);
  CHECK(v.images == 4);
  CHECK(v.max_abs_logit > 1.0);
  MESSAGE("largest |logit difference| " << v.max_abs_diff << " of |logit| " << v.max_abs_logit);
  CHECK(v.max_abs_diff <= 1e-4 * std::max(1.0, v.max_abs_logit));
  CHECK(v.argmax_agree == 4);

  ExportSettings probs;
  probs.softmax = true;
  probs.test_accuracy = 0.5f;
  auto prob_bytes = export_model(s, probs);
  VerifyResult p = verify_export(s, prob_bytes, s.dataset.test, images, true);
  CHECK(p.max_abs_diff <= 1e-4);

  // Metadata and counts as libgnrt reads them.
  gnrt_model* model = nullptr;
  REQUIRE(gnrt_model_load_buffer(prob_bytes.data(), prob_bytes.size(), &model) == GNRT_OK);
  gnrt_model_info info{};
  REQUIRE(gnrt_model_get_info(model, &info) == GNRT_OK);
  CHECK(info.num_classes == 10);
  CHECK(info.input_channels == 1);
  CHECK(info.default_height == 40);
  CHECK(info.params_dense == static_cast<uint64_t>(count_params(s.net, true)));
  CHECK(info.nonzeros == static_cast<uint64_t>(count_nonzeros(s.net, true)));
  CHECK(info.params_dense_training == static_cast<uint64_t>(count_params(s.net, false)));
  CHECK(info.nonzeros_training == static_cast<uint64_t>(count_nonzeros(s.net, false)));
  CHECK(info.test_accuracy == doctest::Approx(0.5));
  REQUIRE(gnrt_model_label(model, 3) != nullptr);
  CHECK(std::string(gnrt_model_label(model, 3)) == "3");
  float mean = 0, std_dev = 0;
  REQUIRE(gnrt_model_normalization(model, 0, &mean, &std_dev) == GNRT_OK);
  CHECK(mean == doctest::Approx(s.norm.mean[0]));
  CHECK(std_dev == doctest::Approx(s.norm.std[0]));
  gnrt_model_destroy(model);
}
