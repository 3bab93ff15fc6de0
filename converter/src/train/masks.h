// Weight masks on the model: layer name -> 0/1 float tensor of the weight's shape. A layer without
// an entry is dense. The decisions that produce masks are torch-free (prune/decision.h).
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>

#include "model/googlenet.h"

namespace gnconvert {

using Masks = std::map<std::string, torch::Tensor>;

// Zero the gradients of pruned weights, and the pruned weights themselves.
void mask_gradients(GoogLeNet& net, const Masks& masks);
void apply_masks(GoogLeNet& net, const Masks& masks);

// Throws std::logic_error naming the first layer whose pruned weights are not exactly zero.
void check_pruned_weights_zero(GoogLeNet& net, const Masks& masks);

// Counts over the prunable layers (training graph, or deployed layers only).
std::int64_t count_params(GoogLeNet& net, bool deployed_only);
std::int64_t count_nonzeros(GoogLeNet& net, bool deployed_only);

}  // namespace gnconvert
