// Options of gn-convert's subcommands, as plain structs, so that the command-line front end
// (cli/) parses into them and the layers below take them without knowing CLI11. Units: sizes in pixels, rates per optimizer step.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gnconvert {

struct DataOptions {
  std::string dataset = "fashion-mnist";  // fashion-mnist | mnist | cifar10
  std::string data_dir;                   // "" = the dataset's default location
  int height = 48;                        // training / evaluation resolution
  int width = 48;
  int validation = 6000;         // images held out from the training set
  std::uint64_t split_seed = 0;  // the split does not depend on --seed
  int limit_train = 0;           // use only the first N training-split images (0 = all)
  int limit_validation = 0;
  int limit_test = 0;
  bool augment = true;  // random shift (zero-padded crop) + horizontal flip
  int crop_pad = 2;     // shift range in source pixels
  bool flip = true;
};

struct OptimOptions {
  std::string optimizer = "sgd";  // sgd | adam
  double lr = 0.05;
  double lr_min = 0.0;              // cosine end value
  std::string schedule = "cosine";  // cosine | step | constant
  int step_epochs = 5;              // step schedule: multiply by gamma every step_epochs epochs
  double gamma = 0.1;
  double warmup_epochs = 0.0;  // linear warm-up at the start of a phase
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 5e-4;
  int batch = 64;
  int epochs = 15;
};

// Data-parallel training over Gloo (docs/distributed.md). world_size 1 is a plain single process.
struct DistOptions {
  int world_size = 1;
  int rank = 0;
  std::string rendezvous;      // file:///shared/dir | redis://host[:port][/namespace]
  std::string host;            // address this rank listens on and announces ("" = its hostname)
  int timeout_seconds = 300;   // bound on joining and on every collective
  std::string device = "cpu";  // cpu | cuda
};

struct RunOptions {
  std::uint64_t seed = 1;
  int threads = 1;      // torch intra-op threads (fixed for reproducibility; see docs)
  std::string out_dir;  // checkpoints, history, reports
  bool resume = false;
  int eval_batch = 200;
  int progress_seconds = 10;  // progress line period when stderr is not a terminal
  int max_steps = 0;          // stop after this many optimizer steps in total (tests; 0 = no limit)
  int checkpoint_steps = 0;   // also checkpoint every N steps inside an epoch (0 = epoch ends only)
  std::string command_line;
  DistOptions dist;  // train and prune only
};

struct ModelOptions {
  int in_channels = 0;  // 0 = the dataset's
  int classes = 0;      // 0 = the dataset's
  bool aux_heads = true;
  double aux_weight = 0.3;
  std::string layout = "inception_v1";  // inception_v1 | torchvision (imported models)
};

struct SummaryOptions {
  std::string layout = "inception_v1";
  int in_channels = 1;
  int classes = 10;
  int height = 48;
  int width = 48;
  bool json = false;
  bool force = false;
};

struct TrainOptions {
  DataOptions data;
  OptimOptions optim;
  RunOptions run;
  ModelOptions model;
  std::string init_checkpoint;  // start from these weights (a gn-convert checkpoint)
};

struct PruneOptions {
  DataOptions data;
  RunOptions run;
  std::string recipe_path;
  std::string from_checkpoint;  // dense (or partly pruned) model
};

struct EvalOptions {
  DataOptions data;
  RunOptions run;
  std::string checkpoint;
  std::string split = "test";  // test | validation | train
  bool json = false;
};

struct ExportOptions {
  DataOptions data;
  RunOptions run;
  std::string checkpoint;
  std::string output;
  bool float16 = false;
  std::string encoding = "auto";  // auto | sparse | dense
  bool softmax = true;
  int verify_images = 16;
  double tolerance =
      -1;  // relative to max(1, largest |logit|); < 0: 1e-4 (float32), 3e-2 (float16)
  bool skip_test_eval = false;
};

// pack: a checkpoint reduced to what later runs start from -- weights, masks, normalization,
// options and history, without the optimizer state -- optionally with float16 weights (half the
// size: the dense Fashion-MNIST baseline fits in git). load_checkpoint converts float16 weights
// back to float32.
struct PackOptions {
  std::string checkpoint;
  std::string output;
  bool float16 = false;
};

// import: a torchvision GoogLeNet saved as TorchScript (torch.jit.script or torch.jit.trace)
// becomes a gn-convert checkpoint (layout "torchvision") that eval, prune, train --init and export
// take like any other. See docs/converter.md, "Import".
struct ImportOptions {
  DataOptions data;   // dataset (normalization, labels, verification images) and resolution
  RunOptions run;     // out_dir, threads, command_line
  std::string model;  // the TorchScript file
  int classes = 0;    // expected; 0 = the module's (checked against the dataset either way)
  int in_channels = 0;
  std::vector<float> mean, std;          // normalization; empty = the training split's statistics
  std::string transform_input = "auto";  // auto | on | off (torchvision's transform_input)
  int verify_images = 8;    // images compared between the TorchScript module and the import
  double tolerance = 1e-4;  // times max(1, largest |logit|)
  bool force = false;       // overwrite an existing <out>/checkpoint.pt
};

}  // namespace gnconvert
