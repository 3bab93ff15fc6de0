// Packed forms of the x86 fully connected kernels. Regions, 64-byte aligned:
//   sparse: float bias[out]; uint32 row_begin[out + 1]; uint32 indices[nnz]; float values[nnz]
//   dense:  float bias[out]; float weights[out][in]
// Explicit zeros of a sparse layer are dropped; a dense layer given as CSR is expanded.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gnrt/kernels.h"
#include "select_internal.h"

namespace gnrt {
namespace kernels {
namespace x86 {

struct SparseFcPacked {
  const float* bias;
  const std::uint32_t* row_begin;
  const std::uint32_t* indices;
  const float* values;
};

inline SparseFcPacked sparse_fc_regions(int out_features, const void* packed) {
  const auto* base = static_cast<const char*>(packed);
  const std::size_t out = static_cast<std::size_t>(out_features);
  const std::size_t row_begin = internal::align64(out * sizeof(float));
  const std::size_t indices = row_begin + internal::align64((out + 1) * sizeof(std::uint32_t));
  const auto* rows = reinterpret_cast<const std::uint32_t*>(base + row_begin);
  const std::size_t values = indices + internal::align64(rows[out] * sizeof(std::uint32_t));
  return {reinterpret_cast<const float*>(base), rows,
          reinterpret_cast<const std::uint32_t*>(base + indices),
          reinterpret_cast<const float*>(base + values)};
}

std::size_t sparse_fc_packed_bytes(const FcProblem& problem);
void sparse_fc_pack(const FcProblem& problem, void* packed);
std::size_t dense_fc_packed_bytes(const FcProblem& problem);
void dense_fc_pack(const FcProblem& problem, void* packed);

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
