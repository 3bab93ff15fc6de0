// Pruning decisions on plain arrays (prune/decision.h): survivors, masks, the knob of every mode,
// the min_density floor, the bisection on a target and the auxiliary group. No LibTorch.
#include <doctest/doctest.h>

#include <vector>

#include "prune/decision.h"

using namespace gnconvert;

namespace {

PruneLayer layer(const std::string& name, std::vector<float> survivors, std::int64_t params,
                 bool deployed = true) {
  PruneLayer l;
  l.name = name;
  l.survivors = std::move(survivors);
  l.params = params;
  l.deployed = deployed;
  return l;
}

PruneRecipe recipe(const std::string& mode) {
  PruneRecipe r;
  r.mode = mode;
  return r;
}

}  // namespace

TEST_CASE("survivors are the kept magnitudes, ascending; masks are cumulative") {
  const std::vector<float> w = {-3.0f, 1.0f, -0.5f, 2.0f, 0.0f};
  const std::vector<float> mask = {1, 0, 1, 1, 1};
  CHECK(surviving_magnitudes(w, &mask) == std::vector<float>{0.0f, 0.5f, 2.0f, 3.0f});
  CHECK(surviving_magnitudes(w, nullptr) == std::vector<float>{0.0f, 0.5f, 1.0f, 2.0f, 3.0f});

  // keep |w| > t, and never what the old mask pruned.
  CHECK(threshold_mask(w, &mask, 1.0) == std::vector<float>{1, 0, 0, 1, 0});
  CHECK(threshold_mask(w, &mask, -1.0) == mask);
  // Ties at the threshold are pruned.
  CHECK(threshold_mask(w, nullptr, 0.5) == std::vector<float>{1, 1, 0, 1, 0});
  const std::vector<float> short_mask = {1, 1};
  CHECK_THROWS(threshold_mask(w, &short_mask, 0.0));
}

TEST_CASE("each mode turns its knob into per-layer thresholds") {
  const std::vector<PruneLayer> layers = {layer("a", {0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, 5),
                                          layer("aux", {0.3f, 0.4f}, 4, /*deployed=*/false)};
  // global: one magnitude threshold for every layer.
  PruneDecision d = decide(layers, recipe("global"), 0.25, /*deployed_scope=*/false);
  CHECK(d.keep == std::vector<std::int64_t>{3, 2});
  CHECK(d.threshold[0] == doctest::Approx(0.2));
  CHECK(d.threshold[1] == -1.0);  // keeps everything
  CHECK(d.kept_in_scope == 5);
  CHECK(decide(layers, recipe("global"), 0.25, /*deployed_scope=*/true).kept_in_scope == 3);

  // std: q times the layer's standard deviation.
  std::vector<PruneLayer> with_std = layers;
  with_std[0].std_dev = 0.2;
  with_std[1].std_dev = 1.0;
  d = decide(with_std, recipe("std"), 2.0, false);  // thresholds 0.4 and 2.0
  CHECK(d.keep == std::vector<std::int64_t>{1, 0});

  // layer: the knob is the sparsity of every layer (of all its weights, pruned ones included).
  d = decide(layers, recipe("layer"), 0.6, false);
  CHECK(d.keep == std::vector<std::int64_t>{2, 2});  // 0.4 x 5; 0.4 x 4 rounds to 2 = all alive
  // A fixed per-layer sparsity overrides the knob.
  std::vector<PruneLayer> fixed = layers;
  fixed[0].fixed_sparsity = 0.2;
  CHECK(decide(fixed, recipe("layer"), 0.6, false).keep[0] == 4);

  // cost: threshold scaled by cost^alpha (cost 4, alpha 0.5: x2).
  std::vector<PruneLayer> costly = layers;
  costly[0].cost = 4;
  PruneRecipe cost = recipe("cost");
  cost.cost_alpha = 0.5;
  d = decide(costly, cost, 0.15, false);  // thresholds 0.3 and 0.15
  CHECK(d.keep == std::vector<std::int64_t>{2, 2});
}

TEST_CASE("min_density keeps a floor of weights in every layer; ties are pruned") {
  PruneRecipe r = recipe("global");
  r.min_density = 0.6;
  const std::vector<PruneLayer> distinct = {layer("a", {0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, 5)};
  PruneDecision d = decide(distinct, r, 1e9, false);  // would prune everything
  CHECK(d.keep[0] == 3);                              // ceil(0.6 x 5)
  CHECK(d.threshold[0] == doctest::Approx(0.2));
  // With a tie at the threshold, both equal weights go: the count is exact, not the floor.
  const std::vector<PruneLayer> tied = {layer("a", {0.1f, 0.2f, 0.2f, 0.4f, 0.5f}, 5)};
  CHECK(decide(tied, r, 1e9, false).keep[0] == 2);
}

TEST_CASE("bisection finds the weakest pruning that meets a target") {
  const std::vector<PruneLayer> layers = {layer("a", {0.1f, 0.2f, 0.3f, 0.4f, 0.5f}, 5),
                                          layer("b", {1.0f, 2.0f, 3.0f}, 3)};
  PruneDecision d = decide_for_target(layers, recipe("global"), 4, false);
  CHECK(d.kept_in_scope == 4);
  CHECK(d.keep == std::vector<std::int64_t>{1, 3});
  // Nothing to prune when the target is above the survivors.
  CHECK(decide_for_target(layers, recipe("global"), 100, false).kept_in_scope == 8);
  // Unreachable: the floor keeps more than the target (a warning, the closest decision).
  PruneRecipe floor = recipe("global");
  floor.min_density = 1.0;
  CHECK(decide_for_target(layers, floor, 2, false).kept_in_scope == 8);
  // layer mode bisects the sparsity.
  d = decide_for_target(layers, recipe("layer"), 4, false);
  CHECK(d.kept_in_scope <= 4);
}

TEST_CASE("the auxiliary heads as their own group") {
  const std::vector<PruneLayer> layers = {layer("a", {0.1f, 0.2f, 0.3f, 0.4f}, 4),
                                          layer("aux", {0.5f, 0.6f, 0.7f, 0.8f}, 4, false),
                                          layer("b", {1.0f, 2.0f}, 2)};
  PruneRecipe r = recipe("global");
  r.scope = "deployed";
  r.aux_group = true;
  r.aux_mode = "global";
  PruneDecision d = decide_groups(layers, r, 3, 1);
  CHECK(d.keep == std::vector<std::int64_t>{1, 1, 2});
  CHECK(d.kept_in_scope == 3);  // the main group
  // aux_target < 0 leaves the auxiliary layer as it is.
  d = decide_groups(layers, r, 3, -1);
  CHECK(d.keep[1] == 4);
  CHECK(d.threshold[1] == -1.0);
  // Without the group, one decision over the scope.
  r.aux_group = false;
  d = decide_groups(layers, r, 3, -1);
  CHECK(d.kept_in_scope == 3);
  CHECK(d.keep[1] == 4);  // out of scope; the shared threshold (~0.3) is below all of it
}

TEST_CASE("block scores: whole blocks of input channels at one tap are kept or pruned together") {
  // [out 1][in 8][taps 2]: element (i, t) at i * 2 + t.
  std::vector<float> w(16, 0.0f);
  const float block0_tap0[4] = {3, 0, 0, 4};      // rms 2.5
  const float block1_tap0[4] = {1, 1, 1, 1};      // rms 1
  const float block0_tap1[4] = {0.1f, 0, 0, 0};   // rms 0.05
  const float block1_tap1[4] = {-2, 2, -2, 2};    // rms 2
  for (int i = 0; i < 4; ++i) {
    w[i * 2 + 0] = block0_tap0[i];
    w[(4 + i) * 2 + 0] = block1_tap0[i];
    w[i * 2 + 1] = block0_tap1[i];
    w[(4 + i) * 2 + 1] = block1_tap1[i];
  }
  const std::vector<float> s = block_scores(w, 1, 8, 2, 4);
  for (int i = 0; i < 4; ++i) {
    CHECK(s[i * 2 + 0] == doctest::Approx(2.5));
    CHECK(s[(4 + i) * 2 + 0] == doctest::Approx(1.0));
    CHECK(s[i * 2 + 1] == doctest::Approx(0.05));
    CHECK(s[(4 + i) * 2 + 1] == doctest::Approx(2.0));
  }
  // A threshold between 1 and 2 keeps the two strong blocks, zeros included.
  const std::vector<float> keep = threshold_mask(s, nullptr, 1.5);
  int kept = 0;
  for (int i = 0; i < 4; ++i) {
    CHECK(keep[i * 2 + 0] == 1.0f);  // block (0, tap 0) whole, its zeros too
    CHECK(keep[(4 + i) * 2 + 0] == 0.0f);
    CHECK(keep[i * 2 + 1] == 0.0f);
    CHECK(keep[(4 + i) * 2 + 1] == 1.0f);
  }
  for (float k : keep) kept += k > 0.5f;
  CHECK(kept == 8);
  // Survivors of the scores are counted per weight, in multiples of the block.
  PruneRecipe r;
  r.mode = "global";
  PruneLayer l;
  l.name = "l";
  l.params = 16;
  l.survivors = surviving_magnitudes(s, nullptr);
  PruneDecision d = decide_for_target({l}, r, 9, false);
  CHECK(d.keep[0] == 8);
  CHECK(d.keep[0] % 4 == 0);
  CHECK_THROWS(block_scores(w, 1, 6, 2, 4));
}
