// Weight matrices of a loaded model (gnrt::Model, model.h) expanded to dense float32, for the
// code outside libgnrt that needs them: the benchmarks' XNNPACK baselines and kernel cases, and
// gn-convert's ONNX export and calibration. Built on the runtime's decoded WeightRef, so the file
// is read (and validated) by the runtime's loader only. Not part of libgnrt itself (its planner
// packs the weights its own way, plan_prepare.cc): the target gnrt_dense_weights
// (cmake/GnrtRuntimeInternals.cmake).
#pragma once

#include <cstdint>
#include <vector>

#include "model.h"

namespace gnrt {

// `rows` x `row_length` floats in the file's own order: OIHW for convolutions, [out][in] for fully
// connected layers.
struct DenseWeights {
  std::vector<float> values;
  std::uint64_t nonzeros = 0;  // entries stored in the file (sparse) or nonzero entries (dense)
  double density() const;      // nonzeros / values.size()
};

// Dense or SPARSE_ROWS, float32 or float16, 8/16/32-bit indices; `weights` was validated by
// gnrt::load_model, so this cannot fail.
DenseWeights dense_weights(const WeightRef& weights);

// The operator's bias (out_channels entries), zeros when it has none.
std::vector<float> bias_or_zeros(const OpDesc& op);

}  // namespace gnrt
