// How many weights a prune run keeps and when (prune/schedule.h): final targets, iterative and
// gradual schedules. No LibTorch.
#include <doctest/doctest.h>

#include "prune/schedule.h"

using namespace gnconvert;

TEST_CASE("iterative and gradual density schedules") {
  CHECK(iterative_density(1.0, 0.0625, 0, 4) == doctest::Approx(1.0));
  CHECK(iterative_density(1.0, 0.0625, 2, 4) == doctest::Approx(0.25));
  CHECK(iterative_density(1.0, 0.0625, 4, 4) == doctest::Approx(0.0625));
  CHECK(gradual_density(1.0, 0.1, 0.0) == doctest::Approx(1.0));
  CHECK(gradual_density(1.0, 0.1, 1.0) == doctest::Approx(0.1));
  // Cubic: half way, sparsity is s_f (1 - 1/8) = 0.9 * 0.875.
  CHECK(gradual_density(1.0, 0.1, 0.5) == doctest::Approx(1.0 - 0.9 * 0.875));
  // Pruning is front-loaded: the first half removes most of the weights.
  CHECK(gradual_density(1.0, 0.1, 0.25) < 0.5);
}

TEST_CASE("final targets from density, count and the auxiliary group") {
  PruneRecipe r;
  r.target_density = 0.25;
  PruneTargets t = prune_targets(r, 1000, 400);
  CHECK(t.final_target == 250);
  CHECK(t.aux_final == -1);
  CHECK_FALSE(t.deployed_scope);
  r.target_nonzeros = 2000;
  CHECK_THROWS_AS(prune_targets(r, 1000, 400), RecipeError);
  r.target_nonzeros = 300;
  r.scope = "deployed";
  r.aux_group = true;
  r.aux_target_density = 0.5;
  t = prune_targets(r, 1000, 400);
  CHECK(t.final_target == 300);
  CHECK(t.deployed_scope);
  CHECK(t.aux_final == 200);
  r.aux_target_density = 0;
  CHECK(prune_targets(r, 1000, 400).aux_final == 0);
  r.aux_target_nonzeros = 500;
  CHECK_THROWS_AS(prune_targets(r, 1000, 400), RecipeError);
}

TEST_CASE("iterative targets: explicit densities, knobs, or geometric steps") {
  PruneRecipe r;
  r.target_density = 0.25;
  r.iterations = 2;
  const PruneTargets t = prune_targets(r, 1000, 0);
  CHECK(iterative_target(r, t, 0, 1000) == 500);  // 1000 x 0.25^(1/2)
  CHECK(iterative_target(r, t, 1, 1000) == 250);
  r.densities = {0.6, 0.3};
  CHECK(iterative_target(r, t, 0, 1000) == 600);
  CHECK(iterative_target(r, t, 1, 1000) == 300);
  r.densities.clear();
  r.knobs = {0.1, 0.2};
  CHECK(iterative_target(r, t, 0, 1000) == -1);
}

TEST_CASE("gradual targets: every `frequency` steps in [begin, end], and at the end") {
  PruneRecipe r;
  r.target_density = 0.25;
  r.schedule = "gradual";
  r.gradual_begin = 0.1;
  r.gradual_end = 0.5;
  r.gradual_frequency = 10;
  const PruneTargets t = prune_targets(r, 1000, 0);
  // 100 steps: the window is steps 10..50.
  CHECK(gradual_target(r, t, 5, 100, 1000) == -1);
  CHECK(gradual_target(r, t, 10, 100, 1000) == 1000);
  CHECK(gradual_target(r, t, 15, 100, 1000) == -1);
  // progress 0.25: 1 - (0.75 - 0.75 x 0.75^3)
  CHECK(gradual_target(r, t, 20, 100, 1000) == 566);
  CHECK(gradual_target(r, t, 50, 100, 1000) == 250);
  CHECK(gradual_target(r, t, 60, 100, 1000) == -1);
  // The window's end is clamped to the last step, which always prunes.
  r.gradual_end = 1.0;
  r.gradual_frequency = 7;
  CHECK(gradual_target(r, t, 99, 100, 1000) == 250);
}
