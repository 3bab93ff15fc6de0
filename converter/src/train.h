// Training machinery shared by the train, prune, eval and export commands: data batches, the
// training loop with checkpoints, evaluation, BatchNorm re-estimation and mask enforcement.
//
// Reproducibility: every random draw is derived from (seed, stage, epoch, step) -- the epoch's
// shuffling, each batch's augmentation and the dropout generator, which is reseeded before every
// step -- so a run resumed from a checkpoint replays exactly the draws of an uninterrupted run.
// Torch's intra-op thread count is fixed (--threads) because reductions may split differently
// with a different count.
#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data.h"
#include "model.h"
#include "options.h"

namespace gnconvert {

class ProcessGroup;

struct Normalization {
  std::vector<float> mean;  // per channel, of pixel/255
  std::vector<float> std;
};

// Weight masks: layer name -> 0/1 float tensor of the weight's shape. A layer without an entry is
// dense.
using Masks = std::map<std::string, torch::Tensor>;

struct EvalResult {
  double loss = 0;
  double accuracy = 0;  // fraction correct
  std::int64_t count = 0;
};

// Normalized float batch (N x C x height x width) of images set[indices[begin..end)), bilinearly
// resized (half-pixel centres, no antialiasing) when the resolution differs from the images'.
// With `augment`, each image is shifted by up to crop_pad pixels (zero fill) and flipped
// horizontally with probability 1/2, drawn from `seed`. `draws_skipped` images' worth of draws
// are skipped first: a data-parallel rank holding positions [k, k + n) of a global batch draws
// exactly what one process building the whole batch draws for those images.
torch::Tensor make_batch(const ImageSet& set, const std::vector<std::size_t>& indices,
                         std::size_t begin, std::size_t end, const Normalization& norm, int height,
                         int width, const DataOptions* augment, std::uint64_t seed,
                         std::size_t draws_skipped = 0);
torch::Tensor make_labels(const ImageSet& set, const std::vector<std::size_t>& indices,
                          std::size_t begin, std::size_t end);

// Learning rate at `step` of a phase with `total_steps` steps (`steps_per_epoch` per epoch).
double learning_rate(const OptimOptions& optim, std::int64_t step, std::int64_t total_steps,
                     std::int64_t steps_per_epoch);

// Sets torch's intra-op threads (and one inter-op thread) once per process.
void set_threads(int threads);

// Atomic file replacement: write `path`.tmp, fsync, rename over `path`, fsync the directory.
// Throws std::runtime_error (with the OS error) and leaves any previous `path` untouched. Does
// nothing on data-parallel ranks other than 0 (rank 0 writes every file for the group).
void write_file_atomic(const std::string& path, const std::string& bytes);
std::string read_file(const std::string& path);

struct Session;

// One entry of a schedule: either an action (pruning, BN re-estimation, evaluation) or a
// training phase of optim.epochs epochs.
struct Stage {
  std::string name;
  bool train = false;
  OptimOptions optim;
  std::function<void(Session&)> action;  // for action stages; may record into session.report
  // Training stages: called before every optimizer step (gradual pruning); may be empty.
  std::function<void(Session&, std::int64_t step, std::int64_t total_steps)> before_step;
};

struct Session {
  DataOptions data;
  ModelOptions model;
  RunOptions run;
  OptimOptions optim;  // the train command's options (recorded in the checkpoint)

  Dataset dataset;
  Split split;  // indices into dataset.train
  std::vector<std::size_t> test_indices;
  Normalization norm;

  GoogLeNet net{nullptr};
  Masks masks;

  // Progress through the schedule: stage index, epochs completed in that stage, steps completed
  // in the current epoch, optimizer steps in total.
  int stage = 0;
  int epoch = 0;
  std::int64_t step = 0;
  std::int64_t global_step = 0;

  nlohmann::json history = nlohmann::json::array();  // one record per epoch / action
  nlohmann::json report = nlohmann::json::object();  // free-form results (prune command)
  nlohmann::json extra = nlohmann::json::object();   // command-specific state (recipe, ...)
  std::vector<std::string> command_lines;

  std::string optimizer_state;  // serialized optimizer of the current stage (from a checkpoint)
  bool quiet = false;

  // Data-parallel group (null: a single process). Every rank runs the same schedule on its share
  // of each batch; only rank 0 writes files.
  ProcessGroup* group = nullptr;
  int rank() const;
  int world_size() const;
  bool writes_files() const { return rank() == 0; }
  // Time per training step and the part of it spent in collectives (this run only).
  double step_seconds = 0;
  double step_comm_seconds = 0;
  std::int64_t timed_steps = 0;

  std::string checkpoint_path() const { return run.out_dir + "/checkpoint.pt"; }
};

// Joins the data-parallel group of session.run.dist when its world size is > 1 (ranks other than
// 0 go quiet) and checks --device. Throws DistError / std::invalid_argument.
void start_distributed(Session& session);
// Ends the group after a successful command: a last barrier, so that no rank closes its
// connections while another still needs them.
void finish_distributed(Session& session);

// Reads a file on rank 0 and hands its bytes to every rank (plain read_file without a group): the
// output directory with the checkpoint need exist only where rank 0 runs.
std::string read_file_shared(Session& session, const std::string& path);
bool file_exists_shared(Session& session, const std::string& path);

// Loads the dataset and computes the split and normalization (mean/std over the training split)
// from session.data; fills model.in_channels / classes when 0. Throws DataError.
void load_data(Session& session);

// Builds a fresh network from session.model with weights seeded by run.seed.
void create_model(Session& session);

// Checkpoint = model parameters and buffers, masks, optimizer state, progress, history and the
// options, in one torch archive written atomically. `optimizer` may be null.
void save_checkpoint(Session& session, const std::string& path, torch::optim::Optimizer* optimizer);
// Restores everything save_checkpoint wrote. With `weights_only`, keeps the session's progress,
// options and history and takes only model, masks and normalization (starting a new schedule
// from a trained model).
void load_checkpoint(Session& session, const std::string& path, bool weights_only);
// Reads only the JSON metadata of a checkpoint (the second form through read_file_shared).
nlohmann::json read_checkpoint_meta(const std::string& path);
nlohmann::json read_checkpoint_meta(Session& session, const std::string& path);

// Runs the stages from session.stage onward, writing a checkpoint after every epoch and action.
// Returns false when stopped early by run.max_steps. With a group, each rank computes batch/N
// images of every step (the batch must divide by the world size), masks changed by an action or
// before_step are taken from rank 0, and the ranks check after every epoch that their models are
// still bitwise equal.
bool run_stages(Session& session, const std::vector<Stage>& stages);

// With a group, each rank evaluates a contiguous share of `indices` and the sums are all-reduced.
EvalResult evaluate(Session& session, const ImageSet& set, const std::vector<std::size_t>& indices);
EvalResult evaluate_validation(Session& session);
EvalResult evaluate_test(Session& session);

// Re-estimates BatchNorm running statistics with the current weights: cumulative averages over
// `batches` training batches in training mode without gradients (no augmentation).
void recalibrate_batchnorm(Session& session, int batches);

// Masks: zero the gradients of pruned weights, and the pruned weights themselves.
void mask_gradients(Session& session);
void apply_masks(Session& session);

// Counts over the prunable layers (training graph, or deployed layers only).
std::int64_t count_params(GoogLeNet& net, bool deployed_only);
std::int64_t count_nonzeros(GoogLeNet& net, bool deployed_only);

void log_line(const Session& session, const std::string& line);

}  // namespace gnconvert
