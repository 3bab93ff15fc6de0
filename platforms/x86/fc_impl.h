// Fully connected loop nests shared by the AVX2 and AVX-512 kernels (traits and internal
// linkage as in sparse_conv_impl.h).
//  - sparse: per output, the row's nonzeros a vector at a time: gather the inputs they index,
//    multiply by the values, reduce once at the end of the row.
//  - dense: 4 output rows at a time share each input vector load.
#pragma once

#include <algorithm>
#include <cstddef>

#include "x86/fc_packing.h"

namespace gnrt {
namespace kernels {
namespace x86 {
namespace {  // NOLINT(build/namespaces)

inline float fc_activate(float v, Activation a) {
  return (a == Activation::kRelu && v < 0.0f) ? 0.0f : v;
}

template <typename V>
void sparse_fc(const FcProblem& p, const void* packed, const float* input, float* output,
               int o_begin, int o_end) {
  constexpr int L = V::kLanes;
  const SparseFcPacked w = sparse_fc_regions(p.out_features, packed);
  for (int o = o_begin; o < o_end; ++o) {
    std::uint32_t n = w.row_begin[o];
    const std::uint32_t end = w.row_begin[o + 1];
    typename V::Reg acc = V::zero();
    for (; n + L <= end; n += L) {
      acc = V::fmadd(V::load(w.values + n), V::gather(input, w.indices + n), acc);
    }
    if (n < end) {
      const typename V::Tail tail = V::make_tail(static_cast<int>(end - n));
      acc = V::fmadd(V::load_tail(w.values + n, tail), V::gather_tail(input, w.indices + n, tail),
                     acc);
    }
    output[o] = fc_activate(w.bias[o] + V::reduce(acc), p.activation);
  }
}

template <typename V>
void dense_fc(const FcProblem& p, const void* packed, const float* input, float* output,
              int o_begin, int o_end) {
  constexpr int L = V::kLanes;
  const auto* base = static_cast<const char*>(packed);
  const float* bias = reinterpret_cast<const float*>(base);
  const float* weights = reinterpret_cast<const float*>(
      base + internal::align64(static_cast<std::size_t>(p.out_features) * sizeof(float)));
  const int in = p.in_features;
  const int full = in / L * L;
  const typename V::Tail tail = V::make_tail(in - full);
  int o = o_begin;
  for (; o + 4 <= o_end; o += 4) {
    const float* r0 = weights + static_cast<std::size_t>(o) * in;
    const float* r1 = r0 + in;
    const float* r2 = r1 + in;
    const float* r3 = r2 + in;
    typename V::Reg a0 = V::zero(), a1 = V::zero(), a2 = V::zero(), a3 = V::zero();
    for (int i = 0; i < full; i += L) {
      const typename V::Reg x = V::load(input + i);
      a0 = V::fmadd(V::load(r0 + i), x, a0);
      a1 = V::fmadd(V::load(r1 + i), x, a1);
      a2 = V::fmadd(V::load(r2 + i), x, a2);
      a3 = V::fmadd(V::load(r3 + i), x, a3);
    }
    if (full < in) {
      const typename V::Reg x = V::load_tail(input + full, tail);
      a0 = V::fmadd(V::load_tail(r0 + full, tail), x, a0);
      a1 = V::fmadd(V::load_tail(r1 + full, tail), x, a1);
      a2 = V::fmadd(V::load_tail(r2 + full, tail), x, a2);
      a3 = V::fmadd(V::load_tail(r3 + full, tail), x, a3);
    }
    output[o] = fc_activate(bias[o] + V::reduce(a0), p.activation);
    output[o + 1] = fc_activate(bias[o + 1] + V::reduce(a1), p.activation);
    output[o + 2] = fc_activate(bias[o + 2] + V::reduce(a2), p.activation);
    output[o + 3] = fc_activate(bias[o + 3] + V::reduce(a3), p.activation);
  }
  for (; o < o_end; ++o) {
    const float* r = weights + static_cast<std::size_t>(o) * in;
    typename V::Reg a = V::zero();
    for (int i = 0; i < full; i += L) a = V::fmadd(V::load(r + i), V::load(input + i), a);
    if (full < in) {
      a = V::fmadd(V::load_tail(r + full, tail), V::load_tail(input + full, tail), a);
    }
    output[o] = fc_activate(bias[o] + V::reduce(a), p.activation);
  }
}

}  // namespace
}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
