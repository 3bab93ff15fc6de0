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
// plane or the kMaxOverreadFloats slack and only feed discarded lanes. The last strip of a row
// also stores zeros over the row's gap (the lanes up to the next row; the rest of a gap wider
// than that, after the strips): these kernels zero the row gaps (kernels.h).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "gnrt/kernels.h"
#include "pool_rules.h"
#include "x86/kernel_list.h"
#include "x86/row_gaps.h"

namespace gnrt {
namespace kernels {
namespace x86 {
namespace {  // NOLINT(build/namespaces): internal linkage on purpose, see above

// The shared rule (pool_rules.h); the AVX2 and AVX-512 loops need nothing beyond it.
inline bool maxpool3x3_supported(const PoolProblem& p, int stride) {
  return maxpool3x3_zero_border_fits(p, stride);
}

template <typename V, int kStride>
inline typename V::Reg row_max3(const float* p) {
  if (kStride == 1) return V::max(V::max(V::load(p), V::load(p + 1)), V::load(p + 2));
  return V::max(V::max(V::load_even(p), V::load_even(p + 1)), V::load_even(p + 2));
}

// The horizontal 3-tap maximum of output columns [xs, xs + L) over the input row `row` (its
// element (r, 0)). kPad < 0: any pad_left, loads at the taps' offsets (unaligned, an unaligned
// 512-bit load splits over two cache lines). kPad = 0 or 1 (pad_left; stride 1 only 1;
// maxpool3x3_shift_form): the lane-shift form, one load per vector of the row (stride 2: two,
// deinterleaved into even and odd columns) and the neighbouring columns from lane shifts, every
// load aligned when rows start on vector boundaries (the planner's layouts at 56, 28 and 14
// columns). The vectors before and after supply one lane each; `first` (the strip starts at
// column 0: the tap left of it is the zero border) and `last` (the tap right of the strip's last
// lane is the border or feeds only a discarded lane) replace them by zeros, which never win
// (nonnegative input): a 14x14 map's row then costs one load, and nothing left of column 0 is
// read.
template <typename V, int kStride, int kPad>
inline typename V::Reg row_max(const float* row, int xs, int pad_left, bool first, bool last) {
  using Reg = typename V::Reg;
  constexpr int L = V::kLanes;
  if constexpr (kPad < 0) {
    return row_max3<V, kStride>(row + kStride * xs - pad_left);
  } else if constexpr (kStride == 1) {
    static_assert(kPad == 1, "stride 1: aligned form for pad_left 1");
    const float* a = row + xs;
    const Reg x = V::load(a);
    const Reg before = first ? V::zero() : V::load(a - L);
    const Reg after = last ? V::zero() : V::load(a + L);
    return V::max(V::max(V::shift_prev(x, before), x), V::shift_next(x, after));
  } else {
    const float* a = row + 2 * xs;
    const Reg lo = V::load(a);
    const Reg hi = V::load(a + L);
    const Reg even = V::even(lo, hi);  // columns 2x
    const Reg odd = V::odd(lo, hi);    // columns 2x + 1
    if constexpr (kPad == 0) {
      const Reg after = last ? V::zero() : V::load(a + 2 * L);
      return V::max(V::max(even, odd), V::shift_next(even, after));  // 2x + 2
    } else {
      const Reg before = first ? V::zero() : V::load(a - L);
      return V::max(V::max(V::shift_prev(odd, before), even), odd);  // 2x - 1
    }
  }
}

// No activation step: the input is nonnegative, so is every maximum, and a ReLU after the pool
// changes nothing.
template <typename V, int kStride, int kPad>
void maxpool3x3_channels(const PoolProblem& p, const float* input, float* output, int c_begin,
                         int c_end) {
  using Reg = typename V::Reg;
  constexpr int L = V::kLanes;
  const PoolGeometry& g = p.geometry;
  const std::ptrdiff_t in_rs = p.in_row_stride;
  const std::ptrdiff_t out_rs = p.out_row_stride;
  const int pad_left = g.pad_left;
  for (int c = c_begin; c < c_end; ++c) {
    const float* in_plane = input + c * p.in_channel_stride;
    float* out_plane = output + c * p.out_channel_stride;
    for (int xs = 0; xs < g.out_width; xs += L) {
      const int lanes = std::min(L, g.out_width - xs);
      const typename V::Tail tail = V::make_tail(lanes);
      // The lanes up to the next row: the row's values, then zeros over its gap.
      const int span = static_cast<int>(std::min<std::ptrdiff_t>(L, out_rs - xs));
      const typename V::Tail span_tail = V::make_tail(span);
      // row_max's zero neighbours: the strip starts at column 0 with the left tap in the border
      // (pad_left 1), or the right tap of its last lane is past the input row (stride 1, pad
      // 1: column xs + L >= width is border) or feeds a discarded output (xs + L > out_width).
      const bool first = xs == 0 && pad_left == 1;
      const bool last = kStride == 1 ? xs + L >= g.in_width : xs + L > g.out_width;
      float* out = out_plane + xs;
      // The row whose gap is not written: none when the output plane has a border below its
      // last row, else the last row (the plane may end right after it).
      const int gapless_row = gap_rows(g.out_height, p.out_pad);
      auto emit = [&](Reg r, int oy) {
        if (oy == gapless_row) {
          if (lanes == L) {
            V::store(out + oy * out_rs, r);
          } else {
            V::store_tail(out + oy * out_rs, r, tail);
          }
        } else if (span == L) {
          V::store(out + oy * out_rs, lanes == L ? r : V::zero_outside(r, tail));
        } else {
          V::store_tail(out + oy * out_rs, V::zero_outside(r, tail), span_tail);
        }
      };
      // The horizontal maximum of input row r; in the lane-shift form the rows above and below
      // the input are zeros, never read (PoolKernel::reads_border_rows).
      auto h = [&](int r) {
        if (kPad >= 0 && (r < 0 || r >= g.in_height)) return V::zero();
        return row_max<V, kStride, kPad>(in_plane + r * in_rs, xs, pad_left, first, last);
      };
      if constexpr (kStride == 1) {
        Reg h0 = h(-g.pad_top);
        Reg h1 = h(1 - g.pad_top);
        for (int oy = 0; oy < g.out_height; ++oy) {
          const Reg h2 = h(oy + 2 - g.pad_top);
          emit(V::max(V::max(h0, h1), h2), oy);
          h0 = h1;
          h1 = h2;
        }
      } else {
        Reg h0 = h(-g.pad_top);
        for (int oy = 0; oy < g.out_height; ++oy) {
          const int r = kStride * oy + 1 - g.pad_top;
          const Reg h1 = h(r);
          const Reg h2 = h(r + 1);
          emit(V::max(V::max(h0, h1), h2), oy);
          h0 = h2;
        }
      }
    }
    // A gap reaching past the last strip's vector (width a multiple of L).
    const int covered = (g.out_width + L - 1) / L * L;
    if (out_rs > covered) {
      for (int oy = 0; oy < gap_rows(g.out_height, p.out_pad); ++oy) {
        zero_floats(out_plane + oy * out_rs + covered, out_rs - covered);
      }
    }
  }
}

template <typename V, int kStride>
void maxpool3x3_entry(const PoolProblem& p, const float* input, float* output, int c_begin,
                      int c_end) {
  // The lane-shift form whenever the padding allows it (maxpool3x3_shift_form, which also tells
  // the selector whether the kernel reads border rows): it is correct at any alignment, only
  // fastest on rows that start on vector boundaries.
  const int pad = p.geometry.pad_left;
  if (!maxpool3x3_shift_form(kStride, pad)) {
    maxpool3x3_channels<V, kStride, -1>(p, input, output, c_begin, c_end);
  } else if (pad == 1) {
    maxpool3x3_channels<V, kStride, 1>(p, input, output, c_begin, c_end);
  } else if constexpr (kStride == 2) {
    maxpool3x3_channels<V, kStride, 0>(p, input, output, c_begin, c_end);
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
