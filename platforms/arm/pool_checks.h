// Which pooling problems the NEON pooling kernels handle (pool_neon_impl.h). No intrinsics, so
// that the selector (select_arm.cc) can include it without NEON flags.
#pragma once

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {
namespace arm {

// Whether a 3x3 max pool of stride `stride` fits the fast path.
inline bool maxpool3x3_supported(const PoolProblem& p, int stride) {
  const PoolGeometry& g = p.geometry;
  if (!p.max || p.global || !p.input_nonnegative) return false;
  if (g.kernel_h != 3 || g.kernel_w != 3 || g.stride_h != stride || g.stride_w != stride)
    return false;
  if (g.channels < 1 || g.in_height < 1 || g.in_width < 1 || g.out_height < 1 || g.out_width < 1)
    return false;
  if (g.pad_top < 0 || g.pad_left < 0 || p.in_pad < 0) return false;
  // How far the last window reaches past the last input row / column.
  const int bottom = (g.out_height - 1) * stride + 3 - g.pad_top - g.in_height;
  const int right = (g.out_width - 1) * stride + 3 - g.pad_left - g.in_width;
  // Every tap inside the zero border, and every window with a tap inside the plane.
  if (g.pad_top > p.in_pad || g.pad_left > p.in_pad || bottom > p.in_pad || right > p.in_pad)
    return false;
  if (g.pad_top > 2 || g.pad_left > 2 || bottom > 2 || right > 2) return false;
  return padded_plane_ok(p.in_row_stride, p.in_channel_stride, g.in_height, g.in_width, p.in_pad) &&
         p.out_row_stride >= g.out_width;
}

inline bool global_avgpool_supported(const PoolProblem& p) {
  return p.global && !p.max && p.geometry.channels >= 1 && p.geometry.in_height >= 1 &&
         p.geometry.in_width >= 1 && p.in_row_stride >= p.geometry.in_width;
}

}  // namespace arm
}  // namespace kernels
}  // namespace gnrt
