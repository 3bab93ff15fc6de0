// Data-parallel training on top of a ProcessGroup (distributed.h): what makes N ranks with
// batch B/N each compute the same step as one process with batch B.
//
//  - BatchNorm is synchronized: in training, each BatchNorm's batch mean and variance are those of
//    the global batch (per-rank sums and squared deviations in double, combined with Chan's
//    formula over an allgather), running statistics are updated from them, and the backward pass
//    all-reduces the two per-channel sums it needs. So every rank normalizes with the statistics
//    that one process with the whole batch would use, and the running statistics stay equal.
//  - Dropout draws the mask of the whole global batch from the step's seeded generator (the draws
//    one process would make) and applies this rank's rows.
//  - Gradients are summed across ranks and divided by N.
// What remains different from one process is floating-point summation order (per-rank partial
// sums, the double-precision statistics, the ring all-reduce), hence a tolerance and not bitwise
// equality; see docs/distributed.md.
#pragma once

#include <torch/torch.h>

#include <vector>

#include "dist/process_group.h"
#include "model/googlenet.h"
#include "train/masks.h"

namespace gnconvert {

// Hooks for one training step of this rank; every rank holds the same number of images.
ForwardHooks data_parallel_hooks(ProcessGroup& group);

// Sums every parameter's gradient across ranks and divides by the world size; `extra` values are
// summed along with them (train loss and correct counts), in the same all-reduce.
void average_gradients(ProcessGroup& group, GoogLeNet& net, std::vector<float>* extra);

// Copies rank 0's parameters and BatchNorm buffers to every rank.
void broadcast_model(ProcessGroup& group, GoogLeNet& net);

// Copies rank 0's masks to every rank (rank 0 decides pruning) and re-applies them to the weights.
void broadcast_masks(ProcessGroup& group, GoogLeNet& net, Masks* masks);

// Throws DistError when `text` (options, as JSON) differs between ranks; `what` names it.
void check_same_text(ProcessGroup& group, const std::string& text, const std::string& what);

// Throws DistError when the ranks' parameters and buffers are not bitwise equal.
void check_replicas(ProcessGroup& group, GoogLeNet& net, const std::string& when);

}  // namespace gnconvert
