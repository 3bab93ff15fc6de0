// Which pooling problems the vectorized pooling kernels of every ISA handle: the rule is defined
// once here, and each ISA's pool_checks adds only what its own kernels need on top. No
// intrinsics, so that the plan-time kernel lists can include it without ISA flags.
#pragma once

#include <algorithm>

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {

// Whether a 3x3 max pool of stride `stride` fits the zero-border fast path: the input is
// nonnegative (its producer ends in ReLU), so a padded tap reading the zero border never wins
// over the in-plane taps and no window needs clipping, provided every tap of every output pixel
// lies inside the zero border and every window has a tap inside the plane.
inline bool maxpool3x3_zero_border_fits(const PoolProblem& p, int stride) {
  const PoolGeometry& g = p.geometry;
  if (!p.max || p.global || !p.input_nonnegative) return false;
  if (g.kernel_h != 3 || g.kernel_w != 3 || g.stride_h != stride || g.stride_w != stride)
    return false;
  if (g.out_height < 1 || g.out_width < 1 || g.in_height < 1 || g.in_width < 1) return false;
  if (g.pad_top < 0 || g.pad_left < 0 || g.pad_top > 2 || g.pad_left > 2) return false;
  // How far the last window reaches past the last input row / column.
  const int bottom = (g.out_height - 1) * stride + 3 - g.pad_top - g.in_height;
  const int right = (g.out_width - 1) * stride + 3 - g.pad_left - g.in_width;
  if (std::max({g.pad_top, g.pad_left, bottom, right}) > p.in_pad) return false;
  if (bottom > 2 || right > 2) return false;
  return padded_plane_ok(p.in_row_stride, p.in_channel_stride, g.in_height, g.in_width, p.in_pad);
}

}  // namespace kernels
}  // namespace gnrt
