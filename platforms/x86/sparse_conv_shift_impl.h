// Direct sparse convolution with shifted accumulators (AVX-512), for stride-1 layers whose row
// and channel strides are multiples of 16 floats (the planner's layout on AVX-512 for GoogLeNet's
// 56x56, 28x28 and 14x14 maps, docs/kernels.md "Row strides").
//
// With those strides every tap's offset is a multiple of 16 plus its column shift s = kx -
// pad_left (-2..2). The taps of shift 0 load aligned vectors, as in sparse_conv_impl.h. A tap of
// shift s != 0 would load every vector one to two floats off a 64-byte boundary, which splits
// each 512-bit load over two cache lines (twice the cost on Zen 4). Instead the kernel sums the
// taps of each shift s into their own accumulators M[0..MR] over the aligned vectors around the
// tile (one more vector than the tile: the one before it for s < 0, after it for s > 0), and
// adds them to the tile once per output channel with one `valignd` per vector: out vector j gets concat(M[j], M[j+1]) shifted by s lanes. Cost per
// nonzero of shift s: MR + 1 aligned loads and FMAs instead of MR line-splitting loads and MR
// FMAs; per output channel and shift present: MR valignd and adds.
//
// Packed form (sparse_conv_packing.h, "shift groups"): the regions of sparse_conv_pack, but
// row_begin has kShiftGroups = 5 ranges per output channel (shifts -2, -1, 0, 1, 2) and each
// entry's offset is the tap's offset minus its shift (a multiple of 16).
//
// Loads are whole vectors, also past the end of the run (the layout contract of kernels.h allows
// reads up to kMaxOverreadFloats past the last padded input plane; those lanes reach only
// discarded outputs), the vector before the first tile of a plane up to 16 floats before the
// first padded input plane (kMaxUnderreadFloats); output lanes past the run are never stored.
//
// The stride-2 form (f32_conv2d_sparse_s2pg_*) runs the same tiles over the shifted phase buffer
// of sparse_conv_phase.h.
#pragma once

#include <immintrin.h>

#include <cstddef>
#include <cstdint>

#include "x86/sparse_conv_impl.h"
#include "x86/sparse_conv_packing.h"
#include "x86/sparse_conv_phase.h"
#include "x86/vec_avx512.h"

namespace gnrt {
namespace kernels {
namespace x86 {
namespace {  // NOLINT(build/namespaces): internal linkage, see sparse_conv_impl.h

inline __mmask16 first_lanes(int n) {
  return static_cast<__mmask16>(n >= 16 ? 0xFFFFu : n <= 0 ? 0u : (1u << n) - 1u);
}

// Sums the taps of shift S (entries [e, end)) over the aligned vectors around the tile and adds
// them, shifted, to acc. Every load is a whole vector (a masked load costs several plain ones on
// this machine: the stem's tiles, all of them tail tiles, ran 40% slower with masked tails): the
// vector after the tile (S > 0) and the tile's last vector read past the run into the border or
// the overread slack, the vector before the first tile of a plane (S < 0) up to 16 - pad floats
// before the padded plane (kMaxUnderreadFloats); those lanes reach only discarded outputs.
template <int MR, int S>
__attribute__((always_inline)) inline void shift_group(const SparseEntry* e, const SparseEntry* end,
                                                       const float* in, __m512 (&acc)[MR]) {
  static_assert(S != 0 && S >= -2 && S <= 2, "shifts -2..2");
  if (e == end) return;
  // M[k] sums aligned vector k - 1 (S < 0) or k (S > 0) of the tile, k = 0..MR.
  __m512 m[MR + 1];
  for (int k = 0; k <= MR; ++k) m[k] = _mm512_setzero_ps();
  for (; e != end; ++e) {
    const float* src = in + e->offset;
    const __m512 w = _mm512_set1_ps(e->value);
    if (S < 0) {
      m[0] = _mm512_fmadd_ps(w, _mm512_loadu_ps(src - 16), m[0]);
      for (int k = 1; k <= MR; ++k) {
        m[k] = _mm512_fmadd_ps(w, _mm512_loadu_ps(src + 16 * (k - 1)), m[k]);
      }
    } else {
      for (int k = 0; k <= MR; ++k) m[k] = _mm512_fmadd_ps(w, _mm512_loadu_ps(src + 16 * k), m[k]);
    }
  }
  constexpr int kShift = S < 0 ? 16 + S : S;
  for (int j = 0; j < MR; ++j) {
    const __m512i hi = _mm512_castps_si512(m[j + 1]);
    const __m512i lo = _mm512_castps_si512(m[j]);
    acc[j] = _mm512_add_ps(acc[j], _mm512_castsi512_ps(_mm512_alignr_epi32(hi, lo, kShift)));
  }
}

// One tile of MR vectors of one output channel and one input-channel block; `groups` = the
// block's 6 range bounds. The first block starts from the bias, later ones from the partial
// sums in the output; the last one applies the activation and the lane masks, earlier ones
// store partial sums. When kTail, the last vector loads and stores only its first `lanes` lanes
// in the output (its input loads are whole, see above). floor: the activation as in
// sparse_tile.
template <int MR, bool kTail>
__attribute__((always_inline)) inline void shift_tile(const SparseEntry* entries,
                                                      const std::uint32_t* groups, const float* in,
                                                      float* out, float bias, int lanes,
                                                      const __mmask16* keep, __m512 floor,
                                                      bool first_block, bool last_block) {
  __m512 acc[MR];
  if (first_block) {
    for (int j = 0; j < MR; ++j) acc[j] = _mm512_set1_ps(bias);
  } else {
    for (int j = 0; j < MR; ++j) {
      acc[j] = kTail && j == MR - 1 ? _mm512_maskz_loadu_ps(first_lanes(lanes), out + 16 * j)
                                    : _mm512_loadu_ps(out + 16 * j);
    }
  }
  for (const SparseEntry* e = entries + groups[2]; e != entries + groups[3]; ++e) {
    const float* src = in + e->offset;
    const __m512 w = _mm512_set1_ps(e->value);
    for (int j = 0; j < MR; ++j) acc[j] = _mm512_fmadd_ps(w, _mm512_loadu_ps(src + 16 * j), acc[j]);
  }
  shift_group<MR, -1>(entries + groups[1], entries + groups[2], in, acc);
  shift_group<MR, 1>(entries + groups[3], entries + groups[4], in, acc);
  shift_group<MR, -2>(entries + groups[0], entries + groups[1], in, acc);
  shift_group<MR, 2>(entries + groups[4], entries + groups[5], in, acc);
  for (int j = 0; j < MR; ++j) {
    if (last_block) acc[j] = _mm512_maskz_mov_ps(keep[j], _mm512_max_ps(floor, acc[j]));
    if (kTail && j == MR - 1) {
      _mm512_mask_storeu_ps(out + 16 * j, first_lanes(lanes), acc[j]);
    } else {
      _mm512_storeu_ps(out + 16 * j, acc[j]);
    }
  }
}

template <bool kTail, int kMaxTile, int N = 1>
inline void shift_tile_dispatch(int vectors, const SparseEntry* entries,
                                const std::uint32_t* groups, const float* in, float* out,
                                float bias, int lanes, const __mmask16* keep, __m512 floor,
                                bool first_block, bool last_block) {
  if constexpr (N >= kMaxTile) {
    shift_tile<N, kTail>(entries, groups, in, out, bias, lanes, keep, floor, first_block,
                         last_block);
  } else {
    if (vectors == N) {
      shift_tile<N, kTail>(entries, groups, in, out, bias, lanes, keep, floor, first_block,
                           last_block);
    } else {
      shift_tile_dispatch<kTail, kMaxTile, N + 1>(vectors, entries, groups, in, out, bias, lanes,
                                                  keep, floor, first_block, last_block);
    }
  }
}

// A run of `length` output pixels of channels [oc_begin, oc_end), in balanced tiles of at most
// kMaxTile vectors, tiles outer, then input-channel blocks (sparse_conv_packing.h
// shift_channel_blocks), then output channels. `in` is the input position of the run's first
// output pixel; `place` says which lanes are border (stored as zeros, x86/row_gaps.h).
template <int kMaxTile>
void shift_run(const SparseConvPacked& w, int blocks, const float* in, float* out,
               std::ptrdiff_t out_channel_stride, std::ptrdiff_t length, int oc_begin, int oc_end,
               const RunPlacement& place, bool relu) {
  const __m512 floor = VecAvx512::activation_floor(relu);
  const std::ptrdiff_t vectors = (length + 15) / 16;
  const std::ptrdiff_t tiles = (vectors + kMaxTile - 1) / kMaxTile;
  const int lanes = static_cast<int>(length - (vectors - 1) * 16);
  std::ptrdiff_t first = 0;
  for (std::ptrdiff_t t = 0; t < tiles; ++t) {
    const int count = static_cast<int>(vectors / tiles + (t < vectors % tiles ? 1 : 0));
    const float* tile_in = in + first * 16;
    float* tile_out = out + first * 16;
    __mmask16 keep[kMaxTile];
    for (int j = 0; j < count; ++j) {
      keep[j] = static_cast<__mmask16>(interior_lane_bits(place, (first + j) * 16, 16));
    }
    for (int b = 0; b < blocks; ++b) {
      const bool first_block = b == 0, last_block = b == blocks - 1;
      for (int oc = oc_begin; oc < oc_end; ++oc) {
        const std::uint32_t* groups =
            w.row_begin + (static_cast<std::ptrdiff_t>(oc) * blocks + b) * kShiftGroups;
        float* channel_out = tile_out + oc * out_channel_stride;
        if (t == tiles - 1 && lanes < 16) {
          shift_tile_dispatch<true, kMaxTile>(count, w.entries, groups, tile_in, channel_out,
                                              w.bias[oc], lanes, keep, floor, first_block,
                                              last_block);
        } else {
          shift_tile_dispatch<false, kMaxTile>(count, w.entries, groups, tile_in, channel_out,
                                               w.bias[oc], 16, keep, floor, first_block,
                                               last_block);
        }
      }
    }
    first += count;
  }
}

// Stride 1: the flat run [0, (out_height - 1) * row_stride + out_width) of every output channel.
template <int kMaxTile>
void sparse_conv_shift(const ConvProblem& p, const void* packed, const float* input, float* output,
                       int oc_begin, int oc_end) {
  const ConvGeometry& g = p.geometry;
  const int blocks = shift_channel_blocks(p);
  const SparseConvPacked w = sparse_conv_shift_regions(g.out_channels, packed, blocks);
  bool tail_gap = false;
  const std::ptrdiff_t length = flat_run_length(p, 0, 16, &tail_gap);
  const RunPlacement place{0, p.out_row_stride, g.out_width};
  shift_run<kMaxTile>(w, blocks, input, output, p.out_channel_stride, length, oc_begin, oc_end,
                      place, p.activation == Activation::kRelu);
  if (tail_gap) zero_output_row_gap(p, output, g.out_height - 1, oc_begin, oc_end);
}

// Stride 2 through the shifted phase buffer (sparse_conv_phase.h, "shift form"): for each output
// row, the input rows it reads are split into even and odd columns on the stack (aligned rows,
// `center` columns ahead, a 16-float margin in front for the loads of negative shifts), then the
// stride-1 shift tiles run over the buffer.
template <int kMaxTile>
void sparse_conv_phase_shift(const ConvProblem& p, const void* packed, const float* input,
                             float* output, int oc_begin, int oc_end) {
  const ConvGeometry& g = p.geometry;
  const int blocks = shift_channel_blocks(p);
  const SparseConvPacked w = sparse_conv_shift_regions(g.out_channels, packed, blocks);
  // 16 floats more: the whole-vector loads after the last row's data (see shift_group).
  alignas(64) float buffer[kMaxPhaseBufferFloats + 16];
  const std::ptrdiff_t row_floats = phase_shift_row_floats(g);
  const int center = phase_shift_center(g);
  for (int oy = 0; oy < g.out_height; ++oy) {
    // Column 0 of the first phase row follows a 16-float margin.
    fill_phase_rows<VecAvx512>(p, input, oy, center, buffer + 16, row_floats, row_floats - 16);
    shift_run<kMaxTile>(w, blocks, buffer + 16, output + oy * p.out_row_stride,
                        p.out_channel_stride, g.out_width, oc_begin, oc_end, RunPlacement{},
                        p.activation == Activation::kRelu);
    zero_output_row_gap(p, output, oy, oc_begin, oc_end);
  }
}

}  // namespace
}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
