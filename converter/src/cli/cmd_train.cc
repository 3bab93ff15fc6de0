// gn-convert train: trains GoogLeNet (dense, or from the weights of a checkpoint) with
// checkpoints after every epoch, optionally data-parallel.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "train/checkpoint.h"
#include "train/evaluation.h"
#include "train/session.h"
#include "train/trainer.h"
#include "util/files.h"
#include "util/options_json.h"
#include "util/text.h"

namespace gnconvert {
namespace {

using json = nlohmann::json;

// Time per training step of this run, and the part spent in collectives (data-parallel runs).
json step_timing(const Session& s) {
  const double steps = static_cast<double>(std::max<std::int64_t>(1, s.timed_steps));
  return json{
      {"world_size", s.world_size()},
      {"steps", s.timed_steps},
      {"seconds_per_step", s.step_seconds / steps},
      {"communication_seconds_per_step", s.step_comm_seconds / steps},
      {"communication_share", s.step_seconds > 0 ? s.step_comm_seconds / s.step_seconds : 0.0}};
}

std::string timing_line(const json& t) {
  char line[256];
  std::snprintf(line, sizeof line,
                "timing: %d ranks, %lld steps, %.3f s/step, of which collectives %.3f s (%.1f%%)",
                t["world_size"].get<int>(), t["steps"].get<long long>(),
                t["seconds_per_step"].get<double>(),
                t["communication_seconds_per_step"].get<double>(),
                100.0 * t["communication_share"].get<double>());
  return line;
}

int run_train(const TrainOptions& o) {
  Session s;
  s.data = o.data;
  s.model = o.model;
  s.optim = o.optim;
  s.run = o.run;
  set_threads(s.run.threads);
  start_distributed(s);
  if (s.writes_files()) make_dirs(s.run.out_dir);
  const std::string ckpt = s.checkpoint_path();
  bool resumed = false;
  if (file_exists_shared(s, ckpt)) {
    if (!o.run.resume) {
      throw std::runtime_error(ckpt +
                               " exists; pass --resume to continue it or choose another --out");
    }
    load_checkpoint(s, ckpt, /*weights_only=*/false);
    resumed = true;
    log_line(s, "resuming " + ckpt + " at epoch " + std::to_string(s.epoch + 1) + " step " +
                    std::to_string(s.step) + " (options from the checkpoint)");
  } else if (o.run.resume) {
    throw std::runtime_error("nothing to resume: " + ckpt + " does not exist");
  }
  s.command_lines.push_back(o.run.command_line);
  load_data(s);
  if (!resumed) {
    create_model(s);
    if (!o.init_checkpoint.empty()) load_checkpoint(s, o.init_checkpoint, /*weights_only=*/true);
  }
  check_geometry(s.net, s.data.height, s.data.width);
  log_line(s, "data: " + s.data.dataset + ", " + std::to_string(s.split.train.size()) +
                  " training / " + std::to_string(s.split.validation.size()) + " validation / " +
                  std::to_string(s.test_indices.size()) + " test images at " +
                  std::to_string(s.data.height) + "x" + std::to_string(s.data.width) +
                  "; model: " + std::to_string(count_params(s.net, false)) + " weights");

  Stage stage;
  stage.name = "train";
  stage.train = true;
  stage.optim = s.optim;
  bool finished = run_stages(s, {stage});
  json timing = step_timing(s);
  if (s.group) log_line(s, timing_line(timing));
  if (!finished) {
    log_line(s, "stopped after " + std::to_string(s.global_step) + " steps (--max-steps)");
    write_output(s, s.run.out_dir + "/timing.json", timing.dump(2) + "\n");
    finish_distributed(s);
    return 0;
  }
  EvalResult val = evaluate_validation(s);
  EvalResult test = evaluate_test(s);
  s.report["validation_accuracy"] = val.accuracy;
  s.report["test_accuracy"] = test.accuracy;
  s.report["test_images"] = test.count;
  save_checkpoint(s, ckpt, nullptr);
  json result = {{"validation_accuracy", val.accuracy},
                 {"test_accuracy", test.accuracy},
                 {"test_loss", test.loss},
                 {"test_images", test.count},
                 {"history", s.history},
                 {"command_lines", s.command_lines},
                 {"options", {{"data", s.data}, {"optim", s.optim}, {"model", s.model}}},
                 {"timing", timing}};
  write_output(s, s.run.out_dir + "/train-result.json", result.dump(2) + "\n");
  write_output(s, s.run.out_dir + "/timing.json", timing.dump(2) + "\n");
  log_line(s, "done: validation " + percent(val.accuracy) + ", test " + percent(test.accuracy) +
                  " (" + std::to_string(test.count) + " images); checkpoint " + ckpt);
  finish_distributed(s);
  return 0;
}

}  // namespace

Command add_train_command(CLI::App& app) {
  auto o = std::make_shared<TrainOptions>();
  auto* cmd = app.add_subcommand("train", "train GoogLeNet (dense, or continue a checkpoint)");
  add_data_options(cmd, &o->data, true);
  add_run_options(cmd, &o->run, true);
  add_optim_options(cmd, &o->optim);
  add_dist_options(cmd, &o->run.dist);
  cmd->add_flag("!--no-aux", o->model.aux_heads, "train without the auxiliary heads");
  cmd->add_option("--aux-weight", o->model.aux_weight, "auxiliary loss weight")
      ->check(CLI::Range(0.0, 10.0))
      ->capture_default_str();
  cmd->add_option("--init", o->init_checkpoint, "start from the weights of a checkpoint")
      ->check(CLI::ExistingFile);

  Command c;
  c.app = cmd;
  c.check = [o]() -> std::string {
    std::string error = dist_options_error(o->run.dist);
    if (!error.empty()) return error;
    if (o->optim.batch % o->run.dist.world_size != 0) {
      return "--batch " + std::to_string(o->optim.batch) + " is not divisible by --world-size " +
             std::to_string(o->run.dist.world_size) +
             " (each rank computes batch/world-size images of every step)";
    }
    return "";
  };
  c.run = [o](const std::string& command_line) {
    o->run.command_line = command_line;
    return run_train(*o);
  };
  return c;
}

}  // namespace gnconvert
