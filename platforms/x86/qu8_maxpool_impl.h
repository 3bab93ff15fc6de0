// Shared parts of the x86 uint8 max-pooling kernels (qu8-maxpool-*.cc): the taps' byte offsets
// and a scalar position for the tails. Each window is read whole, border taps included
// (qu8_maxpool_border_fits / qu8_maxpool_s1_flat_fits say when that equals qu8_pool_ref), and its
// maximum kept in registers, so every output byte is stored once.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gnrt/qkernels.h"

namespace gnrt {
namespace kernels {
namespace x86 {

struct QMaxTaps {
  std::ptrdiff_t offset[64];  // bytes, from the window's anchor (its unpadded top-left)
  int count = 0;
};

inline QMaxTaps qmax_taps(const QPoolProblem& p) {
  QMaxTaps t;
  const PoolGeometry& g = p.geometry;
  for (int ky = 0; ky < g.kernel_h; ++ky)
    for (int kx = 0; kx < g.kernel_w; ++kx)
      t.offset[t.count++] = ((ky - g.pad_top) * p.in_row_stride + (kx - g.pad_left)) * 4;
  return t;
}

inline std::uint8_t qmax_lo(const QPoolProblem& p) {
  return static_cast<std::uint8_t>(p.relu ? p.zero_point : 0);
}

// One output position (4 bytes): the maximum over the taps at `anchor`, at least `lo`.
inline void qmax_position(const QMaxTaps& taps, const std::uint8_t* anchor, std::uint8_t lo,
                          std::uint8_t* out) {
  for (int j = 0; j < 4; ++j) {
    std::uint8_t m = lo;
    for (int t = 0; t < taps.count; ++t) {
      const std::uint8_t v = anchor[taps.offset[t] + j];
      m = v > m ? v : m;
    }
    out[j] = m;
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
