// Threshold pruning of every convolution and fully connected weight (auxiliary heads included;
// biases and BatchNorm are never pruned). Masks are cumulative: a weight once pruned stays zero.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "recipe.h"
#include "train.h"

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

// Builds the per-layer inputs from the session's weights and masks. cost_* give the resolution of
// the cost model (cost mode).
std::vector<PruneLayer> prune_layers(Session& session, const PruneRecipe& recipe, int cost_height,
                                     int cost_width);

// The weights each layer keeps for one knob value (q for std, threshold for global and cost,
// sparsity for layer), with the recipe's min_density floor applied.
PruneDecision decide(const std::vector<PruneLayer>& layers, const PruneRecipe& recipe, double knob,
                     bool deployed_scope);

// Bisection on the knob: the weakest pruning whose kept count in scope is <= target.
PruneDecision decide_for_target(const std::vector<PruneLayer>& layers, const PruneRecipe& recipe,
                                std::int64_t target, bool deployed_scope);

// Applies a decision: masks <- masks AND (|w| > threshold), weights multiplied by the masks.
void apply_decision(Session& session, const std::vector<PruneLayer>& layers,
                    const PruneDecision& decision);

// Prunes the session's model so that `target` weights remain in the recipe's scope. With the
// recipe's aux group, `target` counts the deployed layers and `aux_target` the auxiliary ones,
// each group decided by its own mode (aux_target < 0: the auxiliary layers are left as they are).
PruneDecision prune_to(Session& session, const PruneRecipe& recipe, std::int64_t target,
                       std::int64_t aux_target = -1);

// The two-group decision behind prune_to (exposed for tests).
PruneDecision decide_groups(const std::vector<PruneLayer>& layers, const PruneRecipe& recipe,
                            std::int64_t target, std::int64_t aux_target);
PruneDecision prune_with_knob(Session& session, const PruneRecipe& recipe, double knob);

// Per-layer table and totals: shape, params, nonzeros, density, MACs dense / kept at the training
// resolution and at 224x224, for the training graph and the deployed graph. Counts come from
// the weights themselves.
nlohmann::json layer_report(Session& session);
std::string layer_report_text(const nlohmann::json& report);

}  // namespace gnconvert
