// Pruning recipes: parsing, defaults and the mistakes they reject (no LibTorch).
#include <doctest/doctest.h>

#include <cmath>
#include <functional>

#include "prune/recipe.h"
#include "test_util.h"

using namespace gnconvert;
using namespace gnconvert_test;

TEST_CASE("recipes parse and reject mistakes") {
  auto r = parse_recipe(R"({"mode": "cost", "target": {"compression": 16, "scope": "deployed"},
                            "schedule": {"type": "iterative", "iterations": 4},
                            "retrain": {"epochs": 2, "lr": 0.02},
                            "cost": {"alpha": 1.0, "size": 224}})",
                        "r");
  CHECK(r.mode == "cost");
  CHECK(r.scope == "deployed");
  CHECK(r.target_density == doctest::Approx(1.0 / 16));
  CHECK(r.iterations == 4);
  CHECK(r.retrain.epochs == 2);
  CHECK(r.retrain.lr == doctest::Approx(0.02));
  CHECK(r.cost_height == 224);
  CHECK(r.final_retrain.epochs == 0);
  CHECK(r.block_input_channels == 1);
  CHECK(parse_recipe(R"({"target": {"density": 0.1}, "block": {"input_channels": 4}})", "r")
            .block_input_channels == 4);
  CHECK(contains(error_of([] {
                   parse_recipe(R"({"target": {"density": 0.1}, "block": {"input_channels": 3}})",
                                "r");
                 }),
                 "block.input_channels must be"));
  CHECK(contains(
      error_of([] { parse_recipe(R"({"target": {"density": 0.1}, "block": {"rows": 4}})", "r"); }),
      "unknown key 'rows'"));

  CHECK(r.distill_teacher.empty());
  const PruneRecipe kd = parse_recipe(
      R"({"target": {"density": 0.1},
          "distillation": {"teacher": "dense.pt", "temperature": 2.5, "weight": 0.7}})",
      "r");
  CHECK(kd.distill_teacher == "dense.pt");
  CHECK(kd.distill_temperature == doctest::Approx(2.5));
  CHECK(kd.distill_weight == doctest::Approx(0.7));
  CHECK(parse_recipe(R"({"target": {"density": 0.1}, "distillation": {"teacher": "from"}})", "r")
            .distill_weight == doctest::Approx(0.5));
  for (const char* bad :
       {R"({"target": {"density": 0.1}, "distillation": {"temperature": 2}})",
        R"({"target": {"density": 0.1}, "distillation": {"teacher": "t", "temperature": 0}})",
        R"({"target": {"density": 0.1}, "distillation": {"teacher": "t", "weight": 1.5}})",
        R"({"target": {"density": 0.1}, "distillation": {"teacher": "t", "alpha": 1}})"}) {
    CAPTURE(bad);
    CHECK(contains(error_of([bad] { parse_recipe(bad, "r"); }), "distillation"));
  }

  CHECK(contains(error_of([] { parse_recipe(R"({"mode": "global"})", "r"); }), "missing 'target'"));
  CHECK(contains(
      error_of([] { parse_recipe(R"({"mode": "magic", "target": {"density": 0.1}})", "r"); }),
      "mode must be"));
  CHECK(contains(
      error_of([] { parse_recipe(R"({"target": {"density": 0.1}, "retrian": {}})", "r"); }),
      "unknown key 'retrian'"));
  CHECK(contains(
      error_of([] { parse_recipe(R"({"target": {"density": 0.1, "nonzeros": 5}})", "r"); }),
      "exactly one"));
  CHECK(contains(error_of([] { parse_recipe(R"({"target": {"density": 1.5}})", "r"); }), "(0, 1]"));
  CHECK(contains(error_of([] { parse_recipe("{not json", "r"); }), "not valid JSON"));
  CHECK(contains(error_of([] {
                   parse_recipe(R"({"target": {"density": 0.1}, "layers": {"conv1": 0.5}})", "r");
                 }),
                 "only used by mode layer"));

  // Auxiliary heads as their own group, and per-iteration snapshots.
  auto a = parse_recipe(R"({"mode": "cost", "target": {"compression": 16, "scope": "deployed"},
                            "aux": {"mode": "std", "nonzeros": 40000}, "snapshots": true})",
                        "r");
  CHECK(a.aux_group);
  CHECK(a.aux_mode == "std");
  CHECK(a.aux_target_nonzeros == 40000);
  CHECK(a.snapshots);
  CHECK(parse_recipe(
            R"({"target": {"density": 0.1, "scope": "deployed"}, "aux": {"compression": 50}})", "r")
            .aux_target_density == doctest::Approx(0.02));
  CHECK(contains(error_of([] {
                   parse_recipe(R"({"target": {"density": 0.1}, "aux": {"nonzeros": 5}})", "r");
                 }),
                 "target.scope must be \"deployed\""));
  CHECK(contains(error_of([] {
                   parse_recipe(R"({"target": {"density": 0.1, "scope": "deployed"},
                                                "aux": {"mode": "cost", "nonzeros": 5}})",
                                "r");
                 }),
                 "aux.mode must be std or global"));
  CHECK(contains(error_of([] {
                   parse_recipe(R"({"target": {"density": 0.1, "scope": "deployed"},
                                                "aux": {"nonzeros": 5, "density": 0.1}})",
                                "r");
                 }),
                 "exactly one"));
  CHECK(contains(error_of([] {
                   parse_recipe(R"({"target": {"density": 0.1}, "schedule": {"type": "gradual"},
                                                "snapshots": true})",
                                "r");
                 }),
                 "snapshots are kept per iteration"));
}
