// The training loop: a schedule of stages (training phases and actions) run with checkpoints, so
// that a run stopped anywhere resumes to the same weights as an uninterrupted one.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "train/session.h"
#include "util/options.h"

namespace gnconvert {

class Distiller;

// One entry of a schedule: either an action (pruning, BN re-estimation, evaluation) or a
// training phase of optim.epochs epochs.
struct Stage {
  std::string name;
  bool train = false;
  OptimOptions optim;
  std::function<void(Session&)> action;  // for action stages; may record into session.report
  // Training stages: called before every optimizer step (gradual pruning); may be empty.
  std::function<void(Session&, std::int64_t step, std::int64_t total_steps)> before_step;
  // Training stages: the main head learns from this teacher too (train/distill.h); may be null.
  std::shared_ptr<Distiller> distill;
};

// Learning rate at `step` of a phase with `total_steps` steps (`steps_per_epoch` per epoch).
double learning_rate(const OptimOptions& optim, std::int64_t step, std::int64_t total_steps,
                     std::int64_t steps_per_epoch);

// Runs the stages from session.stage onward, writing a checkpoint after every epoch and action.
// Returns false when stopped early by run.max_steps. With a group, each rank computes batch/N
// images of every step (the batch must divide by the world size), masks changed by an action or
// before_step are taken from rank 0, and the ranks check after every epoch that their models are
// still bitwise equal.
bool run_stages(Session& session, const std::vector<Stage>& stages);

}  // namespace gnconvert
