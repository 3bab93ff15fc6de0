#include "cli/common_options.h"

#include <exception>

#include "dist/process_group.h"

namespace gnconvert {

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

std::string dist_options_error(const DistOptions& d) {
  try {
    validate_dist_options(d);
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
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

}  // namespace gnconvert
