// Accuracy and loss of the session's model, and BatchNorm re-estimation after pruning.
#pragma once

#include <cstdint>
#include <vector>

#include "train/session.h"

namespace gnconvert {

struct EvalResult {
  double loss = 0;
  double accuracy = 0;  // fraction correct
  std::int64_t count = 0;
};

// With a group, each rank evaluates a contiguous share of `indices` and the sums are all-reduced.
EvalResult evaluate(Session& session, const ImageSet& set, const std::vector<std::size_t>& indices);
EvalResult evaluate_validation(Session& session);
EvalResult evaluate_test(Session& session);

// Re-estimates BatchNorm running statistics with the current weights: cumulative averages over
// `batches` training batches in training mode without gradients (no augmentation).
void recalibrate_batchnorm(Session& session, int batches);

}  // namespace gnconvert
