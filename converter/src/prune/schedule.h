// How many weights a pruning run keeps, and when: the final targets of a recipe and the targets
// of each step of its schedule. Plain numbers, no LibTorch (tested in test_prune_schedule.cc).
#pragma once

#include <cstdint>

#include "prune/recipe.h"

namespace gnconvert {

// Density after iteration `iteration` (1-based) of `iterations`, geometric from `start` to `end`.
double iterative_density(double start, double end, int iteration, int iterations);
// Zhu & Gupta's cubic schedule: density at progress p in [0, 1] from `start` to `end`.
double gradual_density(double start, double end, double progress);

// The final nonzero counts of a recipe, given the weights in its scope and in the auxiliary heads.
struct PruneTargets {
  std::int64_t scope_params = 0;  // weights the target counts (training or deployed graph)
  std::int64_t final_target = 0;  // nonzeros left in scope at the end
  // Auxiliary heads as their own group (recipe "aux"): their target, reached at the first pruning
  // step; -1 without the group.
  std::int64_t aux_final = -1;
  bool deployed_scope = false;
};
// Throws RecipeError when a target exceeds the weights it counts.
PruneTargets prune_targets(const PruneRecipe& recipe, std::int64_t scope_params,
                           std::int64_t aux_params);

// Target of iteration `iteration` (0-based) of an iterative schedule that started with
// `start_nonzeros` in scope: the recipe's explicit density, else geometric towards the final
// target. -1 when the recipe gives knobs instead of targets.
std::int64_t iterative_target(const PruneRecipe& recipe, const PruneTargets& targets, int iteration,
                              std::int64_t start_nonzeros);

// Gradual pruning within a training phase of `total_steps` steps: the target before optimizer
// step `step`, or -1 when the schedule does not prune at that step (outside [begin, end] or
// between two pruning steps; the last step of the window always prunes).
std::int64_t gradual_target(const PruneRecipe& recipe, const PruneTargets& targets,
                            std::int64_t step, std::int64_t total_steps,
                            std::int64_t start_nonzeros);

}  // namespace gnconvert
