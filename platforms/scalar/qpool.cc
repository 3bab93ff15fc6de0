// uint8 pooling on C4 tensors (qkernels.h): the reference, also the kernel the int8 plan runs.
#include <algorithm>
#include <cstdint>

#include "gnrt/qkernels.h"

namespace gnrt {
namespace kernels {

namespace {

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
  alignas(64) std::uint8_t rows[kQMaxPoolRowsWidth * 4];
  const std::uint8_t lo = static_cast<std::uint8_t>(p.relu ? p.zero_point : 0);
  const std::uint8_t empty = static_cast<std::uint8_t>(p.zero_point);
  for (int g = g_begin; g < g_end; ++g) {
    const std::uint8_t* plane = input + g * p.in_group_stride * 4;
    std::uint8_t* out_plane = output + g * p.out_group_stride * 4;
    for (int oy = 0; oy < geo.out_height; ++oy) {
      const int y0 = oy * geo.stride_h - geo.pad_top;
      const int y_begin = std::max(y0, 0), y_end = std::min(y0 + geo.kernel_h, geo.in_height);
      std::uint8_t* out = out_plane + oy * p.out_row_stride * 4;
      if (y_begin >= y_end) {
        for (int i = 0; i < geo.out_width * 4; ++i) out[i] = std::max(empty, lo);
        continue;
      }
      const std::uint8_t* first = plane + y_begin * p.in_row_stride * 4;
      for (int i = 0; i < bytes; ++i) rows[i] = first[i];
      for (int y = y_begin + 1; y < y_end; ++y) {
        const std::uint8_t* r = plane + y * p.in_row_stride * 4;
        for (int i = 0; i < bytes; ++i) rows[i] = std::max(rows[i], r[i]);
      }
      for (int ox = 0; ox < geo.out_width; ++ox) {
        const int x0 = ox * geo.stride_w - geo.pad_left;
        const int x_begin = std::max(x0, 0), x_end = std::min(x0 + geo.kernel_w, geo.in_width);
        std::uint8_t best[4] = {0, 0, 0, 0};
        if (x_begin >= x_end) {
          for (int j = 0; j < 4; ++j) best[j] = empty;
        } else {
          for (int x = x_begin; x < x_end; ++x)
            for (int j = 0; j < 4; ++j) best[j] = std::max(best[j], rows[4 * x + j]);
        }
        for (int j = 0; j < 4; ++j) out[4 * ox + j] = std::max(best[j], lo);
      }
    }
  }
}

}  // namespace kernels
}  // namespace gnrt
