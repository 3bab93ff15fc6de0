// Bodies of the NEON pooling kernels (f32-maxpool2d-3x3s*-neon.cc, f32-global-avgpool-neon.cc).
// Internal linkage, as in sparse_neon_impl.h. Include only from kernel files.
//
// 3x3 max pooling runs on the zero-border fast path of the layout contract: the producer ends
// in ReLU (PoolProblem::input_nonnegative), so a tap that reads the zero border never beats the
// in-plane taps of its window and nothing is clipped. A plane is walked in vertical strips of
// output columns; walking down a strip, the horizontal maximum of each input row is computed once
// and serves every output row whose window covers it (three for stride 1, the odd rows two for
// stride 2). The last strip of a row ends at the row's end and may overlap the previous one (it
// rewrites identical values), so no store is partial and nothing outside the row is written.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <type_traits>

#include "arm/neon_mac.h"
#include "arm/pool_checks.h"
#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {
namespace arm {
namespace {

// Horizontal 3-tap maximum for 4 consecutive outputs whose first window starts at p. Stride 2:
// one LD2 gives taps 0 and 1 (even and odd lanes), a second one at p + 2 tap 2; it reads one
// float past the last tap, which the layout contract allows.
template <int kStride>
inline float32x4_t row_max3(const float* p) {
  if constexpr (kStride == 1) {
    return vmaxq_f32(vmaxq_f32(vld1q_f32(p), vld1q_f32(p + 1)), vld1q_f32(p + 2));
  } else {
    const float32x4x2_t taps01 = vld2q_f32(p);
    return vmaxq_f32(vmaxq_f32(taps01.val[0], taps01.val[1]), vld2q_f32(p + 2).val[0]);
  }
}

// One strip of 4 * kVectors output columns of one plane. `col`: input element of tap (0, 0) of
// output (0, first column); `out`: output (0, first column).
template <int kVectors, int kStride>
inline void maxpool3x3_strip(const float* col, float* out, std::ptrdiff_t in_rs,
                             std::ptrdiff_t out_rs, int out_height, bool relu) {
  const float32x4_t zero = vdupq_n_f32(0.0f);
  float32x4_t h0[kVectors], h1[kVectors];
  for (int v = 0; v < kVectors; ++v) h0[v] = row_max3<kStride>(col + 4 * kStride * v);
  if constexpr (kStride == 1)
    for (int v = 0; v < kVectors; ++v) h1[v] = row_max3<1>(col + in_rs + 4 * v);
  for (int oy = 0; oy < out_height; ++oy) {
    float* o = out + oy * out_rs;
    for (int v = 0; v < kVectors; ++v) {
      float32x4_t m;
      if constexpr (kStride == 1) {
        const float32x4_t h2 = row_max3<1>(col + (oy + 2) * in_rs + 4 * v);
        m = vmaxq_f32(vmaxq_f32(h0[v], h1[v]), h2);
        h0[v] = h1[v];
        h1[v] = h2;
      } else {
        const float* row = col + (2 * oy + 1) * in_rs + 8 * v;
        const float32x4_t middle = row_max3<2>(row);
        const float32x4_t last = row_max3<2>(row + in_rs);
        m = vmaxq_f32(vmaxq_f32(h0[v], middle), last);
        h0[v] = last;
      }
      if (relu) m = vmaxq_f32(m, zero);
      vst1q_f32(o + 4 * v, m);
    }
  }
}

template <int kStride>
void maxpool3x3_run(const PoolProblem& p, const float* input, float* output, int c_begin,
                    int c_end) {
  const PoolGeometry& g = p.geometry;
  const std::ptrdiff_t in_rs = p.in_row_stride;
  const std::ptrdiff_t out_rs = p.out_row_stride;
  const bool relu = p.activation == Activation::kRelu;
  const int width = g.out_width;
  for (int c = c_begin; c < c_end; ++c) {
    // Tap (0, 0) of output (0, 0).
    const float* origin = input + c * p.in_channel_stride - g.pad_top * in_rs - g.pad_left;
    float* out = output + c * p.out_channel_stride;
    auto strip = [&](auto vectors, int x) {
      maxpool3x3_strip<decltype(vectors)::value, kStride>(origin + kStride * x, out + x, in_rs,
                                                          out_rs, g.out_height, relu);
    };
    if (width >= 8) {
      int x = 0;
      for (; x + 8 <= width; x += 8) strip(std::integral_constant<int, 2>{}, x);
      if (x < width) {
        if (width - x <= 4)
          strip(std::integral_constant<int, 1>{}, width - 4);
        else
          strip(std::integral_constant<int, 2>{}, width - 8);
      }
    } else if (width >= 4) {
      strip(std::integral_constant<int, 1>{}, 0);
      if (width > 4) strip(std::integral_constant<int, 1>{}, width - 4);
    } else {
      for (int oy = 0; oy < g.out_height; ++oy)
        for (int x = 0; x < width; ++x) {
          const float* w = origin + kStride * oy * in_rs + kStride * x;
          float m = w[0];
          for (int ky = 0; ky < 3; ++ky)
            for (int kx = 0; kx < 3; ++kx) m = m > w[ky * in_rs + kx] ? m : w[ky * in_rs + kx];
          if (relu && m < 0.0f) m = 0.0f;
          out[oy * out_rs + x] = m;
        }
    }
  }
}

// Global average pooling: the interior of each plane, row by row, four lanes at a time (two
// accumulators), the row's last 0-3 values scalar; nothing outside the interior is read.
inline void global_avgpool_run(const PoolProblem& p, const float* input, float* output, int c_begin,
                               int c_end) {
  const PoolGeometry& g = p.geometry;
  const float scale = 1.0f / (static_cast<float>(g.in_height) * static_cast<float>(g.in_width));
  const bool relu = p.activation == Activation::kRelu;
  for (int c = c_begin; c < c_end; ++c) {
    const float* plane = input + c * p.in_channel_stride;
    float32x4_t acc0 = vdupq_n_f32(0.0f), acc1 = vdupq_n_f32(0.0f);
    float rest = 0.0f;
    for (int y = 0; y < g.in_height; ++y) {
      const float* row = plane + y * p.in_row_stride;
      int x = 0;
      for (; x + 8 <= g.in_width; x += 8) {
        acc0 = vaddq_f32(acc0, vld1q_f32(row + x));
        acc1 = vaddq_f32(acc1, vld1q_f32(row + x + 4));
      }
      if (x + 4 <= g.in_width) {
        acc0 = vaddq_f32(acc0, vld1q_f32(row + x));
        x += 4;
      }
      for (; x < g.in_width; ++x) rest += row[x];
    }
    float mean = (horizontal_sum(vaddq_f32(acc0, acc1)) + rest) * scale;
    if (relu && mean < 0.0f) mean = 0.0f;
    output[c * p.out_channel_stride] = mean;
  }
}

}  // namespace
}  // namespace arm
}  // namespace kernels
}  // namespace gnrt
