// Pruning recipes: a JSON file that describes how gn-convert prunes and retrains. No LibTorch.
//
// {
//   "mode": "global",               // std | global | layer | cost  (see docs/converter.md)
//   "target": {"scope": "training", "nonzeros": 650000},   // or "density": 0.0625,
//                                                         // or "compression": 16
//   "schedule": {"type": "iterative", "iterations": 3},    // or "gradual" / "oneshot"
//   "retrain": {"epochs": 1, "lr": 0.01},                  // optimizer of each retraining phase
//   "final_retrain": {"epochs": 2, "lr": 0.005},           // after the last iteration (optional)
//   "min_density": 0.01,                                   // no layer keeps less than this
//   "bn_recalibration_batches": 50,
//   "cost": {"alpha": 0.5, "size": 48, "normalize": "none"},   // cost mode
//   "layers": {"conv1": 0.5},                              // layer mode: fixed sparsities
//   "aux": {"mode": "global", "nonzeros": 40000},          // auxiliary heads as their own group
//   "snapshots": true,                                     // keep a checkpoint per iteration
//   "block": {"input_channels": 4}                         // prune 1x4 blocks (see below)
// }
// Unknown keys are errors, so that a typo never silently falls back to a default.
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/options.h"

namespace gnconvert {

class RecipeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct PruneRecipe {
  std::string mode = "global";       // std | global | layer | cost
  std::string scope = "training";    // which weights the target counts: training | deployed
  std::int64_t target_nonzeros = 0;  // exactly one of target_nonzeros / target_density is set
  double target_density = 0.0;       // fraction of the scope's weights kept

  std::string schedule = "iterative";  // iterative | gradual | oneshot
  int iterations = 3;                  // iterative: geometric steps of density down to the target
  std::vector<double> densities;       // iterative: explicit per-iteration densities (scope)
  std::vector<double> knobs;           // iterative: explicit per-iteration knob values instead
                                       // of targets (q for std, threshold for global/cost,
                                       // sparsity for layer)
  // gradual (Zhu & Gupta 2017): s_t = s_f + (s_i - s_f) (1 - (t - t0) / (t1 - t0))^3, pruning
  // every `frequency` steps between fractions `begin` and `end` of the retraining phase.
  double gradual_begin = 0.0;
  double gradual_end = 0.75;
  int gradual_frequency = 100;

  OptimOptions retrain;        // each retraining phase (gradual: the one phase)
  OptimOptions final_retrain;  // epochs == 0: none
  double min_density = 0.0;
  int bn_batches = 50;

  double cost_alpha = 0.5;
  int cost_height = 0;  // 0 = the training resolution
  int cost_width = 0;
  std::string cost_normalize = "none";  // none | std

  std::map<std::string, double> layer_sparsity;  // layer mode: fixed per-layer sparsities

  // Auxiliary heads as a separate group (recipe key "aux"): they only exist in training, so a
  // compute-driven mode (cost) has no reason to keep them, and a target on the deployed graph
  // says nothing about them. With aux_group, the main mode and target apply to the deployed
  // layers only (target.scope must be "deployed") and the auxiliary layers are pruned by their
  // own mode (std or global) to their own target, reached at the first pruning step.
  bool aux_group = false;
  std::string aux_mode = "global";  // std | global
  std::int64_t aux_target_nonzeros = 0;
  double aux_target_density = 0.0;  // fraction of the auxiliary weights kept

  // Iterative schedules: after each iteration (and its retraining) keep a copy of the checkpoint
  // as iteration-<i>.pt and a report iteration-<i>.json with test accuracy and counts, so that
  // one run yields a whole trade-off curve.
  bool snapshots = false;

  // Block-structured pruning (recipe key "block"): the weights of `block_input_channels`
  // consecutive input channels at one kernel tap of one output channel (input features for fc)
  // are kept or pruned together, ranked by their root mean square, so that an int8 kernel with a
  // 4-element dot product (x86 VNNI, ARM SDOT) gets full blocks. Deployed layers whose input
  // channels per group are not a multiple of the block (the 1-channel stem) and the auxiliary
  // heads stay unstructured. 1: unstructured (the default).
  int block_input_channels = 1;

  // Knowledge distillation in every retraining phase (recipe key "distillation"): the teacher's
  // checkpoint ("from": the --from checkpoint), the softmax temperature T and the weight w of the
  // soft loss: (1 - w) CE + w T^2 KL (train/distill.h). Empty teacher: none.
  std::string distill_teacher;
  double distill_temperature = 4.0;
  double distill_weight = 0.5;

  std::string text;  // the recipe as read
};

PruneRecipe parse_recipe(const std::string& text, const std::string& what);
PruneRecipe read_recipe(const std::string& path);

}  // namespace gnconvert
