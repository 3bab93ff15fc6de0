// Reference pooling kernels. Windows are clipped to the input explicitly; nothing relies on the
// zero border around input planes.
#include <algorithm>
#include <cassert>
#include <cstddef>
#include <limits>

#include "gnrt/kernels.h"
#include "scalar/activation.h"

namespace gnrt {
namespace kernels {

using scalar::activate;

namespace {

// A pooling window: its unclipped start (y0, x0) and its rows [y_begin, y_end) and columns
// [x_begin, x_end) clipped to the input.
struct Window {
  int y0, y_begin, y_end, x0, x_begin, x_end;
};

// output(c, oy, ox) = activate(value(in_plane, window)) over channels [c_begin, c_end).
template <typename Value>
void pool_windows(const PoolGeometry& g, ConstPlanarView input, PlanarView output,
                  Activation activation, int c_begin, int c_end, Value value) {
  assert(g.kernel_h > 0 && g.kernel_w > 0 && g.stride_h > 0 && g.stride_w > 0);
  assert(0 <= c_begin && c_begin <= c_end && c_end <= g.channels);
  for (int c = c_begin; c < c_end; ++c) {
    const float* in_plane = input.data + c * input.channel_stride;
    float* out_plane = output.data + c * output.channel_stride;
    for (int oy = 0; oy < g.out_height; ++oy) {
      Window w{};
      w.y0 = oy * g.stride_h - g.pad_top;
      w.y_begin = std::max(w.y0, 0);
      w.y_end = std::min(w.y0 + g.kernel_h, g.in_height);
      for (int ox = 0; ox < g.out_width; ++ox) {
        w.x0 = ox * g.stride_w - g.pad_left;
        w.x_begin = std::max(w.x0, 0);
        w.x_end = std::min(w.x0 + g.kernel_w, g.in_width);
        out_plane[oy * output.row_stride + ox] = activate(value(in_plane, w), activation);
      }
    }
  }
}

}  // namespace

void f32_maxpool2d__scalar(const PoolGeometry& g, ConstPlanarView input, PlanarView output,
                           Activation activation, int c_begin, int c_end) {
  pool_windows(g, input, output, activation, c_begin, c_end,
               [&](const float* in_plane, const Window& w) {
                 float best = -std::numeric_limits<float>::infinity();
                 bool any = false;
                 for (int y = w.y_begin; y < w.y_end; ++y) {
                   for (int x = w.x_begin; x < w.x_end; ++x) {
                     best = std::max(best, in_plane[y * input.row_stride + x]);
                     any = true;
                   }
                 }
                 return any ? best : 0.0f;
               });
}

void f32_avgpool2d__scalar(const PoolGeometry& g, ConstPlanarView input, PlanarView output,
                           bool count_include_pad, int pad_bottom, int pad_right,
                           Activation activation, int c_begin, int c_end) {
  // The padded input spans [-pad_top, in_height + pad_bottom) x [-pad_left, in_width + pad_right).
  // PyTorch's count_include_pad divisor counts the window clipped to that padded extent; windows
  // that ceil mode lets run past it are not counted beyond it.
  const int padded_y_end = g.in_height + pad_bottom;
  const int padded_x_end = g.in_width + pad_right;
  pool_windows(
      g, input, output, activation, c_begin, c_end, [&](const float* in_plane, const Window& w) {
        const int padded_rows = std::min(w.y0 + g.kernel_h, padded_y_end) - w.y0;
        const int padded_cols = std::min(w.x0 + g.kernel_w, padded_x_end) - w.x0;
        float sum = 0.0f;
        for (int y = w.y_begin; y < w.y_end; ++y) {
          for (int x = w.x_begin; x < w.x_end; ++x) sum += in_plane[y * input.row_stride + x];
        }
        const int inside = std::max(w.y_end - w.y_begin, 0) * std::max(w.x_end - w.x_begin, 0);
        const int divisor = count_include_pad ? padded_rows * padded_cols : inside;
        return divisor > 0 ? sum / static_cast<float>(divisor) : 0.0f;
      });
}

void f32_global_avgpool__scalar(int channels, int height, int width, ConstPlanarView input,
                                float* output, int c_begin, int c_end) {
  assert(0 <= c_begin && c_begin <= c_end && c_end <= channels);
  (void)channels;
  const int count = height * width;
  for (int c = c_begin; c < c_end; ++c) {
    const float* plane = input.data + c * input.channel_stride;
    // Accumulate in double: planes can hold tens of thousands of elements.
    double sum = 0.0;
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) sum += plane[y * input.row_stride + x];
    }
    output[c] = count > 0 ? static_cast<float>(sum / count) : 0.0f;
  }
}

}  // namespace kernels
}  // namespace gnrt
