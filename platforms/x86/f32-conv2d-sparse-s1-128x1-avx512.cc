// Direct sparse convolution, stride 1, any kernel size / dilation / groups, AVX-512.
//
// One output channel at a time; its output pixels are split into tiles of up to 8 vectors of 16
// floats (128 pixels) held in zmm accumulators. Every nonzero is then one broadcast plus one
// load+FMA per vector, at a constant offset from the tile (see sparse_conv_packing.h).
//
// When input and output share their row stride (the planner gives all tensors of one spatial
// size the same border), the output plane is processed as one flat run of pixels
// [0, (out_height - 1) * row_stride + out_width): the pixels that fall into the border columns
// are computed too (garbage, re-zeroed by the runtime) and every tap stays a constant offset.
// Otherwise each output row is its own run. The last vector of a run uses masked loads and
// stores, so nothing is read or written beyond the run.
#include <immintrin.h>

#include <algorithm>

#include "x86/sparse_conv_packing.h"

namespace gnrt {
namespace kernels {
namespace x86 {
namespace {

constexpr int kVector = 16;

#ifndef GNRT_TILE_VECTORS
#define GNRT_TILE_VECTORS 8
#endif
constexpr int kTileVectors = GNRT_TILE_VECTORS;

// Computes `MR` vectors of output (the last one masked by `tail` when kTail) for one output
// channel. `in` is the input position of the tile's first pixel. Two accumulator sets take
// alternate nonzeros so that short tiles still keep several FMA chains in flight.
template <int MR, bool kTail, bool kRelu>
inline void tile(const SparseEntry* entry, const SparseEntry* end, const float* in, float* out,
                 float bias, __mmask16 tail) {
  __m512 acc[MR], acc2[MR];
  for (int j = 0; j < MR; ++j) {
    acc[j] = _mm512_set1_ps(bias);
    acc2[j] = _mm512_setzero_ps();
  }
  auto load = [&](const float* src, int j) {
    if (kTail && j == MR - 1) return _mm512_maskz_loadu_ps(tail, src + kVector * j);
    return _mm512_loadu_ps(src + kVector * j);
  };
  for (; end - entry >= 2; entry += 2) {
    const float* src0 = in + entry[0].offset;
    const float* src1 = in + entry[1].offset;
    const __m512 w0 = _mm512_set1_ps(entry[0].value);
    const __m512 w1 = _mm512_set1_ps(entry[1].value);
    for (int j = 0; j < MR; ++j) acc[j] = _mm512_fmadd_ps(w0, load(src0, j), acc[j]);
    for (int j = 0; j < MR; ++j) acc2[j] = _mm512_fmadd_ps(w1, load(src1, j), acc2[j]);
  }
  if (entry != end) {
    const float* src0 = in + entry[0].offset;
    const __m512 w0 = _mm512_set1_ps(entry[0].value);
    for (int j = 0; j < MR; ++j) acc[j] = _mm512_fmadd_ps(w0, load(src0, j), acc[j]);
  }
  for (int j = 0; j < MR; ++j) {
    acc[j] = _mm512_add_ps(acc[j], acc2[j]);
    if (kRelu) acc[j] = _mm512_max_ps(acc[j], _mm512_setzero_ps());
  }
  for (int j = 0; j < (kTail ? MR - 1 : MR); ++j) _mm512_storeu_ps(out + kVector * j, acc[j]);
  if (kTail) _mm512_mask_storeu_ps(out + kVector * (MR - 1), tail, acc[MR - 1]);
}

template <int MR, bool kRelu>
inline void tail_dispatch(int vectors, const SparseEntry* entry, const SparseEntry* end,
                          const float* in, float* out, float bias, __mmask16 tail) {
  if constexpr (MR > 1) {
    if (vectors < MR) {
      tail_dispatch<MR - 1, kRelu>(vectors, entry, end, in, out, bias, tail);
      return;
    }
  }
  tile<MR, true, kRelu>(entry, end, in, out, bias, tail);
}

// One run of `length` consecutive output pixels of channels [oc_begin, oc_end). Tiles are the
// outer loop so that the input a tile touches (all input channels, tile width plus the taps'
// reach) stays in L1 while all output channels pass over it.
template <bool kRelu>
void run_pixels(const SparseConvPacked& w, const float* in, float* out,
                std::ptrdiff_t out_channel_stride, std::ptrdiff_t length, int oc_begin,
                int oc_end) {
  const std::ptrdiff_t vectors = (length + kVector - 1) / kVector;
  const std::ptrdiff_t full_tiles = (vectors - 1) / kTileVectors;  // the last tile is masked
  const int last_vectors = static_cast<int>(vectors - full_tiles * kTileVectors);
  const int tail_lanes = static_cast<int>(length - (vectors - 1) * kVector);
  const __mmask16 tail = static_cast<__mmask16>((1u << tail_lanes) - 1u);
  constexpr std::ptrdiff_t kTilePixels = kTileVectors * kVector;
  for (std::ptrdiff_t t = 0; t < full_tiles; ++t) {
    const float* tile_in = in + t * kTilePixels;
    float* tile_out = out + t * kTilePixels;
    for (int oc = oc_begin; oc < oc_end; ++oc) {
      tile<kTileVectors, false, kRelu>(w.entries + w.row_begin[oc], w.entries + w.row_begin[oc + 1],
                                       tile_in, tile_out + oc * out_channel_stride, w.bias[oc], 0);
    }
  }
  const float* tile_in = in + full_tiles * kTilePixels;
  float* tile_out = out + full_tiles * kTilePixels;
  for (int oc = oc_begin; oc < oc_end; ++oc) {
    tail_dispatch<kTileVectors, kRelu>(last_vectors, w.entries + w.row_begin[oc],
                                       w.entries + w.row_begin[oc + 1], tile_in,
                                       tile_out + oc * out_channel_stride, w.bias[oc], tail);
  }
}

template <bool kRelu>
void run_impl(const ConvProblem& p, const void* packed, const float* input, float* output,
              int oc_begin, int oc_end) {
  const ConvGeometry& g = p.geometry;
  const SparseConvPacked w = sparse_conv_regions(g.out_channels, packed);
  if (p.in_row_stride == p.out_row_stride) {
    const std::ptrdiff_t length = (g.out_height - 1) * p.out_row_stride + g.out_width;
    run_pixels<kRelu>(w, input, output, p.out_channel_stride, length, oc_begin, oc_end);
  } else {
    for (int oy = 0; oy < g.out_height; ++oy) {
      run_pixels<kRelu>(w, input + oy * p.in_row_stride, output + oy * p.out_row_stride,
                        p.out_channel_stride, g.out_width, oc_begin, oc_end);
    }
  }
}

}  // namespace

bool f32_conv2d_sparse_s1_128x1__avx512_supports(const ConvProblem& p) {
  return p.geometry.stride_h == 1 && p.geometry.stride_w == 1 && sparse_conv_border_ok(p);
}

void f32_conv2d_sparse_s1_128x1__avx512(const ConvProblem& p, const void* packed,
                                        const float* input, float* output, int oc_begin,
                                        int oc_end) {
  if (p.activation == Activation::kRelu) {
    run_impl<true>(p, packed, input, output, oc_begin, oc_end);
  } else {
    run_impl<false>(p, packed, input, output, oc_begin, oc_end);
  }
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
