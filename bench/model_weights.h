// Weight matrices of a loaded model (gnrt::Model, runtime/src/model.h) expanded to dense float32,
// for the benchmarks' baselines and kernel cases. Built on the runtime's decoded WeightRef, so the
// file is read (and validated) by the runtime's loader only. A candidate for runtime/ once
// something there needs dense OIHW weights too.
#pragma once

#include <cstdint>
#include <vector>

#include "model.h"

namespace gnrt_bench {

// `rows` x `row_length` floats in the file's own order: OIHW for convolutions, [out][in] for fully
// connected layers.
struct DenseWeights {
  std::vector<float> values;
  std::uint64_t nonzeros = 0;  // entries stored in the file (sparse) or nonzero entries (dense)
  double density() const;      // nonzeros / values.size()
};

// Dense or SPARSE_ROWS, float32 or float16, 8/16/32-bit indices; `weights` was validated by
// gnrt::load_model, so this cannot fail.
DenseWeights expand_weights(const gnrt::WeightRef& weights);

// The operator's bias (out_channels entries), zeros when it has none.
std::vector<float> bias_or_zeros(const gnrt::OpDesc& op);

}  // namespace gnrt_bench
