// Which lanes of an output vector are interior elements, for the kernels that leave zeros in the
// row gaps of their output planes (ConvKernel::zeroes_row_gaps, kernels.h). Plain C++, shared by
// the AVX2 and AVX-512 loop nests; internal linkage, see sparse_conv_impl.h.
#pragma once

#include <cstddef>

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {
namespace x86 {
namespace {  // NOLINT(build/namespaces)

// Where a run of output floats lies in its plane: float i of the run is at flat position
// start + i from the interior origin (0, 0), rows of `width` interior floats every `row_stride`.
// row_stride == 0: the run is a single row segment, all of it interior.
struct RunPlacement {
  std::ptrdiff_t start = 0;
  std::ptrdiff_t row_stride = 0;
  std::ptrdiff_t width = 0;
};

// Bit l set when float `first + l` of the run (l < lanes <= 32) is an interior element: at a flat
// position p >= 0 with p mod row_stride < width. The other lanes are the border: the row gaps,
// or the top border when a flat run starts early (aligned_lead). One step per row the lanes
// touch (two at row strides of 16 and more).
inline unsigned interior_lane_bits(const RunPlacement& r, std::ptrdiff_t first, int lanes) {
  const unsigned all = lanes >= 32 ? ~0u : (1u << lanes) - 1u;
  if (r.row_stride == 0) return all;
  const std::ptrdiff_t p = r.start + first;
  auto below = [](std::ptrdiff_t n) { return n >= 32 ? ~0u : n <= 0 ? 0u : (1u << n) - 1u; };
  unsigned bits = 0;
  // Rows from the one holding p (row 0 when p < 0: nothing above the origin is interior).
  for (std::ptrdiff_t row = p >= 0 ? p - p % r.row_stride : 0; row < p + lanes;
       row += r.row_stride) {
    // Interior [row, row + width) as lanes of the vector starting at p.
    bits |= below(row + r.width - p) & ~below(row - p);
  }
  return bits & all;
}

// Rows whose gap a kernel zeroes (kernels.h): all of them when the output plane has a border
// below the last row, else all but the last (whose gap may end the plane).
inline int gap_rows(int out_height, int out_pad) {
  return out_pad >= 1 ? out_height : out_height - 1;
}

// Length of a flat run over output rows 0..out_height - 1 that also covers the last row's gap
// when that adds no vector (always, at the planner's row strides): then the run's lane masks
// zero it; else the run ends at the last interior element and *tail_gap is set (the caller
// zeroes that gap after the run).
inline std::ptrdiff_t flat_run_length(const ConvProblem& p, std::ptrdiff_t lead, int lanes,
                                      bool* tail_gap) {
  const ConvGeometry& g = p.geometry;
  const std::ptrdiff_t rows = (g.out_height - 1) * p.out_row_stride + g.out_width;
  *tail_gap = false;
  if (gap_rows(g.out_height, p.out_pad) < g.out_height || p.out_row_stride <= g.out_width)
    return rows;
  const std::ptrdiff_t full = g.out_height * p.out_row_stride;
  if ((full + lead + lanes - 1) / lanes == (rows + lead + lanes - 1) / lanes) return full;
  *tail_gap = true;
  return rows;
}

// Zeros n floats. Gaps are short (1 float after each 112-wide row of the stem): explicit stores,
// where the compiler would otherwise call memset once per row and channel (docs/kernels.md,
// "Measurement history").
inline void zero_floats(float* p, std::ptrdiff_t n) {
  switch (n) {
    case 4:
      p[3] = 0.0f;
      [[fallthrough]];
    case 3:
      p[2] = 0.0f;
      [[fallthrough]];
    case 2:
      p[1] = 0.0f;
      [[fallthrough]];
    case 1:
      p[0] = 0.0f;
      [[fallthrough]];
    case 0:
      return;
    default:
      for (std::ptrdiff_t i = 0; i < n; ++i) p[i] = 0.0f;
  }
}

// Zeros the row gap after output row `y` of channels [oc_begin, oc_end) of a convolution's
// output at `output` (element (0, 0, 0)), when that row has one to zero (gap_rows).
// Kernels that store rows one at a time call it after each row; flat runs for the last row
// when their run could not cover its gap (flat_run_length).
inline void zero_output_row_gap(const ConvProblem& p, float* output, int y, int oc_begin,
                                int oc_end) {
  const int width = p.geometry.out_width;
  if (y >= gap_rows(p.geometry.out_height, p.out_pad) || p.out_row_stride <= width) return;
  for (int c = oc_begin; c < oc_end; ++c) {
    zero_floats(output + c * p.out_channel_stride + y * p.out_row_stride + width,
                p.out_row_stride - width);
  }
}

}  // namespace
}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
