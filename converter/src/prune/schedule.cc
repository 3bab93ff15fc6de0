#include "prune/schedule.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace gnconvert {

double iterative_density(double start, double end, int iteration, int iterations) {
  if (iterations <= 0) return end;
  double f = static_cast<double>(iteration) / iterations;
  return start * std::pow(end / start, f);
}

double gradual_density(double start, double end, double progress) {
  double p = std::min(1.0, std::max(0.0, progress));
  double s_i = 1.0 - start, s_f = 1.0 - end;
  double s = s_f + (s_i - s_f) * std::pow(1.0 - p, 3.0);
  return 1.0 - s;
}

PruneTargets prune_targets(const PruneRecipe& recipe, std::int64_t scope_params,
                           std::int64_t aux_params) {
  PruneTargets t;
  t.deployed_scope = recipe.scope == "deployed";
  t.scope_params = scope_params;
  t.final_target =
      recipe.target_nonzeros > 0
          ? recipe.target_nonzeros
          : static_cast<std::int64_t>(std::llround(recipe.target_density * scope_params));
  if (t.final_target > scope_params) {
    throw RecipeError("target of " + std::to_string(t.final_target) + " nonzeros exceeds the " +
                      std::to_string(scope_params) + " weights in scope");
  }
  if (recipe.aux_group) {
    t.aux_final =
        recipe.aux_target_nonzeros > 0 || recipe.aux_target_density == 0
            ? recipe.aux_target_nonzeros
            : static_cast<std::int64_t>(std::llround(recipe.aux_target_density * aux_params));
    if (t.aux_final > aux_params) {
      throw RecipeError("aux target of " + std::to_string(t.aux_final) + " nonzeros exceeds the " +
                        std::to_string(aux_params) + " auxiliary weights");
    }
  }
  return t;
}

std::int64_t iterative_target(const PruneRecipe& recipe, const PruneTargets& targets, int iteration,
                              std::int64_t start_nonzeros) {
  if (!recipe.knobs.empty()) return -1;
  if (!recipe.densities.empty()) {
    return static_cast<std::int64_t>(
        std::llround(recipe.densities[iteration] * targets.scope_params));
  }
  return static_cast<std::int64_t>(std::llround(iterative_density(
      static_cast<double>(start_nonzeros), static_cast<double>(targets.final_target), iteration + 1,
      recipe.iterations)));
}

std::int64_t gradual_target(const PruneRecipe& recipe, const PruneTargets& targets,
                            std::int64_t step, std::int64_t total, std::int64_t start_nonzeros) {
  std::int64_t t0 = static_cast<std::int64_t>(recipe.gradual_begin * total);
  std::int64_t t1 =
      std::min<std::int64_t>(total - 1, static_cast<std::int64_t>(recipe.gradual_end * total));
  if (step < t0 || step > t1) return -1;
  if (step != t1 && (step - t0) % recipe.gradual_frequency != 0) return -1;
  const double scope = static_cast<double>(targets.scope_params);
  double start = static_cast<double>(start_nonzeros) / targets.scope_params;
  double end = static_cast<double>(targets.final_target) / targets.scope_params;
  double progress = t1 > t0 ? static_cast<double>(step - t0) / (t1 - t0) : 1.0;
  return static_cast<std::int64_t>(std::llround(gradual_density(start, end, progress) * scope));
}

}  // namespace gnconvert
