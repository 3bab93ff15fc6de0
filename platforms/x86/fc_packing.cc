// Packing for the x86 fully connected kernels (plan time, no ISA flags).
#include "x86/fc_packing.h"

#include <cstring>

namespace gnrt {
namespace kernels {
namespace x86 {
namespace {

std::size_t nonzeros_of(const FcProblem& p) {
  std::size_t count = 0;
  if (p.sparse.row_begin != nullptr) {
    for (std::uint32_t n = 0; n < p.sparse.row_begin[p.out_features]; ++n) {
      if (p.sparse.values[n] != 0.0f) ++count;
    }
  } else {
    const std::size_t total = static_cast<std::size_t>(p.in_features) * p.out_features;
    for (std::size_t i = 0; i < total; ++i) {
      if (p.dense_weights[i] != 0.0f) ++count;
    }
  }
  return count;
}

void pack_bias(const FcProblem& p, float* bias) {
  for (int o = 0; o < p.out_features; ++o) bias[o] = p.bias != nullptr ? p.bias[o] : 0.0f;
}

}  // namespace

std::size_t sparse_fc_packed_bytes(const FcProblem& p) {
  const std::size_t out = static_cast<std::size_t>(p.out_features);
  const std::size_t nnz = nonzeros_of(p);
  return internal::align64(out * sizeof(float)) +
         internal::align64((out + 1) * sizeof(std::uint32_t)) +
         internal::align64(nnz * sizeof(std::uint32_t)) + internal::align64(nnz * sizeof(float));
}

void sparse_fc_pack(const FcProblem& p, void* packed) {
  auto* base = static_cast<char*>(packed);
  const std::size_t out = static_cast<std::size_t>(p.out_features);
  pack_bias(p, reinterpret_cast<float*>(base));
  auto* rows = reinterpret_cast<std::uint32_t*>(base + internal::align64(out * sizeof(float)));
  // Row counts first: the index and value regions' positions depend on the total.
  rows[0] = 0;
  for (int o = 0; o < p.out_features; ++o) {
    std::uint32_t count = 0;
    if (p.sparse.row_begin != nullptr) {
      for (std::uint32_t n = p.sparse.row_begin[o]; n < p.sparse.row_begin[o + 1]; ++n)
        count += p.sparse.values[n] != 0.0f ? 1 : 0;
    } else {
      const float* row = p.dense_weights + static_cast<std::size_t>(o) * p.in_features;
      for (int i = 0; i < p.in_features; ++i) count += row[i] != 0.0f ? 1 : 0;
    }
    rows[o + 1] = rows[o] + count;
  }
  const SparseFcPacked r = sparse_fc_regions(p.out_features, packed);
  auto* indices = const_cast<std::uint32_t*>(r.indices);
  auto* values = const_cast<float*>(r.values);
  std::uint32_t n_out = 0;
  for (int o = 0; o < p.out_features; ++o) {
    if (p.sparse.row_begin != nullptr) {
      for (std::uint32_t n = p.sparse.row_begin[o]; n < p.sparse.row_begin[o + 1]; ++n) {
        if (p.sparse.values[n] == 0.0f) continue;
        indices[n_out] = p.sparse.indices[n];
        values[n_out++] = p.sparse.values[n];
      }
    } else {
      const float* row = p.dense_weights + static_cast<std::size_t>(o) * p.in_features;
      for (int i = 0; i < p.in_features; ++i) {
        if (row[i] == 0.0f) continue;
        indices[n_out] = static_cast<std::uint32_t>(i);
        values[n_out++] = row[i];
      }
    }
  }
}

std::size_t dense_fc_packed_bytes(const FcProblem& p) {
  const std::size_t out = static_cast<std::size_t>(p.out_features);
  return internal::align64(out * sizeof(float)) +
         internal::align64(out * static_cast<std::size_t>(p.in_features) * sizeof(float));
}

void dense_fc_pack(const FcProblem& p, void* packed) {
  auto* base = static_cast<char*>(packed);
  pack_bias(p, reinterpret_cast<float*>(base));
  internal::expand_fc_weights(
      p, reinterpret_cast<float*>(
             base + internal::align64(static_cast<std::size_t>(p.out_features) * sizeof(float))));
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
