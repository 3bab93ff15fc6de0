// Stride-2 direct sparse convolution through a per-row phase buffer (plan-time part: shared by
// packing and the kernels, no ISA flags).
//
// For output row oy, the input rows a kernel row ky reads (2*oy - pad_top + ky, every input
// channel) are split into their even and odd columns:
//   even[j] = row[2j - pad_left],  odd[j] = row[2j + 1 - pad_left],  j in [0, phase_width)
// so tap kx of output column x reads even[x + kx/2] (kx even) or odd[x + (kx-1)/2] (kx odd): a
// plain stride-1 load. The split costs two loads and a deinterleave per vector of a buffer row,
// shared by every output channel and nonzero, instead of per nonzero and vector (the
// on-the-fly kernels, f32-conv2d-sparse-s2-*.cc). The buffer (in_channels * kernel_h * 2 rows of
// phase_row_floats) lives on the kernel's stack, so it is bounded (kMaxPhaseBufferFloats).
//
// Packed entries: the offset of nonzero (ic, ky, kx) is
//   ((ic * kernel_h + ky) * 2 + (kx & 1)) * phase_row_floats + (kx >> 1)
// relative to the buffer position of the output row's first pixel.
#pragma once

#include <cstddef>

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {
namespace x86 {

constexpr std::ptrdiff_t kMaxPhaseBufferFloats = 8192;  // 32 KiB of stack

// Columns each phase row holds: the output width plus the reach of the widest tap.
inline int phase_width(const ConvGeometry& g) { return g.out_width + (g.kernel_w - 1) / 2; }
// Floats per phase row: phase_width rounded up to 16 (whole 512-bit vectors when filling it).
inline std::ptrdiff_t phase_row_floats(const ConvGeometry& g) {
  return (phase_width(g) + 15) / 16 * 16;
}
inline std::ptrdiff_t phase_buffer_floats(const ConvGeometry& g) {
  return static_cast<std::ptrdiff_t>(g.in_channels) * g.kernel_h * 2 * phase_row_floats(g);
}

// Stride 2 in both directions, no dilation or groups, a border covering every tap, a buffer that
// fits kMaxPhaseBufferFloats.
bool sparse_conv_phase_supported(const ConvProblem& problem);
void sparse_conv_pack_phase(const ConvProblem& problem, void* packed);

// Shift form (f32_conv2d_sparse_s2pg_*, sparse_conv_shift_impl.h): the phase rows shifted by
// `center` columns so that tap kx reads phase row (kx & 1) at column shift s = kx/2 - center,
// in -2..2 for kernels up to 9 wide, and every row of 16k floats preceded by a 16-float margin:
//   even'[j] = row[2 (j + center) - pad_left],  odd'[j] = row[2 (j + center) + 1 - pad_left]
// for j in [-center, row floats - 16). Entries are in shift groups (sparse_conv_packing.h) with
// the offset ((ic * kernel_h + ky) * 2 + (kx & 1)) * phase_shift_row_floats, a multiple of 16,
// relative to column 0 of the first row (the buffer start plus the margin): with the buffer
// aligned, every load of the kernel is.
inline int phase_shift_center(const ConvGeometry& g) { return ((g.kernel_w - 1) / 2 + 1) / 2; }
inline std::ptrdiff_t phase_shift_row_floats(const ConvGeometry& g) {
  const int reach = (g.kernel_w - 1) / 2 - phase_shift_center(g);  // largest shift
  return 16 + (g.out_width + reach + 15) / 16 * 16;
}
inline std::ptrdiff_t phase_shift_buffer_floats(const ConvGeometry& g) {
  return static_cast<std::ptrdiff_t>(g.in_channels) * g.kernel_h * 2 * phase_shift_row_floats(g);
}
// sparse_conv_phase_supported's conditions with the shift form's buffer, kernels up to 9 wide.
bool sparse_conv_phase_shift_supported(const ConvProblem& problem);
void sparse_conv_pack_phase_shift(const ConvProblem& problem, void* packed);

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
