// Planning phase 3: row-band fusion of a light convolution with the max pool that reads its
// output (docs/design.md, "A light convolution runs fused with its max pool").
#include <algorithm>
#include <string>
#include <vector>

#include "plan.h"
#include "plan_internal.h"

namespace gnrt {

using plan_detail::BandRows;
using plan_detail::channel_stride_of;
using plan_detail::kAlignment;
using plan_detail::lead_of;
using plan_detail::round_up;

namespace plan_detail {

BandRows conv_rows_for(const kernels::PoolGeometry& g, int conv_height, int r0, int r1) {
  const int lo = std::max(0, r0 * g.stride_h - g.pad_top);
  const int hi = std::min(conv_height, (r1 - 1) * g.stride_h - g.pad_top + g.kernel_h);
  return {lo, hi};
}

kernels::PoolProblem band_pool_problem(const kernels::PoolProblem& full, const TensorLayout& band,
                                       int r0, int r1, BandRows rows) {
  kernels::PoolProblem p = full;
  kernels::PoolGeometry& g = p.geometry;
  g.in_height = rows.hi - rows.lo;
  g.out_height = r1 - r0;
  g.pad_top = rows.lo - (r0 * full.geometry.stride_h - full.geometry.pad_top);
  p.pad_bottom = std::max(0, (r1 - 1) * g.stride_h - g.pad_top + g.kernel_h - g.in_height);
  p.in_row_stride = band.row_stride;
  p.in_channel_stride = band.channel_stride;
  p.in_pad = band.pad;
  return p;
}

}  // namespace plan_detail

// A convolution whose output only a max pool reads runs in row bands: for each band of pool
// output rows it computes the convolution rows the band needs (the rows shared with the
// previous band are carried over, never recomputed) into a small buffer, zeroes that buffer's
// border, and pools from it. GoogLeNet's stem and conv3 write 3.2 MB and 2.9 MB of output that
// the next pool reads once; in bands that traffic stays in L2. The band problems must be
// supported by the same pool kernel as the whole problem (checked in fuse_pair), else no fusion.
void Plan::fuse_conv_pool() {
  const Model& m = *model_;
  std::vector<int> readers(m.tensors.size(), 0);
  for (const OpDesc& d : m.ops)
    for (int t : d.inputs) ++readers[t];
  for (int t : m.outputs) readers[t] += 2;
  for (std::size_t k = 0; k + 1 < m.ops.size(); ++k) {
    const OpDesc& conv = m.ops[k];
    const OpDesc& pool = m.ops[k + 1];
    if (conv.type != OpType::kConv2D || pool.type != OpType::kMaxPool) continue;
    if (pool.inputs[0] != conv.output || readers[conv.output] != 1) continue;
    if (fuse_pair(k, config_.fusion_band_bytes)) ++k;  // the pool is taken
  }
}

// Fuses convolution k with max pool k + 1 (the only reader of its output) when that pays and
// every band runs on the pool's kernel; returns whether it did.
bool Plan::fuse_pair(std::size_t k, std::size_t band_bytes) {
  PlannedOp& cop = ops_[k];
  PlannedOp& pop = ops_[k + 1];
  const std::string pool_name = pop.pool_kernel.name;
  if (pool_name.find("__scalar") != std::string::npos) return false;
  // Only light convolutions (at most kMaxFusedWorkPerOutput multiply-adds per output), whose
  // time goes into writing their output; heavier ones ran slower in bands, the band overheads
  // outweighing the traffic. Strided convolutions are computed row by row anyway (phase
  // buffers), so bands cost them nothing and they fuse at any density (docs/design.md).
  constexpr double kMaxFusedWorkPerOutput = 16;
  const double work_per_output =
      static_cast<double>(cop.conv.nonzeros) / std::max(1, cop.conv.geometry.out_channels);
  const bool strided = cop.conv.geometry.stride_h > 1 || cop.conv.geometry.stride_w > 1;
  if (work_per_output > kMaxFusedWorkPerOutput && !strided) return false;
  const TensorLayout& out = layouts_[ops_[k].desc->output];
  const kernels::PoolGeometry& pg = pop.pool.geometry;
  if (pg.stride_h < 1 || out.pad < 1) return false;
  // The band's rows: for a strided convolution a multiple of 16 floats, so that with the
  // interior origin on a 64-byte boundary every row starts on one (the pool's aligned loads,
  // the convolution's aligned stores; the stem's 112-wide rows would otherwise start
  // anywhere, row stride 113). Strided kernels store row by row and take any output row
  // stride; a stride-1 kernel may need equal input and output strides (s1g), so those keep
  // the output's.
  const std::uint64_t rs = strided ? round_up(static_cast<std::uint64_t>(out.width) + out.pad, 16)
                                   : static_cast<std::uint64_t>(out.row_stride);
  const std::uint64_t lead = lead_of(out.pad, rs);
  // Band height in pool rows: the buffer (all channels) within band_bytes.
  int band_rows = 0;
  for (int r = 1; r <= pg.out_height; ++r) {
    const std::uint64_t conv_rows = static_cast<std::uint64_t>(r) * pg.stride_h + pg.kernel_h;
    const std::uint64_t cs = channel_stride_of(conv_rows, rs, out.pad, lead);
    if (static_cast<std::uint64_t>(out.channels) * cs * sizeof(float) > band_bytes && r > 1) break;
    band_rows = r;
  }
  if (band_rows < 1 || band_rows >= pg.out_height) return false;
  // The band: the output's layout (border) with fewer rows, row stride rs, at channel 0.
  TensorLayout band = out;
  band.height = band_rows * pg.stride_h + pg.kernel_h;  // most conv rows one band holds
  band.row_stride = static_cast<std::ptrdiff_t>(rs);
  band.lead = static_cast<int>(lead);
  band.channel_stride =
      static_cast<std::ptrdiff_t>(channel_stride_of(band.height, rs, out.pad, lead));
  band.offset = static_cast<std::ptrdiff_t>(lead + out.pad * rs + out.pad);
  band.buffer = -1;
  // Every band shape must run on the same pool kernel.
  for (int r0 = 0; r0 < pg.out_height; r0 += band_rows) {
    const int r1 = std::min(pg.out_height, r0 + band_rows);
    const BandRows rows = plan_detail::conv_rows_for(pg, out.height, r0, r1);
    if (rows.hi - rows.lo > band.height || rows.hi <= rows.lo) return false;
    TensorLayout shape = band;
    shape.height = rows.hi - rows.lo;
    const kernels::PoolProblem bp = plan_detail::band_pool_problem(pop.pool, shape, r0, r1, rows);
    if (pool_name != kernels::select_pool_kernel(bp, isa_, false).name) return false;
  }
  // The band replaces the arena buffer of the convolution's output, which nothing else reads
  // and whose lifetime is exactly these two steps.
  const std::size_t bytes = round_up(
      (static_cast<std::size_t>(out.channels) * band.channel_stride + kernels::kMaxOverreadFloats) *
          sizeof(float),
      kAlignment);
  if (bytes > buffers_[out.buffer].bytes) return false;
  buffers_[out.buffer].bytes = bytes;
  cop.fusion.band_buffer = out.buffer;
  cop.fusion.band_layout = band;
  cop.fusion.band_rows = band_rows;
  cop.fusion.pool = static_cast<int>(k + 1);
  pop.fusion.conv = static_cast<int>(k);
  return true;
}

}  // namespace gnrt
