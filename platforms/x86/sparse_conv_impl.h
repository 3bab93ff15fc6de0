// Direct sparse convolution loop nest shared by the AVX2 and AVX-512 kernels, parameterized by a
// vector traits class (see the *-avx2.cc / *-avx512.cc files). Only those files include this
// header, each compiled with its own ISA flags; everything here has internal linkage so that the
// linker can never merge an AVX-512 instantiation into an AVX2 caller.
//
// Scheme: one output channel at a time, a tile of up to kMaxTile vectors of output pixels
// in registers; every nonzero is one broadcast plus, per vector, one load (stride 1) or two loads
// and a deinterleave (stride 2) and one FMA, at the constant offset packed for it
// (sparse_conv_packing.h). Tiles are the outer loop and output channels the inner one, so the
// input a tile touches stays in cache while all output channels pass over it.
//
// Runs of pixels: for stride 1 with equal input/output row strides (what the planner produces:
// all tensors of one spatial size share their border), the whole output plane is one flat run
// [0, (out_height - 1) * row_stride + out_width): pixels in the border columns are computed as
// garbage, and stored as zeros (a lane mask per vector, computed once per tile: these kernels
// zero the row gaps, kernels.h), and every tap stays a constant offset. Otherwise every output
// row is a run, and the row's gap is zeroed after it. The last vector of a run masks its stores, so nothing is written
// beyond the run, but loads whole vectors: the lanes past the run read the border, the next plane
// or the overread slack that the layout contract of kernels.h allows (kMaxOverreadFloats) and
// reach only discarded outputs. (A masked 512-bit load costs several plain ones on Zen 4; with
// 14x14 maps half the tiles are tail tiles.)
#pragma once

#include <cstddef>
#include <cstdint>

#include "x86/row_gaps.h"
#include "x86/sparse_conv_packing.h"
#include "x86/sparse_conv_phase.h"

namespace gnrt {
namespace kernels {
namespace x86 {
namespace {  // NOLINT(build/namespaces): internal linkage on purpose, see above

// floor: max(floor, x) is the activation (0: ReLU, -inf: none; a runtime value rather than a
// template parameter halves the instantiations at one max per stored vector).
template <typename V, int MR, int kStride, bool kTail>
inline void sparse_tile(const SparseEntry* entry, const SparseEntry* end, const float* in,
                        float* out, float bias, const typename V::Tail& tail,
                        const typename V::Keep* keep, typename V::Reg floor) {
  using Reg = typename V::Reg;
  constexpr int L = V::kLanes;
  Reg acc[MR];
  for (int j = 0; j < MR; ++j) acc[j] = V::set1(bias);
  for (; entry != end; ++entry) {
    const float* src = in + entry->offset;
    const Reg w = V::set1(entry->value);
    for (int j = 0; j < MR; ++j) {
      // Whole vectors also in the tail (see the header comment).
      const Reg x = kStride == 1 ? V::load(src + L * j) : V::load_even(src + 2 * L * j);
      acc[j] = V::fmadd(w, x, acc[j]);
    }
  }
  for (int j = 0; j < MR; ++j) {
    acc[j] = V::keep(V::max(floor, acc[j]), keep[j]);
    if (kTail && j == MR - 1) {
      V::store_tail(out + L * j, acc[j], tail);
    } else {
      V::store(out + L * j, acc[j]);
    }
  }
}

// Calls the tile of `vectors` (1..kMaxTile) vectors: one instantiation per count, so that the
// accumulators stay in registers.
template <typename V, int kStride, bool kTail, int kMaxTile, int N = 1>
inline void sparse_tile_dispatch(int vectors, const SparseEntry* entry, const SparseEntry* end,
                                 const float* in, float* out, float bias,
                                 const typename V::Tail& tail, const typename V::Keep* keep,
                                 typename V::Reg floor) {
  if constexpr (N >= kMaxTile) {
    sparse_tile<V, N, kStride, kTail>(entry, end, in, out, bias, tail, keep, floor);
  } else {
    if (vectors == N) {
      sparse_tile<V, N, kStride, kTail>(entry, end, in, out, bias, tail, keep, floor);
    } else {
      sparse_tile_dispatch<V, kStride, kTail, kMaxTile, N + 1>(vectors, entry, end, in, out, bias,
                                                               tail, keep, floor);
    }
  }
}

// One run of `length` output pixels of channels [oc_begin, oc_end), split into balanced tiles of
// at most kMaxTile vectors. `in` is the input position of the run's first output pixel; `place`
// says which of its lanes are border (stored as zeros).
template <typename V, int kStride, int kMaxTile>
void sparse_run(const SparseConvPacked& w, const float* in, float* out,
                std::ptrdiff_t out_channel_stride, std::ptrdiff_t length, int oc_begin, int oc_end,
                const RunPlacement& place, bool relu) {
  const typename V::Reg floor = V::activation_floor(relu);
  constexpr int L = V::kLanes;
  const std::ptrdiff_t vectors = (length + L - 1) / L;
  const std::ptrdiff_t tiles = (vectors + kMaxTile - 1) / kMaxTile;
  const typename V::Tail tail = V::make_tail(static_cast<int>(length - (vectors - 1) * L));
  std::ptrdiff_t first = 0;  // first vector of the tile
  for (std::ptrdiff_t t = 0; t < tiles; ++t) {
    const int count = static_cast<int>(vectors / tiles + (t < vectors % tiles ? 1 : 0));
    const float* tile_in = in + first * L * kStride;
    float* tile_out = out + first * L;
    typename V::Keep keep[kMaxTile];
    for (int j = 0; j < count; ++j) {
      keep[j] = V::keep_bits(interior_lane_bits(place, (first + j) * L, L));
    }
    for (int oc = oc_begin; oc < oc_end; ++oc) {
      const SparseEntry* begin = w.entries + w.row_begin[oc];
      const SparseEntry* end = w.entries + w.row_begin[oc + 1];
      float* channel_out = tile_out + oc * out_channel_stride;
      if (t == tiles - 1) {
        sparse_tile_dispatch<V, kStride, true, kMaxTile>(count, begin, end, tile_in, channel_out,
                                                         w.bias[oc], tail, keep, floor);
      } else {
        sparse_tile_dispatch<V, kStride, false, kMaxTile>(count, begin, end, tile_in, channel_out,
                                                          w.bias[oc], tail, keep, floor);
      }
    }
    first += count;
  }
}

// Floats by which the flat run may start early so that its vectors are aligned to the vector
// width: the output planes' interiors rarely start aligned (the border shifts them), but the
// padded planes do (channel strides are multiples of 16 floats, docs/design.md), so starting up
// to L - 1 floats early - inside the top border, computed as garbage the border rules allow -
// makes every output store and every input load of a tap whose offset is a multiple of L (all
// 1x1 taps) aligned: a 64-byte load at an unaligned address splits across two cache lines.
// 0 when the strides or the base addresses do not allow it, or when the early start would read
// before the input's padded plane (its first tap reaches pad_top rows and pad_left columns back)
// or write before the output's.
template <typename V>
std::ptrdiff_t aligned_lead(const ConvProblem& p, const float* input, const float* output) {
  constexpr std::uintptr_t kBytes = V::kLanes * sizeof(float);
  const auto in_addr = reinterpret_cast<std::uintptr_t>(input);
  const auto out_addr = reinterpret_cast<std::uintptr_t>(output);
  if (in_addr % kBytes != out_addr % kBytes || in_addr % sizeof(float) != 0) return 0;
  if (p.in_channel_stride % V::kLanes != 0 || p.out_channel_stride % V::kLanes != 0) return 0;
  const auto lead = static_cast<std::ptrdiff_t>((out_addr % kBytes) / sizeof(float));
  const ConvGeometry& g = p.geometry;
  const std::ptrdiff_t in_room =
      static_cast<std::ptrdiff_t>(p.in_pad - g.pad_top) * p.in_row_stride + (p.in_pad - g.pad_left);
  const std::ptrdiff_t out_room =
      static_cast<std::ptrdiff_t>(p.out_pad) * p.out_row_stride + p.out_pad;
  return lead <= in_room && lead <= out_room ? lead : 0;
}

template <typename V, int kStride, int kMaxTile>
void sparse_conv(const ConvProblem& p, const void* packed, const float* input, float* output,
                 int oc_begin, int oc_end) {
  const ConvGeometry& g = p.geometry;
  const bool relu = p.activation == Activation::kRelu;
  const SparseConvPacked w = sparse_conv_regions(g.out_channels, packed);
  if (kStride == 1 && p.in_row_stride == p.out_row_stride) {
    const std::ptrdiff_t lead = aligned_lead<V>(p, input, output);
    bool tail_gap = false;
    const std::ptrdiff_t length = flat_run_length(p, lead, V::kLanes, &tail_gap);
    const RunPlacement place{-lead, p.out_row_stride, g.out_width};
    sparse_run<V, kStride, kMaxTile>(w, input - lead, output - lead, p.out_channel_stride,
                                     length + lead, oc_begin, oc_end, place, relu);
    if (tail_gap) zero_output_row_gap(p, output, g.out_height - 1, oc_begin, oc_end);
    return;
  }
  for (int oy = 0; oy < g.out_height; ++oy) {
    sparse_run<V, kStride, kMaxTile>(w, input + oy * g.stride_h * p.in_row_stride,
                                     output + oy * p.out_row_stride, p.out_channel_stride,
                                     g.out_width, oc_begin, oc_end, RunPlacement{}, relu);
    zero_output_row_gap(p, output, oy, oc_begin, oc_end);
  }
}

// Splits the input rows that output row `oy` of a stride-2 convolution reads into their even and
// odd columns (sparse_conv_phase.h): phase row 2 * (ic * kernel_h + ky) + phase, at `rows` plus
// that many `row_floats`, gets the columns j in [-center, fill) of
//   row[2 * (j + center) + phase - pad_left]
// (center 0 for the plain form; the shift form's rows start `center` columns ahead, the columns
// before 0 go to the margin in front of each row). Whole vectors: the last one reads past the row
// into the border or the overread slack (kMaxOverreadFloats) and fills lanes no tap reads.
template <typename V>
inline void fill_phase_rows(const ConvProblem& p, const float* input, int oy, int center,
                            float* rows, std::ptrdiff_t row_floats, std::ptrdiff_t fill) {
  constexpr int L = V::kLanes;
  const ConvGeometry& g = p.geometry;
  float* dst = rows;
  for (int ic = 0; ic < g.in_channels; ++ic) {
    const float* plane = input + ic * p.in_channel_stride;
    for (int ky = 0; ky < g.kernel_h; ++ky) {
      const float* src =
          plane + (2 * oy - g.pad_top + ky) * p.in_row_stride - g.pad_left + 2 * center;
      for (int phase = 0; phase < 2; ++phase, dst += row_floats) {
        for (std::ptrdiff_t j = 0; j < fill; j += L) {
          V::store(dst + j, V::load_even(src + 2 * j + phase));
        }
        for (int j = -center; j < 0; ++j) dst[j] = src[2 * j + phase];
      }
    }
  }
}

// Stride 2 through the per-row phase buffer (sparse_conv_phase.h): for each output row, split
// the input rows it reads into even/odd columns on the stack, then run the stride-1 tiles over
// the buffer.
template <typename V, int kMaxTile>
void sparse_conv_phase(const ConvProblem& p, const void* packed, const float* input, float* output,
                       int oc_begin, int oc_end) {
  const ConvGeometry& g = p.geometry;
  const bool relu = p.activation == Activation::kRelu;
  const SparseConvPacked w = sparse_conv_regions(g.out_channels, packed);
  // 32 floats more: the whole-vector loads of the tail reach past the last row's data.
  alignas(64) float buffer[kMaxPhaseBufferFloats + 32];
  for (int oy = 0; oy < g.out_height; ++oy) {
    fill_phase_rows<V>(p, input, oy, 0, buffer, phase_row_floats(g), phase_width(g));
    sparse_run<V, 1, kMaxTile>(w, buffer, output + oy * p.out_row_stride, p.out_channel_stride,
                               g.out_width, oc_begin, oc_end, RunPlacement{}, relu);
    zero_output_row_gap(p, output, oy, oc_begin, oc_end);
  }
}

template <typename V, int kMaxTile>
void sparse_conv_phase_entry(const ConvProblem& p, const void* packed, const float* input,
                             float* output, int oc_begin, int oc_end) {
  sparse_conv_phase<V, kMaxTile>(p, packed, input, output, oc_begin, oc_end);
}

template <typename V, int kStride, int kMaxTile = 8>
void sparse_conv_entry(const ConvProblem& p, const void* packed, const float* input, float* output,
                       int oc_begin, int oc_end) {
  sparse_conv<V, kStride, kMaxTile>(p, packed, input, output, oc_begin, oc_end);
}

}  // namespace
}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
