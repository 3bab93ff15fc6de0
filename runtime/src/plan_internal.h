// What the plan's phases (plan_layout.cc, plan_prepare.cc, plan_fusion.cc, plan_run.cc) share:
// alignment, plane geometry and the row bands of a fused convolution + max pool.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "gnrt/kernels.h"
#include "plan.h"

namespace gnrt {
namespace plan_detail {

// Arena buffers, their offsets, channel strides and packed weights are multiples of this.
constexpr std::size_t kAlignment = 64;

constexpr std::size_t round_up(std::size_t value, std::size_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

// 64-byte aligned, at least one byte; empty on failure.
AlignedBlock aligned_block(std::size_t bytes);

// Channel stride of `height` rows of `rs` floats with a zero border of `pad` and `lead` floats in
// front: p more floats than the rows (the bottom-right tap of the last row reaches p columns past
// the last interior column of row H - 1 + p, which with shared borders is p floats past it),
// rounded up to 16 floats (64 bytes).
inline std::uint64_t channel_stride_of(std::uint64_t height, std::uint64_t rs, int pad,
                                       std::uint64_t lead) {
  const std::uint64_t floats = (height + 2 * static_cast<std::uint64_t>(pad)) * rs + pad + lead;
  return floats < 16 ? floats : round_up(floats, 16);
}

// Floats before each padded plane that put the interior origin (0, 0) on a 64-byte boundary
// (buffers and channel strides are multiples of 64 bytes).
inline std::uint64_t lead_of(int pad, std::uint64_t rs) {
  return (16 - (pad * rs + pad) % 16) % 16;
}

// The zero border each tensor needs (the largest padding of any consumer, then the same for every
// tensor of one spatial size); 0 for tensors never computed (heights 0). With `pool_overhang`,
// also how far a ceil-mode pooling window reaches past the padded input (the int8 plan's max
// pools read whole windows, border included).
std::vector<int> border_of_tensors(const Model& m, const std::vector<int>& heights,
                                   const std::vector<int>& widths, bool pool_overhang = false);

// Concatenations without copies: alias_parent[t] is the concat output that tensor t is a channel
// slice of (-1: none), at channel alias_channel[t]; a concat aliases only when every input's
// first channel is a multiple of `channel_multiple` (1 for float, 4 for C4 uint8 tensors).
void concat_aliases(const Model& m, int channel_multiple, std::vector<int>* alias_parent,
                    std::vector<int>* alias_channel);

// The tensor whose buffer t lives in, and t's first channel there.
int alias_root(const std::vector<int>& alias_parent, const std::vector<int>& alias_channel, int t,
               int* channel);

// Rows of the convolution's output that pool rows [r0, r1) read: [lo, hi), clipped to the plane.
struct BandRows {
  int lo, hi;
};
BandRows conv_rows_for(const kernels::PoolGeometry& g, int conv_height, int r0, int r1);

// The pool problem for output rows [r0, r1) reading conv rows [lo, hi) from a band laid out as
// `band` (row lo at the band's origin).
kernels::PoolProblem band_pool_problem(const kernels::PoolProblem& full, const TensorLayout& band,
                                       int r0, int r1, BandRows rows);

}  // namespace plan_detail
}  // namespace gnrt
