// Reference convolutions: the oracle for every optimized kernel. Plain loops, explicit border
// checks, no reliance on the zero border around input planes.
#include <cassert>
#include <cstddef>

#include "gnrt/kernels.h"
#include "scalar/activation.h"

namespace gnrt {
namespace kernels {

using scalar::activate;

namespace {

// Input element (c, y, x) or 0 when (y, x) lies outside the plane.
inline float input_at(const ConvGeometry& g, const ConstPlanarView& input, int c, int y, int x) {
  if (y < 0 || y >= g.in_height || x < 0 || x >= g.in_width) return 0.0f;
  return input.data[c * input.channel_stride + y * input.row_stride + x];
}

void check_geometry(const ConvGeometry& g, int oc_begin, int oc_end) {
  (void)g;
  (void)oc_begin;
  (void)oc_end;
  assert(g.groups > 0 && g.in_channels % g.groups == 0 && g.out_channels % g.groups == 0);
  assert(g.kernel_h > 0 && g.kernel_w > 0 && g.stride_h > 0 && g.stride_w > 0);
  assert(g.dilation_h > 0 && g.dilation_w > 0);
  assert(0 <= oc_begin && oc_begin <= oc_end && oc_end <= g.out_channels);
}

}  // namespace

void f32_conv2d_dense__scalar(const ConvGeometry& g, ConstPlanarView input, const float* weights,
                              const float* bias, PlanarView output, Activation activation,
                              int oc_begin, int oc_end) {
  check_geometry(g, oc_begin, oc_end);
  const int in_per_group = g.in_channels / g.groups;
  const int out_per_group = g.out_channels / g.groups;
  const std::ptrdiff_t filter_size =
      static_cast<std::ptrdiff_t>(in_per_group) * g.kernel_h * g.kernel_w;
  for (int oc = oc_begin; oc < oc_end; ++oc) {
    const int ic_base = (oc / out_per_group) * in_per_group;
    const float* filter = weights + oc * filter_size;
    float* out_plane = output.data + oc * output.channel_stride;
    for (int oy = 0; oy < g.out_height; ++oy) {
      for (int ox = 0; ox < g.out_width; ++ox) {
        float sum = bias != nullptr ? bias[oc] : 0.0f;
        for (int ic = 0; ic < in_per_group; ++ic) {
          for (int ky = 0; ky < g.kernel_h; ++ky) {
            const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
            for (int kx = 0; kx < g.kernel_w; ++kx) {
              const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
              const float w = filter[(ic * g.kernel_h + ky) * g.kernel_w + kx];
              sum += w * input_at(g, input, ic_base + ic, iy, ix);
            }
          }
        }
        out_plane[oy * output.row_stride + ox] = activate(sum, activation);
      }
    }
  }
}

void f32_conv2d_sparse__scalar(const ConvGeometry& g, ConstPlanarView input,
                               const SparseRows& weights, const float* bias, PlanarView output,
                               Activation activation, int oc_begin, int oc_end) {
  check_geometry(g, oc_begin, oc_end);
  const int in_per_group = g.in_channels / g.groups;
  const int out_per_group = g.out_channels / g.groups;
  const int taps = g.kernel_h * g.kernel_w;
  for (int oc = oc_begin; oc < oc_end; ++oc) {
    const int ic_base = (oc / out_per_group) * in_per_group;
    float* out_plane = output.data + oc * output.channel_stride;
    const std::uint32_t begin = weights.row_begin[oc];
    const std::uint32_t end = weights.row_begin[oc + 1];
    for (int oy = 0; oy < g.out_height; ++oy) {
      for (int ox = 0; ox < g.out_width; ++ox) {
        float sum = bias != nullptr ? bias[oc] : 0.0f;
        for (std::uint32_t n = begin; n < end; ++n) {
          const std::uint32_t index = weights.indices[n];
          assert(index < static_cast<std::uint32_t>(in_per_group * taps));
          const int ic = static_cast<int>(index) / taps;
          const int ky = (static_cast<int>(index) % taps) / g.kernel_w;
          const int kx = static_cast<int>(index) % g.kernel_w;
          const int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h;
          const int ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
          sum += weights.values[n] * input_at(g, input, ic_base + ic, iy, ix);
        }
        out_plane[oy * output.row_stride + ox] = activate(sum, activation);
      }
    }
  }
}

}  // namespace kernels
}  // namespace gnrt
