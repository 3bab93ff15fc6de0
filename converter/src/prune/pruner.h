// Pruning the session's model: the torch side of prune/decision.h. Reads each prunable layer's
// weights and mask into plain arrays, lets the torch-free code decide, and writes the masks back
// (biases and BatchNorm are never pruned; auxiliary heads are, unless the recipe says otherwise).
#pragma once

#include <cstdint>
#include <vector>

#include "prune/decision.h"
#include "prune/recipe.h"
#include "train/session.h"

namespace gnconvert {

// Builds the per-layer inputs from the session's weights and masks. cost_* give the resolution of
// the cost model (cost mode).
std::vector<PruneLayer> prune_layers(Session& session, const PruneRecipe& recipe, int cost_height,
                                     int cost_width);

// Applies a decision: masks <- masks AND (score > threshold), weights multiplied by the masks,
// where the score is |w| or, with the recipe's block option, the block's RMS; records the
// thresholds in session.report["last_thresholds"].
void apply_decision(Session& session, const std::vector<PruneLayer>& layers,
                    const PruneDecision& decision, const PruneRecipe& recipe);

// Prunes the session's model so that `target` weights remain in the recipe's scope (see
// decide_groups for `aux_target`).
PruneDecision prune_to(Session& session, const PruneRecipe& recipe, std::int64_t target,
                       std::int64_t aux_target = -1);
PruneDecision prune_with_knob(Session& session, const PruneRecipe& recipe, double knob);

}  // namespace gnconvert
