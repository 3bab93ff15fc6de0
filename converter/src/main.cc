// gn-convert: command-line front end. Parses arguments into the option structs of options.h and
// calls the commands; every failure becomes one line on stderr and a nonzero exit status.
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include "data.h"
#include "distributed.h"
#include "options.h"
#include "results.h"

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

void add_dist_options(CLI::App* app, DistOptions* d) {
  app->add_option("--world-size", d->world_size, "data-parallel processes in the group")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  app->add_option("--rank", d->rank, "this process's rank, 0..world-size-1 (rank 0 writes files)")
      ->check(CLI::Range(0, 4095))
      ->capture_default_str();
  app->add_option("--rendezvous", d->rendezvous,
                  "Gloo store where the ranks meet: file:///shared/dir or "
                  "redis://host:port[/namespace]");
  app->add_option("--dist-host", d->host,
                  "address this rank listens on for the others (default: its hostname)");
  app->add_option("--dist-timeout", d->timeout_seconds,
                  "seconds to wait for joining ranks and for every collective")
      ->check(CLI::Range(1, 86400))
      ->capture_default_str();
  app->add_option("--device", d->device, "cpu | cuda (this LibTorch build is CPU-only)")
      ->check(CLI::IsMember({"cpu", "cuda"}))
      ->capture_default_str();
}

// Leaves the data-parallel group (if any) when main returns, after the error handler has told the
// other ranks why this one stops.
struct GroupLeaver {
  ~GroupLeaver() { leave_group(); }
};

void add_optim_options(CLI::App* app, OptimOptions* o) {
  app->add_option("--optimizer", o->optimizer, "sgd | adam")
      ->check(CLI::IsMember({"sgd", "adam"}))
      ->capture_default_str();
  app->add_option("--lr", o->lr, "peak learning rate")
      ->check(CLI::Range(0.0, 10.0))
      ->capture_default_str();
  app->add_option("--lr-min", o->lr_min, "final learning rate (cosine)")
      ->check(CLI::Range(0.0, 10.0));
  app->add_option("--schedule", o->schedule, "cosine | step | constant")
      ->check(CLI::IsMember({"cosine", "step", "constant"}))
      ->capture_default_str();
  app->add_option("--step-epochs", o->step_epochs, "step schedule period")
      ->check(CLI::Range(1, 100000));
  app->add_option("--gamma", o->gamma, "step schedule factor")->check(CLI::Range(0.0, 1.0));
  app->add_option("--warmup-epochs", o->warmup_epochs, "linear warm-up")
      ->check(CLI::Range(0.0, 1000.0));
  app->add_option("--momentum", o->momentum, "SGD momentum")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app->add_flag("!--no-nesterov", o->nesterov, "plain momentum instead of Nesterov");
  app->add_option("--weight-decay", o->weight_decay, "L2 weight decay")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app->add_option("--batch", o->batch, "batch size")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  app->add_option("--epochs", o->epochs, "epochs")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
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
  auto* summary_cmd =
      app.add_subcommand("summary", "per-layer parameter table and feature-map sizes");
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
  summary_cmd
      ->add_option("--layout", summary.layout,
                   "inception_v1 (5x5 third branch, floor-mode pools with padding) | "
                   "torchvision (3x3 third branch, ceil-mode pools; imported models)")
      ->check(CLI::IsMember({"inception_v1", "torchvision"}))
      ->capture_default_str();

  TrainOptions train;
  auto* train_cmd =
      app.add_subcommand("train", "train GoogLeNet (dense, or continue a checkpoint)");
  add_data_options(train_cmd, &train.data, true);
  add_run_options(train_cmd, &train.run, true);
  add_optim_options(train_cmd, &train.optim);
  add_dist_options(train_cmd, &train.run.dist);
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
  add_dist_options(prune_cmd, &prune.run.dist);

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
  auto* export_cmd =
      app.add_subcommand("export", "fold BatchNorm, drop aux heads, write .gnrt and verify it");
  export_cmd->add_option("checkpoint", exp.checkpoint, "gn-convert checkpoint")
      ->required()
      ->check(CLI::ExistingFile);
  export_cmd->add_option("-o,--output", exp.output, "output .gnrt file")->required();
  export_cmd->add_flag("--float16", exp.float16, "store weights as float16");
  export_cmd->add_option("--encoding", exp.encoding, "auto | sparse | dense")
      ->check(CLI::IsMember({"auto", "sparse", "dense"}))
      ->capture_default_str();
  export_cmd->add_flag("!--no-softmax", exp.softmax, "leave logits as the model output");
  export_cmd
      ->add_option("--verify-images", exp.verify_images,
                   "validation images compared between libgnrt and LibTorch")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  export_cmd
      ->add_option("--tolerance", exp.tolerance,
                   "largest |difference| allowed, times max(1, largest |logit|) "
                   "(default 1e-4, with --float16 3e-2)")
      ->check(CLI::Range(0.0, 1.0));
  export_cmd->add_flag("--skip-test-eval", exp.skip_test_eval,
                       "do not evaluate the test set for the metadata");
  export_cmd->add_option("--data-dir", exp.data.data_dir, "dataset directory");
  export_cmd->add_option("--limit-test", exp.data.limit_test, "use only N test images")
      ->check(CLI::Range(0, 100000000));
  add_run_options(export_cmd, &exp.run, false);

  PackOptions pack;
  auto* pack_cmd = app.add_subcommand(
      "pack", "write a checkpoint without optimizer state, optionally with float16 weights");
  pack_cmd->add_option("checkpoint", pack.checkpoint, "gn-convert checkpoint")
      ->required()
      ->check(CLI::ExistingFile);
  pack_cmd->add_option("-o,--output", pack.output, "output checkpoint")->required();
  pack_cmd->add_flag("--float16", pack.float16,
                     "store weights and BatchNorm statistics as float16");

  ImportOptions imp;
  auto* import_cmd = app.add_subcommand(
      "import",
      "turn a torchvision GoogLeNet saved as TorchScript into a gn-convert checkpoint "
      "(then eval, prune, train --init, export)");
  import_cmd
      ->add_option("model", imp.model,
                   "TorchScript file (torch.jit.script(model).save or torch.jit.trace)")
      ->required()
      ->check(CLI::ExistingFile);
  import_cmd->add_option("--out", imp.run.out_dir, "output directory (checkpoint.pt, import.json)")
      ->required();
  import_cmd->add_option("--classes", imp.classes, "expected number of classes (checked)")
      ->check(CLI::Range(2, 100000));
  import_cmd->add_option("--channels", imp.in_channels, "expected input channels (checked)")
      ->check(CLI::Range(1, 64));
  add_data_options(import_cmd, &imp.data, true);
  import_cmd->add_option("--mean", imp.mean,
                         "normalization mean of pixel/255 per channel (default: the training "
                         "split's, as train computes it)");
  import_cmd->add_option("--std", imp.std, "normalization standard deviation per channel");
  import_cmd
      ->add_option("--transform-input", imp.transform_input,
                   "torchvision's transform_input: auto (the scripted module's flag, else "
                   "detected from its outputs) | on (fold it into the normalization) | off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  import_cmd
      ->add_option("--verify-images", imp.verify_images,
                   "images on which the TorchScript module and the import must agree")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  import_cmd
      ->add_option("--tolerance", imp.tolerance,
                   "largest |logit difference| allowed, times max(1, largest |logit|)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  import_cmd->add_flag("--force", imp.force, "overwrite an existing <out>/checkpoint.pt");
  import_cmd->add_option("--threads", imp.run.threads, "torch threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();

  std::string results_manifest, results_output;
  auto* results_cmd =
      app.add_subcommand("results", "render the results table of a pipeline run (Markdown)");
  results_cmd
      ->add_option("manifest", results_manifest, "manifest JSON written by scripts/pipeline.sh")
      ->required()
      ->check(CLI::ExistingFile);
  results_cmd->add_option("-o,--output", results_output, "output file (default: stdout)");

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

  // Distributed options that only make sense together: a command line error (exit 2).
  for (const DistOptions* d : {&train.run.dist, &prune.run.dist}) {
    try {
      validate_dist_options(*d);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "gn-convert: error: %s (see --help)\n", e.what());
      return 2;
    }
  }
  if (*train_cmd && train.optim.batch % train.run.dist.world_size != 0) {
    std::fprintf(stderr,
                 "gn-convert: error: --batch %d is not divisible by --world-size %d (each rank "
                 "computes batch/world-size images of every step) (see --help)\n",
                 train.optim.batch, train.run.dist.world_size);
    return 2;
  }

  const std::string command_line = join_args(argc, argv);
  GroupLeaver leaver;
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
    if (*import_cmd) {
      imp.run.command_line = command_line;
      return run_import(imp);
    }
    if (*pack_cmd) return run_pack(pack);
    if (*results_cmd) return run_results(results_manifest, results_output);
    if (*export_cmd) {
      exp.run.command_line = command_line;
      return run_export(exp);
    }
  } catch (const std::exception& e) {
    std::string msg = e.what();
    // LibTorch messages carry a C++ backtrace after the first line; keep the first line.
    auto newline = msg.find('\n');
    if (newline != std::string::npos) msg = msg.substr(0, newline);
    if (ProcessGroup* group = current_group()) {
      // Tell the other ranks why this one stops (a DistError is already about them).
      if (!dynamic_cast<const DistError*>(&e)) group->report_failure(msg);
      std::fprintf(stderr, "gn-convert: error: rank %d: %s\n", group->rank(), msg.c_str());
      return 1;
    }
    std::fprintf(stderr, "gn-convert: error: %s\n", msg.c_str());
    return 1;
  }
  return 1;
}
