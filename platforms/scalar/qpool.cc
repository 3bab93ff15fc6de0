// uint8 pooling on C4 tensors (qkernels.h): the reference, also the kernel the int8 plan runs.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "gnrt/qkernels.h"

namespace gnrt {
namespace kernels {

namespace {

// Byte-wise maxima over runs, written so that the compiler vectorizes them without alias checks.
inline void max_into(std::uint8_t* __restrict dst, const std::uint8_t* __restrict src,
                     std::ptrdiff_t n) {
  for (std::ptrdiff_t i = 0; i < n; ++i) dst[i] = dst[i] > src[i] ? dst[i] : src[i];
}
inline void max_copy(std::uint8_t* __restrict dst, const std::uint8_t* __restrict src,
                     std::uint8_t lo, std::ptrdiff_t n) {
  for (std::ptrdiff_t i = 0; i < n; ++i) dst[i] = src[i] > lo ? src[i] : lo;
}

inline int relu_of(int q, const QPoolProblem& p) {
  return p.relu && q < p.zero_point ? p.zero_point : q;
}

void global_pool(const QPoolProblem& p, const std::uint8_t* input, std::uint8_t* output, int g) {
  const PoolGeometry& geo = p.geometry;
  const std::int64_t n = static_cast<std::int64_t>(geo.in_height) * geo.in_width;
  const std::uint8_t* plane = input + g * p.in_group_stride * 4;
  std::int64_t sum[4] = {0, 0, 0, 0};
  for (int y = 0; y < geo.in_height; ++y) {
    const std::uint8_t* row = plane + y * p.in_row_stride * 4;
    // Per row in 32 bits (a row has at most 2^14 positions of at most 255).
    std::uint32_t r[4] = {0, 0, 0, 0};
    for (int x = 0; x < geo.in_width; ++x)
      for (int j = 0; j < 4; ++j) r[j] += row[4 * x + j];
    for (int j = 0; j < 4; ++j) sum[j] += r[j];
  }
  std::uint8_t* out = output + g * p.out_group_stride * 4;
  for (int j = 0; j < 4; ++j) {
    const std::int64_t s = sum[j] - n * p.zero_point;
    const std::int64_t q = n > 0 ? p.zero_point + divide_round_half_even(s, n) : p.zero_point;
    out[j] = static_cast<std::uint8_t>(relu_of(static_cast<int>(std::clamp<std::int64_t>(q, 0, 255)), p));
  }
}

}  // namespace

void qu8_pool_ref(const QPoolProblem& p, const std::uint8_t* input, std::uint8_t* output,
                  int g_begin, int g_end) {
  const PoolGeometry& geo = p.geometry;
  if (p.global) {
    for (int g = g_begin; g < g_end; ++g) global_pool(p, input, output, g);
    return;
  }
  const int padded_y_end = geo.in_height + p.pad_bottom;
  const int padded_x_end = geo.in_width + p.pad_right;
  for (int g = g_begin; g < g_end; ++g) {
    const std::uint8_t* plane = input + g * p.in_group_stride * 4;
    std::uint8_t* out_plane = output + g * p.out_group_stride * 4;
    for (int oy = 0; oy < geo.out_height; ++oy) {
      const int y0 = oy * geo.stride_h - geo.pad_top;
      const int y_begin = std::max(y0, 0), y_end = std::min(y0 + geo.kernel_h, geo.in_height);
      for (int ox = 0; ox < geo.out_width; ++ox) {
        const int x0 = ox * geo.stride_w - geo.pad_left;
        const int x_begin = std::max(x0, 0), x_end = std::min(x0 + geo.kernel_w, geo.in_width);
        std::uint8_t* out = out_plane + (oy * p.out_row_stride + ox) * 4;
        const bool any = y_begin < y_end && x_begin < x_end;
        if (p.max) {
          int best[4] = {0, 0, 0, 0};
          for (int y = y_begin; y < y_end; ++y)
            for (int x = x_begin; x < x_end; ++x) {
              const std::uint8_t* v = plane + (y * p.in_row_stride + x) * 4;
              for (int j = 0; j < 4; ++j) best[j] = std::max(best[j], static_cast<int>(v[j]));
            }
          for (int j = 0; j < 4; ++j)
            out[j] = static_cast<std::uint8_t>(relu_of(any ? best[j] : p.zero_point, p));
          continue;
        }
        int sum[4] = {0, 0, 0, 0};
        for (int y = y_begin; y < y_end; ++y)
          for (int x = x_begin; x < x_end; ++x) {
            const std::uint8_t* v = plane + (y * p.in_row_stride + x) * 4;
            for (int j = 0; j < 4; ++j) sum[j] += v[j];
          }
        const int inside = any ? (y_end - y_begin) * (x_end - x_begin) : 0;
        const int divisor =
            p.count_include_pad
                ? (std::min(y0 + geo.kernel_h, padded_y_end) - y0) *
                      (std::min(x0 + geo.kernel_w, padded_x_end) - x0)
                : inside;
        for (int j = 0; j < 4; ++j) {
          int q = p.zero_point;
          if (divisor > 0)
            q += static_cast<int>(
                divide_round_half_even(sum[j] - static_cast<std::int64_t>(inside) * p.zero_point,
                                       divisor));
          out[j] = static_cast<std::uint8_t>(relu_of(std::clamp(q, 0, 255), p));
        }
      }
    }
  }
}

void qu8_maxpool_rows(const QPoolProblem& p, const std::uint8_t* input, std::uint8_t* output,
                      int g_begin, int g_end) {
  const PoolGeometry& geo = p.geometry;
  const int bytes = geo.in_width * 4;
  const int k = geo.kernel_w, s = geo.stride_w;
  // rows: the window's rows reduced; wide: at each x, the maximum of rows x .. x + k - 1.
  alignas(64) std::uint8_t rows[kQMaxPoolRowsWidth * 4];
  alignas(64) std::uint8_t wide[kQMaxPoolRowsWidth * 4];
  const std::uint8_t lo = static_cast<std::uint8_t>(p.relu ? p.zero_point : 0);
  const std::uint8_t empty = std::max(static_cast<std::uint8_t>(p.zero_point), lo);
  // Outputs whose window lies inside the plane: [ox_lo, ox_hi).
  int ox_lo = 0;
  while (ox_lo < geo.out_width && ox_lo * s - geo.pad_left < 0) ++ox_lo;
  int ox_hi = geo.out_width;
  while (ox_hi > ox_lo && (ox_hi - 1) * s - geo.pad_left + k > geo.in_width) --ox_hi;
  const int wide_end = ox_hi > ox_lo ? ((ox_hi - 1) * s - geo.pad_left + 1) * 4 : 0;
  const int wide_begin = ox_hi > ox_lo ? (ox_lo * s - geo.pad_left) * 4 : 0;
  for (int g = g_begin; g < g_end; ++g) {
    const std::uint8_t* plane = input + g * p.in_group_stride * 4;
    std::uint8_t* out_plane = output + g * p.out_group_stride * 4;
    for (int oy = 0; oy < geo.out_height; ++oy) {
      const int y0 = oy * geo.stride_h - geo.pad_top;
      const int y_begin = std::max(y0, 0), y_end = std::min(y0 + geo.kernel_h, geo.in_height);
      std::uint8_t* out = out_plane + oy * p.out_row_stride * 4;
      if (y_begin >= y_end) {
        for (int i = 0; i < geo.out_width * 4; ++i) out[i] = empty;
        continue;
      }
      std::memcpy(rows, plane + y_begin * p.in_row_stride * 4, static_cast<std::size_t>(bytes));
      for (int y = y_begin + 1; y < y_end; ++y)
        max_into(rows, plane + y * p.in_row_stride * 4, bytes);
      // Inside windows: k shifted maxima over the whole run, then every s-th position.
      if (wide_end > wide_begin) {
        max_copy(wide + wide_begin, rows + wide_begin, lo, wide_end - wide_begin);
        for (int t = 1; t < k; ++t)
          max_into(wide + wide_begin, rows + wide_begin + 4 * t, wide_end - wide_begin);
        if (s == 1) {
          std::memcpy(out + 4 * ox_lo, wide + wide_begin, static_cast<std::size_t>(4 * (ox_hi - ox_lo)));
        } else {
          for (int ox = ox_lo; ox < ox_hi; ++ox)
            std::memcpy(out + 4 * ox, wide + (ox * s - geo.pad_left) * 4, 4);
        }
      }
      // Windows clipped by the plane's edges.
      for (int ox = 0; ox < geo.out_width; ++ox) {
        if (ox == ox_lo && ox_hi > ox_lo) ox = ox_hi;
        if (ox >= geo.out_width) break;
        const int x0 = ox * s - geo.pad_left;
        const int x_begin = std::max(x0, 0), x_end = std::min(x0 + k, geo.in_width);
        if (x_begin >= x_end) {
          for (int j = 0; j < 4; ++j) out[4 * ox + j] = empty;
          continue;
        }
        std::uint8_t best[4] = {0, 0, 0, 0};
        for (int x = x_begin; x < x_end; ++x)
          for (int j = 0; j < 4; ++j) best[j] = std::max(best[j], rows[4 * x + j]);
        for (int j = 0; j < 4; ++j) out[4 * ox + j] = std::max(best[j], lo);
      }
    }
  }
}

void qu8_maxpool_s1_flat(const QPoolProblem& p, const std::uint8_t* input, std::uint8_t* output,
                         int g_begin, int g_end) {
  const PoolGeometry& geo = p.geometry;
  const std::ptrdiff_t rs = p.in_row_stride;
  std::ptrdiff_t offset[64];
  int taps = 0;
  for (int ky = 0; ky < geo.kernel_h; ++ky)
    for (int kx = 0; kx < geo.kernel_w; ++kx)
      offset[taps++] = ((ky - geo.pad_top) * rs + (kx - geo.pad_left)) * 4;
  const std::ptrdiff_t run = ((geo.in_height - 1) * rs + geo.in_width) * 4;
  const std::uint8_t lo = static_cast<std::uint8_t>(p.relu ? p.zero_point : 0);
  for (int g = g_begin; g < g_end; ++g) {
    const std::uint8_t* in = input + g * p.in_group_stride * 4;
    std::uint8_t* out = output + g * p.out_group_stride * 4;
    max_copy(out, in + offset[0], lo, run);
    for (int t = 1; t < taps; ++t) max_into(out, in + offset[t], run);
  }
}

}  // namespace kernels
}  // namespace gnrt
