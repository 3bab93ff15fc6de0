// Model layout, pruning decisions, mask enforcement, checkpoints and resume (LibTorch).
#include <cmath>
#include <set>

#include "gnrt/googlenet.h"
#include "model.h"
#include "prune.h"
#include "test_util.h"
#include "train.h"

#include "doctest_torch.h"  // last: after LibTorch's glog macros

using namespace gnconvert;
using namespace gnconvert_test;

namespace {

struct Threads {
  Threads() { set_threads(1); }
} threads_once;

// Tiny session on the toy dataset at 40x40 (the smallest square size whose inception 5 is not
// 1x1 is 33; 40 keeps it 2x2 like 48).
Session tiny_session(const std::string& data_dir, const std::string& out_dir, int epochs = 2) {
  Session s;
  s.quiet = true;
  s.data.dataset = "mnist";
  s.data.data_dir = data_dir;
  s.data.height = s.data.width = 40;
  s.data.validation = 32;
  s.optim.batch = 16;
  s.optim.epochs = epochs;
  s.optim.lr = 0.02;
  s.run.out_dir = out_dir;
  s.run.eval_batch = 32;
  s.run.seed = 3;
  load_data(s);
  create_model(s);
  return s;
}

Stage train_stage(const Session& s) {
  Stage stage;
  stage.name = "train";
  stage.train = true;
  stage.optim = s.optim;
  return stage;
}

bool same_state(GoogLeNet& a, GoogLeNet& b) {
  auto pa = a->named_parameters(), pb = b->named_parameters();
  for (const auto& kv : pa) {
    if (!torch::equal(kv.value(), pb[kv.key()])) return false;
  }
  auto ba = a->named_buffers(), bb = b->named_buffers();
  for (const auto& kv : ba) {
    if (!torch::equal(kv.value(), bb[kv.key()])) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("GoogLeNet has the paper's layout and ~10.4M parameters with 10 classes") {
  ModelConfig config;
  config.num_classes = 10;
  config.in_channels = 3;
  GoogLeNet net(config);
  std::int64_t all = 0;
  for (const auto& p : net->parameters()) all += p.numel();
  CHECK(all >= 10300000);
  CHECK(all <= 10500000);
  CHECK(count_params(net, false) == 10318144 + 2 * 64 * 7 * 7);  // 3 input channels, not 1

  // Every deployed layer matches the shared graph definition, by name and shape, in order.
  gnrt::GoogLeNetConfig gconfig;
  gconfig.in_channels = 3;
  gconfig.num_classes = 10;
  auto specs = gnrt::googlenet_layers(gconfig);
  std::vector<Layer> deployed;
  for (const auto& l : model_layers(net)) {
    if (l.deployed) deployed.push_back(l);
  }
  REQUIRE(deployed.size() == specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    CAPTURE(specs[i].name);
    CHECK(deployed[i].name == specs[i].name);
    CHECK(deployed[i].is_fc == specs[i].is_fc);
    std::vector<int64_t> want(specs[i].shape.begin(), specs[i].shape.end());
    CHECK(deployed[i].weight.sizes().vec() == want);
  }
  const auto& gspecs = gnrt::googlenet_inception_specs();
  REQUIRE(gspecs.size() == inception_specs().size());
  for (std::size_t i = 0; i < gspecs.size(); ++i) {
    CHECK(std::string(gspecs[i].name) == inception_specs()[i].name);
    CHECK(gspecs[i].b3 == inception_specs()[i].b3);
    CHECK(gspecs[i].b2_reduce == inception_specs()[i].b2_reduce);
  }
  // True 5x5 in branch 3; auxiliary heads as in the paper.
  auto layers = model_layers(net);
  auto find = [&](const std::string& name) {
    for (const auto& l : layers) {
      if (l.name == name) return l;
    }
    FAIL("missing layer " << name);
    return layers[0];
  };
  CHECK(find("inception4a.b3").weight.sizes().vec() == std::vector<int64_t>{48, 16, 5, 5});
  CHECK(find("aux1.conv").weight.sizes().vec() == std::vector<int64_t>{128, 512, 1, 1});
  CHECK(find("aux2.conv").weight.sizes().vec() == std::vector<int64_t>{128, 528, 1, 1});
  CHECK(find("aux1.fc1").weight.sizes().vec() == std::vector<int64_t>{1024, 2048});
  CHECK(find("aux2.fc2").weight.sizes().vec() == std::vector<int64_t>{10, 1024});
  CHECK(find("fc").weight.sizes().vec() == std::vector<int64_t>{10, 1024});
  CHECK_FALSE(find("aux1.fc1").deployed);
}

TEST_CASE("feature maps: 48x48 keeps inception 5 at 2x2, 32x32 collapses it") {
  ModelConfig config;
  GoogLeNet net(config);
  auto g48 = measure_geometry(net, 48, 48);
  for (const auto& g : g48) {
    if (g.name == "conv1") CHECK(g.out_h == 24);
    if (g.name == "conv3") CHECK(g.in_h == 12);
    if (g.name == "inception3a.b2") CHECK(g.in_h == 6);
    if (g.name == "inception4e.b3") CHECK(g.in_h == 3);
    if (g.name == "inception5b.b3") CHECK(g.in_h == 2);
  }
  CHECK(degenerate_layers(g48).empty());
  auto g224 = measure_geometry(net, 224, 224);
  for (const auto& g : g224) {
    if (g.name == "inception5b.b3") CHECK(g.in_h == 7);
    if (g.name == "conv3") CHECK(g.in_h == 56);
  }
  auto bad = degenerate_layers(measure_geometry(net, 32, 32));
  CHECK(std::find(bad.begin(), bad.end(), "inception5a.b3") != bad.end());
  CHECK(std::find(bad.begin(), bad.end(), "inception5a.b1") == bad.end());  // 1x1 kernels are fine
  // Tiny inputs run (padded pools keep 1x1 maps alive) but every spatial kernel degenerates.
  auto bad4 = degenerate_layers(measure_geometry(net, 4, 4));
  CHECK(std::find(bad4.begin(), bad4.end(), "conv3") != bad4.end());
  CHECK_THROWS(measure_geometry(net, 0, 0));

  net->train();
  auto out = net->forward_all(torch::randn({2, 1, 48, 48}), true);
  CHECK(out.logits.sizes().vec() == std::vector<int64_t>{2, 10});
  CHECK(out.aux1.sizes().vec() == std::vector<int64_t>{2, 10});
  CHECK(out.aux2.sizes().vec() == std::vector<int64_t>{2, 10});
  net->eval();
  CHECK_FALSE(net->forward_all(torch::randn({1, 1, 48, 48}), false).aux1.defined());
}

TEST_CASE("threshold modes hit their targets") {
  TempDir data;
  write_toy_mnist(data.path, 64, 16);
  Session s = tiny_session(data.path, "");
  const std::int64_t training = count_params(s.net, false);
  const std::int64_t deployed = count_params(s.net, true);

  for (std::string mode : {"std", "global", "cost", "layer"}) {
    CAPTURE(mode);
    for (std::string scope : {"training", "deployed"}) {
      CAPTURE(scope);
      PruneRecipe r;
      r.mode = mode;
      r.scope = scope;
      std::int64_t total = scope == "deployed" ? deployed : training;
      std::int64_t target = total / 16;
      auto layers = prune_layers(s, r, 40, 40);
      auto d = decide_for_target(layers, r, target, scope == "deployed");
      CHECK(d.kept_in_scope <= target);
      CHECK(d.kept_in_scope >= target - target / 200);  // within 0.5%
      if (mode == "layer") {
        // Every layer keeps about the same fraction.
        for (std::size_t i = 0; i < layers.size(); ++i) {
          double density = static_cast<double>(d.keep[i]) / layers[i].params;
          CHECK(density ==
                doctest::Approx(static_cast<double>(d.kept_in_scope) / total).epsilon(0.02));
        }
      }
    }
  }

  // Cost-aware: layers whose weights cost more multiply-adds are pruned harder.
  PruneRecipe cost;
  cost.mode = "cost";
  cost.cost_alpha = 1.0;
  cost.cost_normalize = "std";
  auto layers = prune_layers(s, cost, 40, 40);
  auto d = decide_for_target(layers, cost, training / 10, false);
  std::map<std::string, double> density;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    density[layers[i].name] = static_cast<double>(d.keep[i]) / layers[i].params;
  }
  CHECK(density["conv3"] < density["inception5b.b2"]);  // 20x20 vs 2x2 output positions
  CHECK(density["conv1"] < density["fc"]);

  // min_density floor and fixed per-layer sparsities.
  PruneRecipe floor;
  floor.mode = "global";
  floor.min_density = 0.2;
  layers = prune_layers(s, floor, 40, 40);
  d = decide(layers, floor, 1e9, false);  // a threshold that would prune everything
  for (std::size_t i = 0; i < layers.size(); ++i) {
    CHECK(d.keep[i] >= static_cast<std::int64_t>(std::ceil(0.2 * layers[i].params)) - 1);
  }
  PruneRecipe fixed;
  fixed.mode = "layer";
  fixed.layer_sparsity["conv1"] = 0.75;
  layers = prune_layers(s, fixed, 40, 40);
  d = decide(layers, fixed, 0.5, false);
  CHECK(d.keep[0] == doctest::Approx(0.25 * layers[0].params).epsilon(0.01));
  CHECK(d.keep[1] == doctest::Approx(0.5 * layers[1].params).epsilon(0.01));
  fixed.layer_sparsity["conv99"] = 0.5;
  CHECK_THROWS_AS(prune_layers(s, fixed, 40, 40), RecipeError);

  // Two groups: cost-aware on the deployed layers, the auxiliary heads to their own budget.
  PruneRecipe groups;
  groups.mode = "cost";
  groups.scope = "deployed";
  groups.aux_group = true;
  groups.aux_mode = "global";
  layers = prune_layers(s, groups, 40, 40);
  const std::int64_t aux_params = training - deployed;
  d = decide_groups(layers, groups, deployed / 16, aux_params / 50);
  std::int64_t kept_deployed = 0, kept_aux = 0;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    (layers[i].deployed ? kept_deployed : kept_aux) += d.keep[i];
  }
  CHECK(kept_deployed <= deployed / 16);
  CHECK(kept_deployed >= deployed / 16 - deployed / 3200);
  CHECK(kept_aux <= aux_params / 50);
  CHECK(kept_aux >= aux_params / 50 - aux_params / 10000);
  CHECK(d.kept_in_scope == kept_deployed);
  // Without an auxiliary target the auxiliary layers keep everything.
  d = decide_groups(layers, groups, deployed / 16, -1);
  for (std::size_t i = 0; i < layers.size(); ++i) {
    if (!layers[i].deployed)
      CHECK(d.keep[i] == static_cast<std::int64_t>(layers[i].survivors.size()));
  }
}

TEST_CASE("masks: pruned weights stay exactly zero through optimizer steps, masks are cumulative") {
  TempDir data;
  write_toy_mnist(data.path, 96, 16);
  Session s = tiny_session(data.path, "", 1);
  s.optim.weight_decay = 1e-3;  // decay and momentum would move zeros without the masks
  PruneRecipe r;
  r.mode = "global";
  prune_to(s, r, count_params(s.net, false) / 4);
  std::int64_t nonzeros = count_nonzeros(s.net, false);
  CHECK(nonzeros <= count_params(s.net, false) / 4);

  std::map<std::string, torch::Tensor> before;
  for (const auto& l : model_layers(s.net)) before[l.name] = l.weight.detach().clone();
  REQUIRE(run_stages(s, {train_stage(s)}));  // one epoch: 64 images / batch 16
  CHECK(s.global_step == 4);
  std::int64_t moved = 0;
  for (const auto& l : model_layers(s.net)) {
    auto pruned = s.masks.at(l.name) < 0.5;
    CHECK(l.weight.masked_select(pruned).ne(0).sum().item<int64_t>() == 0);
    moved += l.weight.ne(before[l.name]).sum().item<int64_t>();
  }
  CHECK(moved > nonzeros / 2);  // the surviving weights did train
  CHECK(count_nonzeros(s.net, false) <= nonzeros);

  // A second, weaker pruning cannot revive weights.
  prune_with_knob(s, r, 0.0);
  CHECK(count_nonzeros(s.net, false) <= nonzeros);

  // BatchNorm re-estimation produces finite statistics that differ from the old ones.
  auto mean_before = s.net->conv3->bn->running_mean.clone();
  recalibrate_batchnorm(s, 2);
  CHECK(torch::isfinite(s.net->conv3->bn->running_mean).all().item<bool>());
  CHECK_FALSE(torch::equal(mean_before, s.net->conv3->bn->running_mean));
  CHECK(s.net->conv3->bn->options.momentum().has_value());  // restored
}

TEST_CASE("same seed, same weights; resume after a kill equals an uninterrupted run") {
  TempDir data;
  write_toy_mnist(data.path, 96, 16);  // 64 training images: 4 steps per epoch at batch 16
  TempDir out_a, out_b, out_c;

  Session a = tiny_session(data.path, out_a.path);
  REQUIRE(run_stages(a, {train_stage(a)}));
  CHECK(a.global_step == 8);
  CHECK(a.history.size() == 2);

  // Interrupted after 6 steps (the epoch-1 checkpoint exists, steps 5-6 are lost as if killed),
  // then resumed from the checkpoint in a fresh session.
  Session b = tiny_session(data.path, out_b.path);
  b.run.max_steps = 6;
  CHECK_FALSE(run_stages(b, {train_stage(b)}));
  Session b2 = tiny_session(data.path, out_b.path);
  load_checkpoint(b2, b2.checkpoint_path(), /*weights_only=*/false);
  CHECK(b2.epoch == 1);
  CHECK(b2.step == 0);
  CHECK(b2.global_step == 4);
  CHECK_FALSE(b2.optimizer_state.empty());
  REQUIRE(run_stages(b2, {train_stage(b2)}));
  CHECK(same_state(a.net, b2.net));
  CHECK(b2.history.size() == 2);

  // Mid-epoch checkpoints resume bitwise too.
  Session c = tiny_session(data.path, out_c.path);
  c.run.checkpoint_steps = 1;
  c.run.max_steps = 6;
  CHECK_FALSE(run_stages(c, {train_stage(c)}));
  Session c2 = tiny_session(data.path, out_c.path);
  load_checkpoint(c2, c2.checkpoint_path(), false);
  CHECK(c2.global_step == 6);
  CHECK(c2.step == 2);
  REQUIRE(run_stages(c2, {train_stage(c2)}));
  CHECK(same_state(a.net, c2.net));

  // A different seed gives different weights.
  TempDir out_d;
  Session d = tiny_session(data.path, out_d.path);
  d.run.seed = 4;
  create_model(d);
  d.run.max_steps = 2;
  run_stages(d, {train_stage(d)});
  CHECK_FALSE(same_state(a.net, d.net));
}

TEST_CASE("checkpoints round-trip masks and reject foreign files") {
  TempDir data, out;
  write_toy_mnist(data.path, 64, 16);
  Session s = tiny_session(data.path, out.path);
  PruneRecipe r;
  prune_to(s, r, count_params(s.net, false) / 3);
  s.history.push_back({{"note", "x"}});
  save_checkpoint(s, out / "c.pt", nullptr);
  Session t = tiny_session(data.path, out.path);
  load_checkpoint(t, out / "c.pt", false);
  CHECK(same_state(s.net, t.net));
  CHECK(t.masks.size() == s.masks.size());
  for (const auto& kv : s.masks) CHECK(torch::equal(kv.second, t.masks.at(kv.first)));
  CHECK(t.history.size() == 1);
  CHECK(t.norm.mean == s.norm.mean);

  write_bytes(out / "junk.pt", {1, 2, 3, 4});
  CHECK_THROWS_WITH_AS(load_checkpoint(t, out / "junk.pt", false),
                       doctest::Contains("not a gn-convert checkpoint"), std::runtime_error);
  CHECK_THROWS_WITH_AS(load_checkpoint(t, out / "missing.pt", false),
                       doctest::Contains("no such file"), std::runtime_error);
  // An unwritable destination gives an error and keeps the previous file.
  CHECK_THROWS_AS(save_checkpoint(s, out / "no/such/dir/c.pt", nullptr), std::runtime_error);
  CHECK_NOTHROW(load_checkpoint(t, out / "c.pt", false));
}
