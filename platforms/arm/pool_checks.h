// Which pooling problems the NEON pooling kernels handle (pool_neon_impl.h). No intrinsics, so
// that the kernel list (kernel_list.cc) can include it without NEON flags.
#pragma once

#include "gnrt/kernels.h"
#include "pool_rules.h"

namespace gnrt {
namespace kernels {
namespace arm {

// The shared rule, plus what the NEON loops assume besides: at least one channel, and output
// rows that fit their row stride.
inline bool maxpool3x3_supported(const PoolProblem& p, int stride) {
  return maxpool3x3_zero_border_fits(p, stride) && p.geometry.channels >= 1 &&
         p.out_row_stride >= p.geometry.out_width;
}

inline bool global_avgpool_supported(const PoolProblem& p) {
  return p.global && !p.max && p.geometry.channels >= 1 && p.geometry.in_height >= 1 &&
         p.geometry.in_width >= 1 && p.in_row_stride >= p.geometry.in_width;
}

}  // namespace arm
}  // namespace kernels
}  // namespace gnrt
