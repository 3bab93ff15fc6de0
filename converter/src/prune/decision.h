// Pruning decisions on plain numbers: which weights each layer keeps for a knob value (q for std,
// threshold for global and cost, sparsity for layer mode) or for a target count, and the masks
// that follow. No LibTorch: prune/pruner.h converts the model's tensors to and from these
// (unit tests in test_prune_decision.cc). Masks are cumulative: a weight once pruned stays zero.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "prune/recipe.h"

namespace gnconvert {

// Per-layer inputs of a pruning decision.
struct PruneLayer {
  std::string name;
  bool deployed = true;
  std::int64_t params = 0;
  std::vector<float> survivors;  // |w| of the weights the current mask keeps, ascending
  double std_dev = 0;            // of all the layer's weights (pruned zeros included)
  double cost = 1;               // multiply-adds per weight at the cost resolution (fc: 1)
  double fixed_sparsity = -1;    // layer mode override, or -1
};

struct PruneDecision {
  std::vector<std::int64_t> keep;  // weights kept per layer
  std::vector<double> threshold;   // effective magnitude threshold per layer (keep |w| > t)
  double knob = 0;
  std::int64_t kept_in_scope = 0;
};

// |w| of the weights that `mask` (0/1 per weight; null: all) keeps, ascending.
std::vector<float> surviving_magnitudes(const std::vector<float>& weights,
                                        const std::vector<float>* mask);

// The new mask of a layer: mask AND (|w| > threshold), as 0/1 floats (null mask: all kept).
std::vector<float> threshold_mask(const std::vector<float>& weights, const std::vector<float>* mask,
                                  double threshold);

// Block scores for block-structured pruning: `weights` is [out][in][taps] (taps = kh * kw, 1 for
// fc) and every weight is replaced by the root mean square of its block, the `block` consecutive
// input channels at the same tap of the same output channel (in % block == 0). Ranking and
// thresholding these scores with the functions above keeps or prunes whole blocks.
std::vector<float> block_scores(const std::vector<float>& weights, std::int64_t out,
                                std::int64_t in, std::int64_t taps, int block);

// The weights each layer keeps for one knob value, with the recipe's min_density floor applied.
PruneDecision decide(const std::vector<PruneLayer>& layers, const PruneRecipe& recipe, double knob,
                     bool deployed_scope);

// Bisection on the knob: the weakest pruning whose kept count in scope is <= target.
PruneDecision decide_for_target(const std::vector<PruneLayer>& layers, const PruneRecipe& recipe,
                                std::int64_t target, bool deployed_scope);

// With the recipe's aux group, `target` counts the deployed layers and `aux_target` the auxiliary
// ones, each group decided by its own mode (aux_target < 0: the auxiliary layers are left as they
// are); without it, decide_for_target over the recipe's scope.
PruneDecision decide_groups(const std::vector<PruneLayer>& layers, const PruneRecipe& recipe,
                            std::int64_t target, std::int64_t aux_target);

}  // namespace gnconvert
