// The schedule of a prune run as trainer stages: baseline evaluation, then per iteration a
// pruning step (with BatchNorm re-estimation), retraining, evaluation and an optional snapshot --
// or one gradual phase that prunes between optimizer steps -- then the final retraining and
// evaluation. Each stage records its numbers in session.report ("start", "iterations", "final").
#pragma once

#include <memory>
#include <vector>

#include "prune/recipe.h"
#include "prune/schedule.h"
#include "train/trainer.h"

namespace gnconvert {

struct PrunePlan {
  PruneRecipe recipe;
  PruneTargets targets;
};

// The stages hold `plan` (shared) for as long as they live.
std::vector<Stage> pruning_stages(std::shared_ptr<const PrunePlan> plan);

}  // namespace gnconvert
