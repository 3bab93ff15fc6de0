// Pooling loop nests shared by the AVX2 and AVX-512 pooling kernels, parameterized by a vector
// traits class (vec_avx2.h / vec_avx512.h). Only the *-avx2.cc / *-avx512.cc pooling files include
// this header; internal linkage for the same reason as sparse_conv_impl.h.
//
// Max pooling 3x3 (stride 1 or 2) relies on two facts the planner provides and supports() checks:
//  - the input is nonnegative (its producer ends in ReLU), so a padded tap that reads the zero
//    border can never win over the (always present) in-plane taps: no clipping of windows;
//  - the zero border covers every tap of every output pixel.
// Each plane is processed in vertical strips of one vector of output columns; walking down a
// strip, the horizontal 3-tap maximum of every input row is computed once and kept in registers
// (stride 1: each input row serves three output rows; stride 2: the odd rows serve two), so a
// stride-1 output vector costs 3 loads and 4 max instead of 9 loads and 8 max.
// Loads of lanes past the strip's last valid column are unmasked: they stay inside the padded
// plane or the kMaxOverreadFloats slack and only feed discarded lanes; stores are masked.
#pragma once

#include <algorithm>
#include <cstddef>

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {
namespace x86 {
namespace {  // NOLINT(build/namespaces): internal linkage on purpose, see above

// Whether a 3x3 max pool with stride `stride` can run on the zero-border fast path.
inline bool maxpool3x3_supported(const PoolProblem& p, int stride) {
  const PoolGeometry& g = p.geometry;
  if (!p.max || p.global || !p.input_nonnegative) return false;
  if (g.kernel_h != 3 || g.kernel_w != 3 || g.stride_h != stride || g.stride_w != stride) {
    return false;
  }
  if (g.out_height < 1 || g.out_width < 1 || g.in_height < 1 || g.in_width < 1) return false;
  if (g.pad_top < 0 || g.pad_left < 0 || g.pad_top > 2 || g.pad_left > 2) return false;
  // Every tap of every output pixel inside the zero-padded plane (top/left: the padding;
  // bottom/right: how far the last window reaches past the last row/column).
  const int bottom = (g.out_height - 1) * stride - g.pad_top + 2 - (g.in_height - 1);
  const int right = (g.out_width - 1) * stride - g.pad_left + 2 - (g.in_width - 1);
  if (std::max({g.pad_top, g.pad_left, bottom, right}) > p.in_pad) return false;
  // Every window has at least one tap inside the input (else the reference yields 0, and so
  // would we, but keep the contract simple).
  if (g.pad_top > 2 || g.pad_left > 2 || bottom > 2 || right > 2) return false;
  if (!padded_plane_ok(p.in_row_stride, p.in_channel_stride, g.in_height, g.in_width, p.in_pad))
    return false;
  return true;
}

template <typename V, int kStride>
inline typename V::Reg row_max3(const float* p) {
  if (kStride == 1) return V::max(V::max(V::load(p), V::load(p + 1)), V::load(p + 2));
  return V::max(V::max(V::load_even(p), V::load_even(p + 1)), V::load_even(p + 2));
}

template <typename V, int kStride, bool kRelu>
void maxpool3x3_channels(const PoolProblem& p, const float* input, float* output, int c_begin,
                         int c_end) {
  using Reg = typename V::Reg;
  constexpr int L = V::kLanes;
  const PoolGeometry& g = p.geometry;
  const std::ptrdiff_t in_rs = p.in_row_stride;
  const std::ptrdiff_t out_rs = p.out_row_stride;
  for (int c = c_begin; c < c_end; ++c) {
    const float* in_plane = input + c * p.in_channel_stride;
    float* out_plane = output + c * p.out_channel_stride;
    for (int xs = 0; xs < g.out_width; xs += L) {
      const int lanes = std::min(L, g.out_width - xs);
      const typename V::Tail tail = V::make_tail(lanes);
      // Input element of tap (ky=0, kx=0) of output (0, xs).
      const float* col = in_plane + kStride * xs - g.pad_left - g.pad_top * in_rs;
      float* out = out_plane + xs;
      auto emit = [&](Reg r, int oy) {
        if (kRelu) r = V::max(r, V::zero());
        if (lanes == L) {
          V::store(out + oy * out_rs, r);
        } else {
          V::store_tail(out + oy * out_rs, r, tail);
        }
      };
      if (kStride == 1) {
        Reg h0 = row_max3<V, 1>(col);
        Reg h1 = row_max3<V, 1>(col + in_rs);
        for (int oy = 0; oy < g.out_height; ++oy) {
          const Reg h2 = row_max3<V, 1>(col + (oy + 2) * in_rs);
          emit(V::max(V::max(h0, h1), h2), oy);
          h0 = h1;
          h1 = h2;
        }
      } else {
        Reg h0 = row_max3<V, kStride>(col);
        for (int oy = 0; oy < g.out_height; ++oy) {
          const float* row = col + (kStride * oy + 1) * in_rs;
          const Reg h1 = row_max3<V, kStride>(row);
          const Reg h2 = row_max3<V, kStride>(row + in_rs);
          emit(V::max(V::max(h0, h1), h2), oy);
          h0 = h2;
        }
      }
    }
  }
}

template <typename V, int kStride>
void maxpool3x3_entry(const PoolProblem& p, const float* input, float* output, int c_begin,
                      int c_end) {
  if (p.activation == Activation::kRelu) {
    maxpool3x3_channels<V, kStride, true>(p, input, output, c_begin, c_end);
  } else {
    maxpool3x3_channels<V, kStride, false>(p, input, output, c_begin, c_end);
  }
}

inline bool global_avgpool_supported(const PoolProblem& p) {
  return p.global && !p.max && p.geometry.in_height >= 1 && p.geometry.in_width >= 1;
}

// Global average pooling: one vector accumulator per channel over the plane's rows (the last
// vector of a row masked, so nothing outside the interior is read), then a horizontal sum.
template <typename V>
void global_avgpool_channels(const PoolProblem& p, const float* input, float* output, int c_begin,
                             int c_end) {
  using Reg = typename V::Reg;
  constexpr int L = V::kLanes;
  const PoolGeometry& g = p.geometry;
  const int full = g.in_width / L * L;
  const typename V::Tail tail = V::make_tail(g.in_width - full);
  const float scale = 1.0f / (static_cast<float>(g.in_height) * static_cast<float>(g.in_width));
  const bool relu = p.activation == Activation::kRelu;
  for (int c = c_begin; c < c_end; ++c) {
    const float* plane = input + c * p.in_channel_stride;
    Reg acc0 = V::zero(), acc1 = V::zero();
    for (int y = 0; y < g.in_height; ++y) {
      const float* row = plane + y * p.in_row_stride;
      int x = 0;
      for (; x + 2 * L <= full; x += 2 * L) {
        acc0 = V::add(acc0, V::load(row + x));
        acc1 = V::add(acc1, V::load(row + x + L));
      }
      if (x < full) {
        acc0 = V::add(acc0, V::load(row + x));
        x += L;
      }
      if (x < g.in_width) acc1 = V::add(acc1, V::load_tail(row + x, tail));
    }
    float mean = V::reduce(V::add(acc0, acc1)) * scale;
    if (relu && mean < 0.0f) mean = 0.0f;
    output[c * p.out_channel_stride] = mean;
  }
}

}  // namespace
}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
