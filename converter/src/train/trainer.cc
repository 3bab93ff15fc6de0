#include "train/trainer.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "dist/process_group.h"
#include "train/checkpoint.h"
#include "train/data_parallel.h"
#include "train/distill.h"
#include "train/evaluation.h"
#include "util/files.h"
#include "util/options_json.h"
#include "util/text.h"

namespace gnconvert {

namespace F = torch::nn::functional;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double learning_rate(const OptimOptions& o, std::int64_t step, std::int64_t total_steps,
                     std::int64_t steps_per_epoch) {
  double warmup = o.warmup_epochs * static_cast<double>(steps_per_epoch);
  if (warmup > 0 && step < warmup) return o.lr * (step + 1) / warmup;
  if (o.schedule == "constant") return o.lr;
  if (o.schedule == "step") {
    std::int64_t epoch = steps_per_epoch > 0 ? step / steps_per_epoch : 0;
    return o.lr * std::pow(o.gamma, static_cast<double>(epoch / std::max(1, o.step_epochs)));
  }
  if (o.schedule == "cosine") {
    double span = std::max(1.0, static_cast<double>(total_steps) - warmup);
    double t = std::min(1.0, std::max(0.0, (step - warmup) / span));
    return o.lr_min + 0.5 * (o.lr - o.lr_min) * (1.0 + std::cos(M_PI * t));
  }
  throw std::invalid_argument("unknown LR schedule '" + o.schedule +
                              "' (expected cosine, step or constant)");
}

namespace {

std::unique_ptr<torch::optim::Optimizer> make_optimizer(GoogLeNet& net, const OptimOptions& o) {
  if (o.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(net->parameters(),
                                               torch::optim::SGDOptions(o.lr)
                                                   .momentum(o.momentum)
                                                   .nesterov(o.nesterov && o.momentum > 0)
                                                   .weight_decay(o.weight_decay));
  }
  if (o.optimizer == "adam") {
    return std::make_unique<torch::optim::Adam>(
        net->parameters(), torch::optim::AdamOptions(o.lr).weight_decay(o.weight_decay));
  }
  throw std::invalid_argument("unknown optimizer '" + o.optimizer + "' (expected sgd or adam)");
}

void set_lr(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

// Changes whenever pruning removes a weight or masks a new layer (masks only ever shrink).
std::pair<std::size_t, double> mask_signature(const Session& s) {
  double kept = 0;
  for (const auto& kv : s.masks) kept += kv.second.sum().item<double>();
  return {s.masks.size(), kept};
}

// The ranks must run the same schedule on the same model: compare the options that decide it and
// the weights before the first step.
void check_group_start(Session& s, const std::vector<Stage>& stages) {
  const int world = s.world_size();
  json schedule = json::array();
  for (const Stage& stage : stages) {
    if (stage.train && stage.optim.batch % world != 0) {
      throw std::invalid_argument("batch " + std::to_string(stage.optim.batch) + " of stage " +
                                  stage.name + " is not divisible by --world-size " +
                                  std::to_string(world) +
                                  " (each rank computes batch/world-size images of a step)");
    }
    schedule.push_back({{"name", stage.name}, {"train", stage.train}, {"optim", stage.optim}});
  }
  json options = {{"data", s.data},
                  {"model", s.model},
                  {"seed", s.run.seed},
                  {"max_steps", s.run.max_steps},
                  {"checkpoint_steps", s.run.checkpoint_steps},
                  {"progress", {s.stage, s.epoch, s.step, s.global_step}},
                  {"schedule", schedule}};
  check_same_text(*s.group, options.dump(), "options (data, model, seed, schedule, progress)");
  broadcast_masks(*s.group, s.net, &s.masks);
  check_replicas(*s.group, s.net, "at the start");
}

// An action stage (pruning, BN re-estimation, evaluation), then a checkpoint at the next stage.
void run_action(Session& s, const Stage& stage) {
  if (stage.action) stage.action(s);
  // Pruning is decided by rank 0: the others take its masks (equal ones, in fact, since every
  // rank holds the same weights and runs the same deterministic decision).
  if (s.group) broadcast_masks(*s.group, s.net, &s.masks);
  ++s.stage;
  s.epoch = 0;
  s.step = 0;
  s.optimizer_state.clear();
  if (!s.run.out_dir.empty()) save_checkpoint(s, s.checkpoint_path(), nullptr);
}

// The constants of one training stage and its timing in this run.
struct Phase {
  const Stage& stage;
  const OptimOptions& o;
  std::int64_t steps_per_epoch = 0;
  std::int64_t total_steps = 0;
  bool tty = false;
  Clock::time_point start;
  std::int64_t steps_this_run = 0;
};

// Running sums of the current epoch.
struct Epoch {
  double loss_sum = 0;
  std::int64_t correct = 0, seen = 0;
  Clock::time_point start, last_print;
  std::int64_t first_step = 0;
};

// Data-parallel forward hooks for the duration of one step (none without a group).
struct StepHooks {
  ForwardHooks hooks;
  std::unique_ptr<ForwardHooksGuard> guard;
  explicit StepHooks(ProcessGroup* group) {
    if (group) {
      hooks = data_parallel_hooks(*group);
      guard = std::make_unique<ForwardHooksGuard>(&hooks);
    }
  }
  void release() { guard.reset(); }
};

// One optimizer step of the global batch at position s.step of `order`; adds its loss and
// correct count to `epoch`.
void train_step(Session& s, const Phase& p, torch::optim::Optimizer& optimizer,
                const std::vector<std::size_t>& order, std::int64_t phase_step, Epoch* epoch) {
  const OptimOptions& o = p.o;
  if (p.stage.before_step) {
    auto masks_before = s.group ? mask_signature(s) : std::pair<std::size_t, double>{};
    p.stage.before_step(s, phase_step, p.total_steps);
    if (s.group && mask_signature(s) != masks_before) broadcast_masks(*s.group, s.net, &s.masks);
  }
  const auto step_start = Clock::now();
  const double comm_start = s.group ? s.group->stats().seconds : 0.0;
  // This rank's images of the step: positions [rank * local, (rank + 1) * local) of the global
  // batch (all of it without a group).
  const std::size_t local = static_cast<std::size_t>(o.batch / s.world_size());
  const std::size_t offset = static_cast<std::size_t>(s.rank()) * local;
  const std::size_t begin = static_cast<std::size_t>(s.step * o.batch) + offset;
  const std::size_t end = begin + local;
  const std::uint64_t step_seed = mix_seed(s.run.seed, s.stage, s.epoch, s.step + 1);
  auto x = make_batch(s.dataset.train, order, begin, end, s.norm, s.data.height, s.data.width,
                      &s.data, step_seed, offset);
  auto y = make_labels(s.dataset.train, order, begin, end);
  torch::manual_seed(mix_seed(step_seed, 0xD0));  // dropout draws of this step
  set_lr(optimizer, learning_rate(o, phase_step, p.total_steps, p.steps_per_epoch));
  optimizer.zero_grad();
  StepHooks hooks(s.group);
  auto out = s.net->forward_all(x, s.model.aux_heads);
  auto loss = p.stage.distill ? p.stage.distill->loss(s, x, out.logits, y)
                              : F::cross_entropy(out.logits, y);
  if (out.aux1.defined()) loss = loss + s.model.aux_weight * F::cross_entropy(out.aux1, y);
  if (out.aux2.defined()) loss = loss + s.model.aux_weight * F::cross_entropy(out.aux2, y);
  loss.backward();
  hooks.release();
  double loss_value = loss.item<double>();
  std::int64_t batch_correct = out.logits.argmax(1).eq(y).sum().item<int64_t>();
  if (s.group) {
    // Loss and accuracy of the global batch travel with the gradients.
    std::vector<float> sums = {static_cast<float>(loss_value * static_cast<double>(local)),
                               static_cast<float>(batch_correct)};
    average_gradients(*s.group, s.net, &sums);
    loss_value = sums[0] / o.batch;
    batch_correct = static_cast<std::int64_t>(std::llround(sums[1]));
  }
  mask_gradients(s.net, s.masks);
  optimizer.step();
  apply_masks(s.net, s.masks);
  s.step_seconds += std::chrono::duration<double>(Clock::now() - step_start).count();
  if (s.group) s.step_comm_seconds += s.group->stats().seconds - comm_start;
  ++s.timed_steps;
  if (!std::isfinite(loss_value)) {
    throw std::runtime_error("training diverged (loss " + std::to_string(loss_value) +
                             " at epoch " + std::to_string(s.epoch + 1) + " step " +
                             std::to_string(s.step + 1) + "); lower the learning rate");
  }
  epoch->loss_sum += loss_value * o.batch;
  epoch->correct += batch_correct;
  epoch->seen += o.batch;
}

// The progress line: every second on a terminal (rewritten in place), every --progress-seconds
// otherwise, and at the end of every epoch.
void print_progress(const Session& s, const Phase& p, std::int64_t phase_step, Epoch* e) {
  const OptimOptions& o = p.o;
  auto now = Clock::now();
  double since_print = std::chrono::duration<double>(now - e->last_print).count();
  bool last = s.step + 1 == p.steps_per_epoch;
  if (s.quiet || !(last || since_print >= (p.tty ? 1.0 : s.run.progress_seconds))) return;
  e->last_print = now;
  double elapsed = std::chrono::duration<double>(now - p.start).count();
  double per_step = elapsed / std::max<std::int64_t>(1, p.steps_this_run);
  double epoch_elapsed = std::chrono::duration<double>(now - e->start).count();
  double ips = (s.step + 1 - e->first_step) * o.batch / std::max(1e-9, epoch_elapsed);
  std::int64_t remaining_stage = p.total_steps - (phase_step + 1);
  std::int64_t remaining_epoch = p.steps_per_epoch - (s.step + 1);
  char line[256];
  std::snprintf(line, sizeof line,
                "%s epoch %d/%d step %lld/%lld loss %.4f acc %.2f%% lr %.4g %.1f img/s "
                "ETA epoch %s, %s %s",
                p.stage.name.c_str(), s.epoch + 1, o.epochs, static_cast<long long>(s.step + 1),
                static_cast<long long>(p.steps_per_epoch), e->loss_sum / e->seen,
                100.0 * e->correct / e->seen,
                learning_rate(o, phase_step, p.total_steps, p.steps_per_epoch), ips,
                format_duration(remaining_epoch * per_step).c_str(), p.stage.name.c_str(),
                format_duration(remaining_stage * per_step).c_str());
  if (p.tty) {
    std::cerr << "\r" << line << "\x1b[K" << std::flush;
  } else {
    std::cerr << line << "\n" << std::flush;
  }
}

// After the last step of an epoch: replica check, validation, the history record and line, and
// the checkpoint (at the next epoch, or at the next stage after the stage's last epoch).
void finish_epoch(Session& s, const Phase& p, torch::optim::Optimizer& optimizer, const Epoch& e) {
  const OptimOptions& o = p.o;
  if (p.tty && !s.quiet) std::cerr << "\n";
  if (s.group) {
    check_replicas(*s.group, s.net,
                   "after epoch " + std::to_string(s.epoch + 1) + " of " + p.stage.name);
  }
  double seconds = std::chrono::duration<double>(Clock::now() - e.start).count();
  EvalResult val = evaluate_validation(s);
  json record = {{"stage", p.stage.name},
                 {"epoch", s.epoch + 1},
                 {"epochs", o.epochs},
                 {"train_loss", e.seen ? e.loss_sum / e.seen : 0.0},
                 {"train_accuracy", e.seen ? static_cast<double>(e.correct) / e.seen : 0.0},
                 {"validation_loss", val.loss},
                 {"validation_accuracy", val.accuracy},
                 {"lr_end", learning_rate(o, (s.epoch + 1) * p.steps_per_epoch - 1, p.total_steps,
                                          p.steps_per_epoch)},
                 {"seconds", seconds},
                 {"images_per_second", seconds > 0 ? (e.seen / seconds) : 0.0},
                 {"nonzeros", count_nonzeros(s.net, false)}};
  s.history.push_back(record);
  char line[256];
  std::snprintf(line, sizeof line,
                "%s epoch %d/%d: train loss %.4f acc %.2f%% | validation loss %.4f acc %.2f%% "
                "| %.0f s, %.1f img/s",
                p.stage.name.c_str(), s.epoch + 1, o.epochs, record["train_loss"].get<double>(),
                100.0 * record["train_accuracy"].get<double>(), val.loss, 100.0 * val.accuracy,
                seconds, record["images_per_second"].get<double>());
  log_line(s, line);
  s.step = 0;
  if (s.run.out_dir.empty()) return;
  if (s.epoch + 1 == o.epochs) {
    ++s.epoch;
    ++s.stage;
    int saved_epoch = s.epoch;
    s.epoch = 0;
    save_checkpoint(s, s.checkpoint_path(), nullptr);
    s.epoch = saved_epoch;
    --s.stage;
  } else {
    ++s.epoch;
    save_checkpoint(s, s.checkpoint_path(), &optimizer);
    --s.epoch;
  }
  write_output(s, s.run.out_dir + "/history.json", s.history.dump(2) + "\n");
}

// The optimizer of a training stage, with the state a checkpoint left for it.
std::unique_ptr<torch::optim::Optimizer> stage_optimizer(Session& s, const OptimOptions& o) {
  auto optimizer = make_optimizer(s.net, o);
  if (!s.optimizer_state.empty()) {
    torch::serialize::InputArchive archive;
    archive.load_from(s.optimizer_state.data(), s.optimizer_state.size());
    optimizer->load(archive);
    s.optimizer_state.clear();
  }
  return optimizer;
}

// Runs a training stage from s.epoch / s.step to its end; false when stopped by run.max_steps.
bool run_training(Session& s, const Stage& stage, bool tty) {
  const OptimOptions& o = stage.optim;
  if (o.batch < 1) throw std::invalid_argument("batch size must be >= 1");
  const auto& train_indices = s.split.train;
  Phase p{stage, o};
  // The last partial batch of an epoch is dropped.
  p.steps_per_epoch = static_cast<std::int64_t>(train_indices.size()) / o.batch;
  if (p.steps_per_epoch < 1) {
    throw std::invalid_argument("training split (" + std::to_string(train_indices.size()) +
                                " images) smaller than one batch");
  }
  p.total_steps = p.steps_per_epoch * o.epochs;
  p.tty = tty;
  auto optimizer = stage_optimizer(s, o);
  s.net->train();
  p.start = Clock::now();
  for (; s.epoch < o.epochs; ++s.epoch) {
    auto order = epoch_order(train_indices, mix_seed(s.run.seed, s.stage, s.epoch, 0xE0C));
    Epoch e;
    e.start = e.last_print = Clock::now();
    e.first_step = s.step;
    for (; s.step < p.steps_per_epoch; ++s.step) {
      if (s.run.max_steps > 0 && s.global_step >= s.run.max_steps) {
        if (tty && !s.quiet) std::cerr << "\n";
        return false;
      }
      const std::int64_t phase_step = s.epoch * p.steps_per_epoch + s.step;
      train_step(s, p, *optimizer, order, phase_step, &e);
      ++s.global_step;
      ++p.steps_this_run;
      print_progress(s, p, phase_step, &e);
      const bool last = s.step + 1 == p.steps_per_epoch;
      if (s.run.checkpoint_steps > 0 && !s.run.out_dir.empty() && !last &&
          (s.step + 1) % s.run.checkpoint_steps == 0) {
        ++s.step;
        save_checkpoint(s, s.checkpoint_path(), optimizer.get());
        --s.step;
      }
    }
    finish_epoch(s, p, *optimizer, e);
  }
  return true;
}

}  // namespace

bool run_stages(Session& s, const std::vector<Stage>& stages) {
  const bool tty = ::isatty(STDERR_FILENO);
  if (s.group) check_group_start(s, stages);
  while (s.stage < static_cast<int>(stages.size())) {
    const Stage& stage = stages[s.stage];
    if (!stage.train) {
      run_action(s, stage);
      continue;
    }
    if (!run_training(s, stage, tty)) return false;
    ++s.stage;
    s.epoch = 0;
    s.step = 0;
  }
  return true;
}

}  // namespace gnconvert
