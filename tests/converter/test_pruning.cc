// Pruning the model: every threshold mode hits its target, masks keep pruned weights at zero
// through optimizer steps and are cumulative, BatchNorm re-estimation (LibTorch).
#include <cmath>
#include <map>
#include <set>

#include "prune/pruner.h"
#include "test_util.h"
#include "tiny_session.h"
#include "train/evaluation.h"

#include "doctest_torch.h"  // last: after LibTorch's glog macros

using namespace gnconvert;
using namespace gnconvert_test;

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
