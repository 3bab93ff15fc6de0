// gn-convert prune: threshold-prunes a trained model and retrains it following a recipe
// (docs/converter.md), resumable, optionally data-parallel; writes the pruned checkpoint and the
// report files.
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "prune/recipe.h"
#include "prune/schedule.h"
#include "prune/stages.h"
#include "report/layer_report.h"
#include "report/prune_report.h"
#include "train/checkpoint.h"
#include "train/session.h"
#include "train/trainer.h"
#include "util/files.h"
#include "util/options_json.h"

namespace gnconvert {
namespace {

using json = nlohmann::json;

// Continues the run in <out>/checkpoint.pt: its options, progress and saved recipe.
PruneRecipe resume_run(Session& s, const std::string& ckpt) {
  json meta = read_checkpoint_meta(s, ckpt);
  if (!meta["extra"].contains("recipe")) throw std::runtime_error(ckpt + ": not a prune run");
  s.data = meta.at("data").get<DataOptions>();
  s.model = meta.at("model").get<ModelOptions>();
  load_data(s);
  load_checkpoint(s, ckpt, /*weights_only=*/false);
  PruneRecipe recipe = parse_recipe(s.extra["recipe"].get<std::string>(), ckpt + " (saved recipe)");
  log_line(s, "resuming " + ckpt + " at stage " + std::to_string(s.stage));
  return recipe;
}

// Starts a run from --from with --recipe; the data options are the checkpoint's, limits and
// --data-dir from the command line.
PruneRecipe start_run(Session& s, const PruneOptions& o) {
  if (o.from_checkpoint.empty()) throw std::invalid_argument("--from is required");
  PruneRecipe recipe = read_recipe(o.recipe_path);
  json meta = read_checkpoint_meta(o.from_checkpoint);
  s.data = meta.at("data").get<DataOptions>();
  s.model = meta.at("model").get<ModelOptions>();
  if (!o.data.data_dir.empty()) s.data.data_dir = o.data.data_dir;
  s.data.limit_train = o.data.limit_train;
  s.data.limit_validation = o.data.limit_validation;
  s.data.limit_test = o.data.limit_test;
  load_data(s);
  load_checkpoint(s, o.from_checkpoint, /*weights_only=*/true);
  s.optim = recipe.retrain;
  s.extra["recipe"] = recipe.text;
  s.extra["from"] = o.from_checkpoint;
  return recipe;
}

PruneRecipe open_run(Session& s, const PruneOptions& o) {
  const std::string ckpt = s.checkpoint_path();
  if (file_exists_shared(s, ckpt)) {
    if (!o.run.resume) {
      throw std::runtime_error(ckpt +
                               " exists; pass --resume to continue it or choose another --out");
    }
    return resume_run(s, ckpt);
  }
  if (o.run.resume) throw std::runtime_error("nothing to resume: " + ckpt + " does not exist");
  return start_run(s, o);
}

int run_prune(const PruneOptions& o) {
  Session s;
  s.run = o.run;
  set_threads(s.run.threads);
  start_distributed(s);  // data-parallel group (docs/distributed.md); a no-op for one process
  make_dirs(s.run.out_dir);
  auto plan = std::make_shared<PrunePlan>();
  plan->recipe = open_run(s, o);
  s.command_lines.push_back(o.run.command_line);
  check_geometry(s.net, s.data.height, s.data.width);
  const PruneRecipe& recipe = plan->recipe;
  plan->targets = prune_targets(recipe, count_params(s.net, recipe.scope == "deployed"),
                                count_params(s.net, false) - count_params(s.net, true));

  if (!run_stages(s, pruning_stages(plan))) {
    log_line(s, "stopped after " + std::to_string(s.global_step) + " steps (--max-steps)");
    return 0;
  }
  check_pruned_weights_zero(s.net, s.masks);
  json layers = layer_report(s);
  s.report["pruning"] = {{"training_graph", layers["training_graph"]},
                         {"deployed_graph", layers["deployed_graph"]},
                         {"method", recipe.mode + "/" + recipe.schedule},
                         {"recipe", recipe.text}};
  save_checkpoint(s, s.checkpoint_path(), nullptr);
  std::string text = write_prune_report(s, layers, recipe.text, o.run.command_line);
  if (!s.quiet) std::cout << text;
  return 0;
}

}  // namespace

Command add_prune_command(CLI::App& app) {
  auto o = std::make_shared<PruneOptions>();
  auto* cmd = app.add_subcommand("prune", "threshold-prune and retrain following a recipe");
  cmd->add_option("--recipe", o->recipe_path, "recipe file (JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--from", o->from_checkpoint, "trained model (gn-convert checkpoint)")
      ->check(CLI::ExistingFile);
  add_data_options(cmd, &o->data, false);
  add_run_options(cmd, &o->run, true);
  add_dist_options(cmd, &o->run.dist);

  Command c;
  c.app = cmd;
  c.check = [o] { return dist_options_error(o->run.dist); };
  c.run = [o](const std::string& command_line) {
    o->run.command_line = command_line;
    return run_prune(*o);
  };
  return c;
}

}  // namespace gnconvert
