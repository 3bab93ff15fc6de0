// Options that several subcommands share, registered the same way everywhere.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

#include "util/options.h"

namespace gnconvert {

// Dataset and limits; `training` adds resolution, validation split and augmentation.
void add_data_options(CLI::App* app, DataOptions* d, bool training);
// Threads and evaluation batch; `out` adds the output directory, seed, resume and step limits.
void add_run_options(CLI::App* app, RunOptions* r, bool out);
// Data-parallel group (docs/distributed.md).
void add_dist_options(CLI::App* app, DistOptions* d);
// Optimizer and learning-rate schedule.
void add_optim_options(CLI::App* app, OptimOptions* o);

// The data-parallel options' own consistency (validate_dist_options) as a check message ("" when
// they are consistent).
std::string dist_options_error(const DistOptions& d);

// The command line as one string, arguments quoted where needed (recorded in checkpoints).
std::string join_args(int argc, char** argv);

}  // namespace gnconvert
