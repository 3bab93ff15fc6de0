// gn-convert: command-line front end. Parses arguments into the option structs of options.h and
// calls the commands; every failure becomes one line on stderr and a nonzero exit status.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "data.h"
#include "options.h"

using namespace gnconvert;

namespace {

void add_data_options(CLI::App* app, DataOptions* d, bool training) {
  app->add_option("--dataset", d->dataset, "fashion-mnist | mnist | cifar10")
      ->check(CLI::IsMember({"fashion-mnist", "mnist", "cifar10"}))
      ->capture_default_str();
  app->add_option("--data-dir", d->data_dir, "dataset directory (default: the dataset's own)");
  if (training) {
    app->add_option("--size", d->height, "input resolution (square), pixels")
        ->check(CLI::Range(8, 1024))
        ->each([d](const std::string& v) { d->width = std::stoi(v); })
        ->capture_default_str();
    app->add_option("--validation", d->validation, "images held out from the training set")
        ->check(CLI::Range(0, 10000000))
        ->capture_default_str();
    app->add_option("--split-seed", d->split_seed, "seed of the validation split")
        ->capture_default_str();
    app->add_flag("!--no-augment", d->augment, "disable random shift and flip");
    app->add_option("--crop-pad", d->crop_pad, "random shift range, source pixels")
        ->check(CLI::Range(0, 16))
        ->capture_default_str();
    app->add_flag("!--no-flip", d->flip, "disable horizontal flips");
  }
  app->add_option("--limit-train", d->limit_train, "use only N training images (0 = all)")
      ->check(CLI::Range(0, 100000000));
  app->add_option("--limit-validation", d->limit_validation, "use only N validation images")
      ->check(CLI::Range(0, 100000000));
  app->add_option("--limit-test", d->limit_test, "use only N test images")
      ->check(CLI::Range(0, 100000000));
}

void add_run_options(CLI::App* app, RunOptions* r, bool out) {
  app->add_option("--threads", r->threads, "torch threads (fixed for reproducibility)")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app->add_option("--eval-batch", r->eval_batch, "evaluation batch size")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  if (out) {
    app->add_option("--out", r->out_dir, "output directory (checkpoints, history, reports)")
        ->required();
    app->add_option("--seed", r->seed, "random seed (same seed, same result)")
        ->capture_default_str();
    app->add_flag("--resume", r->resume, "continue from <out>/checkpoint.pt");
    app->add_option("--progress-seconds", r->progress_seconds,
                    "progress line period when stderr is not a terminal")
        ->check(CLI::Range(1, 3600));
    app->add_option("--max-steps", r->max_steps, "stop after N optimizer steps in total")
        ->check(CLI::Range(0, 2000000000));
    app->add_option("--checkpoint-steps", r->checkpoint_steps,
                    "also checkpoint every N steps within an epoch")
        ->check(CLI::Range(0, 2000000000));
  }
}

void add_optim_options(CLI::App* app, OptimOptions* o) {
  app->add_option("--optimizer", o->optimizer, "sgd | adam")
      ->check(CLI::IsMember({"sgd", "adam"}))
      ->capture_default_str();
  app->add_option("--lr", o->lr, "peak learning rate")->check(CLI::Range(0.0, 10.0))->capture_default_str();
  app->add_option("--lr-min", o->lr_min, "final learning rate (cosine)")->check(CLI::Range(0.0, 10.0));
  app->add_option("--schedule", o->schedule, "cosine | step | constant")
      ->check(CLI::IsMember({"cosine", "step", "constant"}))
      ->capture_default_str();
  app->add_option("--step-epochs", o->step_epochs, "step schedule period")->check(CLI::Range(1, 100000));
  app->add_option("--gamma", o->gamma, "step schedule factor")->check(CLI::Range(0.0, 1.0));
  app->add_option("--warmup-epochs", o->warmup_epochs, "linear warm-up")->check(CLI::Range(0.0, 1000.0));
  app->add_option("--momentum", o->momentum, "SGD momentum")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app->add_flag("!--no-nesterov", o->nesterov, "plain momentum instead of Nesterov");
  app->add_option("--weight-decay", o->weight_decay, "L2 weight decay")->check(CLI::Range(0.0, 1.0))->capture_default_str();
  app->add_option("--batch", o->batch, "batch size")->check(CLI::Range(1, 100000))->capture_default_str();
  app->add_option("--epochs", o->epochs, "epochs")->check(CLI::Range(1, 100000))->capture_default_str();
}

std::string join_args(int argc, char** argv) {
  std::string s;
  for (int i = 0; i < argc; ++i) {
    if (i) s += ' ';
    std::string a = argv[i];
    bool quote = a.find_first_of(" \t'\"") != std::string::npos || a.empty();
    s += quote ? "'" + a + "'" : a;
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gn-convert: train, threshold-prune, retrain and export GoogLeNet (.gnrt)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gn-convert 0.1.0");

  SummaryOptions summary;
  auto* summary_cmd = app.add_subcommand("summary", "per-layer parameter table and feature-map sizes");
  summary_cmd->add_option("--classes", summary.classes, "number of classes")
      ->check(CLI::Range(2, 100000))
      ->capture_default_str();
  summary_cmd->add_option("--channels", summary.in_channels, "input channels")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  summary_cmd->add_option("--size", summary.height, "input resolution (square)")
      ->check(CLI::Range(1, 4096))
      ->each([&](const std::string& v) { summary.width = std::stoi(v); })
      ->capture_default_str();
  summary_cmd->add_flag("--json", summary.json, "JSON output");
  summary_cmd->add_flag("--force", summary.force, "exit 0 even when a kernel sees 1x1 maps");

  TrainOptions train;
  auto* train_cmd = app.add_subcommand("train", "train GoogLeNet (dense, or continue a checkpoint)");
  add_data_options(train_cmd, &train.data, true);
  add_run_options(train_cmd, &train.run, true);
  add_optim_options(train_cmd, &train.optim);
  train_cmd->add_flag("!--no-aux", train.model.aux_heads, "train without the auxiliary heads");
  train_cmd->add_option("--aux-weight", train.model.aux_weight, "auxiliary loss weight")
      ->check(CLI::Range(0.0, 10.0))
      ->capture_default_str();
  train_cmd->add_option("--init", train.init_checkpoint, "start from the weights of a checkpoint")
      ->check(CLI::ExistingFile);

  PruneOptions prune;
  auto* prune_cmd = app.add_subcommand("prune", "threshold-prune and retrain following a recipe");
  prune_cmd->add_option("--recipe", prune.recipe_path, "recipe file (JSON)")
      ->required()
      ->check(CLI::ExistingFile);
  prune_cmd->add_option("--from", prune.from_checkpoint, "trained model (gn-convert checkpoint)")
      ->check(CLI::ExistingFile);
  add_data_options(prune_cmd, &prune.data, false);
  add_run_options(prune_cmd, &prune.run, true);

  EvalOptions eval;
  auto* eval_cmd = app.add_subcommand("eval", "accuracy of a checkpoint");
  eval_cmd->add_option("checkpoint", eval.checkpoint, "gn-convert checkpoint")
      ->required()
      ->check(CLI::ExistingFile);
  eval_cmd->add_option("--split", eval.split, "test | validation | train")
      ->check(CLI::IsMember({"test", "validation", "train"}))
      ->capture_default_str();
  eval_cmd->add_option("--data-dir", eval.data.data_dir, "dataset directory");
  eval_cmd->add_option("--limit", eval.data.limit_test, "use only the first N images")
      ->check(CLI::Range(0, 100000000))
      ->each([&](const std::string& v) {
        eval.data.limit_validation = eval.data.limit_train = std::stoi(v);
      });
  eval_cmd->add_flag("--json", eval.json, "JSON output");
  add_run_options(eval_cmd, &eval.run, false);

  ExportOptions exp;
  auto* export_cmd = app.add_subcommand("export", "fold BatchNorm, drop aux heads, write .gnrt and verify it");
  export_cmd->add_option("checkpoint", exp.checkpoint, "gn-convert checkpoint")
      ->required()
      ->check(CLI::ExistingFile);
  export_cmd->add_option("-o,--output", exp.output, "output .gnrt file")->required();
  export_cmd->add_flag("--float16", exp.float16, "store weights as float16");
  export_cmd->add_option("--encoding", exp.encoding, "auto | sparse | dense")
      ->check(CLI::IsMember({"auto", "sparse", "dense"}))
      ->capture_default_str();
  export_cmd->add_flag("!--no-softmax", exp.softmax, "leave logits as the model output");
  export_cmd->add_option("--verify-images", exp.verify_images,
                         "validation images compared between libgnrt and LibTorch")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  export_cmd->add_option("--tolerance", exp.tolerance,
                         "largest |difference| allowed, times max(1, largest |logit|) "
                         "(default 1e-4, with --float16 3e-2)")
      ->check(CLI::Range(0.0, 1.0));
  export_cmd->add_flag("--skip-test-eval", exp.skip_test_eval,
                       "do not evaluate the test set for the metadata");
  export_cmd->add_option("--data-dir", exp.data.data_dir, "dataset directory");
  export_cmd->add_option("--limit-test", exp.data.limit_test, "use only N test images")
      ->check(CLI::Range(0, 100000000));
  add_run_options(export_cmd, &exp.run, false);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    if (msg.empty()) msg = "invalid command line";
    std::fprintf(stderr, "gn-convert: error: %s (see --help)\n", msg.c_str());
    return 2;
  }

  const std::string command_line = join_args(argc, argv);
  try {
    if (*summary_cmd) return run_summary(summary);
    if (*train_cmd) {
      train.run.command_line = command_line;
      return run_train(train);
    }
    if (*prune_cmd) {
      prune.run.command_line = command_line;
      return run_prune(prune);
    }
    if (*eval_cmd) return run_eval(eval);
    if (*export_cmd) {
      exp.run.command_line = command_line;
      return run_export(exp);
    }
  } catch (const std::exception& e) {
    std::string msg = e.what();
    // LibTorch messages carry a C++ backtrace after the first line; keep the first line.
    auto newline = msg.find('\n');
    if (newline != std::string::npos) msg = msg.substr(0, newline);
    std::fprintf(stderr, "gn-convert: error: %s\n", msg.c_str());
    return 1;
  }
  return 1;
}
