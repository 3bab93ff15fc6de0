// The state of one gn-convert command: options, dataset and split, model and masks, progress
// through a schedule and what it records, and the data-parallel group. The commands build a
// Session, the trainer advances it, checkpoints save and restore it.
//
// Torch's intra-op thread count is fixed (--threads) because reductions may split differently
// with a different count.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "data/dataset.h"
#include "model/googlenet.h"
#include "train/batches.h"
#include "train/masks.h"
#include "util/options.h"

namespace gnconvert {

class ProcessGroup;

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

// Sets torch's intra-op threads (and one inter-op thread) once per process.
void set_threads(int threads);

// Joins the data-parallel group of session.run.dist when its world size is > 1 (ranks other than
// 0 go quiet) and checks --device. Throws DistError / std::invalid_argument.
void start_distributed(Session& session);
// Ends the group after a successful command: a last barrier, so that no rank closes its
// connections while another still needs them.
void finish_distributed(Session& session);

// write_file_atomic on the rank that writes files (rank 0 writes every file for the group); a
// no-op on the others.
void write_output(const Session& session, const std::string& path, const std::string& bytes);

// Reads a file on rank 0 and hands its bytes to every rank (plain read_file without a group): the
// output directory with the checkpoint need exist only where rank 0 runs.
std::string read_file_shared(Session& session, const std::string& path);
bool file_exists_shared(Session& session, const std::string& path);

// Loads the dataset and computes the split and normalization (mean/std over the training split)
// from session.data; fills model.in_channels / classes when 0. Throws DataError.
void load_data(Session& session);

// Builds a fresh network from session.model with weights seeded by run.seed.
void create_model(Session& session);
// A network of session.model's configuration (weights as torch initializes them).
GoogLeNet make_network(const ModelOptions& model);

// One line on stdout unless the session is quiet (ranks other than 0, import).
void log_line(const Session& session, const std::string& line);

}  // namespace gnconvert
