// Direct sparse convolution loop nest shared by the AVX2 and AVX-512 kernels, parameterized by a
// vector traits class (see the *-avx2.cc / *-avx512.cc files). Only those files include this
// header, each compiled with its own ISA flags; everything here has internal linkage so that the
// linker can never merge an AVX-512 instantiation into an AVX2 caller.
//
// Scheme: one output channel at a time, a tile of up to kMaxTileVectors vectors of output pixels
// in registers; every nonzero is one broadcast plus, per vector, one load (stride 1) or two loads
// and a deinterleave (stride 2) and one FMA, at the constant offset packed for it
// (sparse_conv_packing.h). Tiles are the outer loop and output channels the inner one, so the
// input a tile touches stays in cache while all output channels pass over it.
//
// Runs of pixels: for stride 1 with equal input/output row strides (what the planner produces:
// all tensors of one spatial size share their border), the whole output plane is one flat run
// [0, (out_height - 1) * row_stride + out_width): pixels in the border columns are computed as
// garbage (the runtime re-zeroes output borders) and every tap stays a constant offset. Otherwise
// every output row is a run. The last vector of a run masks its loads and stores, so nothing is
// read or written beyond the run.
#pragma once

#include <cstddef>

#include "x86/sparse_conv_packing.h"

namespace gnrt {
namespace kernels {
namespace x86 {
namespace {  // NOLINT(build/namespaces): internal linkage on purpose, see above

template <typename V, int MR, int kStride, bool kTail, bool kRelu>
inline void sparse_tile(const SparseEntry* entry, const SparseEntry* end, const float* in,
                        float* out, float bias, const typename V::Tail& tail) {
  using Reg = typename V::Reg;
  constexpr int L = V::kLanes;
  Reg acc[MR];
  for (int j = 0; j < MR; ++j) acc[j] = V::set1(bias);
  for (; entry != end; ++entry) {
    const float* src = in + entry->offset;
    const Reg w = V::set1(entry->value);
    for (int j = 0; j < MR; ++j) {
      const bool masked = kTail && j == MR - 1;
      Reg x;
      if (kStride == 1) {
        x = masked ? V::load_tail(src + L * j, tail) : V::load(src + L * j);
      } else {
        x = masked ? V::load_even_tail(src + 2 * L * j, tail) : V::load_even(src + 2 * L * j);
      }
      acc[j] = V::fmadd(w, x, acc[j]);
    }
  }
  for (int j = 0; j < MR; ++j) {
    if (kRelu) acc[j] = V::max(acc[j], V::zero());
    if (kTail && j == MR - 1) {
      V::store_tail(out + L * j, acc[j], tail);
    } else {
      V::store(out + L * j, acc[j]);
    }
  }
}

template <typename V, int kStride, bool kTail, bool kRelu>
inline void sparse_tile_dispatch(int vectors, const SparseEntry* entry, const SparseEntry* end,
                                 const float* in, float* out, float bias,
                                 const typename V::Tail& tail) {
  switch (vectors) {
#define GNRT_CASE(n) \
  case n: sparse_tile<V, n, kStride, kTail, kRelu>(entry, end, in, out, bias, tail); break;
    GNRT_CASE(1)
    GNRT_CASE(2)
    GNRT_CASE(3)
    GNRT_CASE(4)
    GNRT_CASE(5)
    GNRT_CASE(6)
    GNRT_CASE(7)
    default:
      sparse_tile<V, 8, kStride, kTail, kRelu>(entry, end, in, out, bias, tail);
      break;
#undef GNRT_CASE
  }
}

constexpr int kMaxTileVectors = 8;

// One run of `length` output pixels of channels [oc_begin, oc_end), split into balanced tiles of
// at most kMaxTileVectors vectors. `in` is the input position of the run's first output pixel.
template <typename V, int kStride, bool kRelu>
void sparse_run(const SparseConvPacked& w, const float* in, float* out,
                std::ptrdiff_t out_channel_stride, std::ptrdiff_t length, int oc_begin,
                int oc_end) {
  constexpr int L = V::kLanes;
  const std::ptrdiff_t vectors = (length + L - 1) / L;
  const std::ptrdiff_t tiles = (vectors + kMaxTileVectors - 1) / kMaxTileVectors;
  const typename V::Tail tail = V::make_tail(static_cast<int>(length - (vectors - 1) * L));
  std::ptrdiff_t first = 0;  // first vector of the tile
  for (std::ptrdiff_t t = 0; t < tiles; ++t) {
    const int count = static_cast<int>(vectors / tiles + (t < vectors % tiles ? 1 : 0));
    const float* tile_in = in + first * L * kStride;
    float* tile_out = out + first * L;
    for (int oc = oc_begin; oc < oc_end; ++oc) {
      const SparseEntry* begin = w.entries + w.row_begin[oc];
      const SparseEntry* end = w.entries + w.row_begin[oc + 1];
      float* channel_out = tile_out + oc * out_channel_stride;
      if (t == tiles - 1) {
        sparse_tile_dispatch<V, kStride, true, kRelu>(count, begin, end, tile_in, channel_out,
                                                      w.bias[oc], tail);
      } else {
        sparse_tile_dispatch<V, kStride, false, kRelu>(count, begin, end, tile_in, channel_out,
                                                       w.bias[oc], tail);
      }
    }
    first += count;
  }
}

template <typename V, int kStride, bool kRelu>
void sparse_conv(const ConvProblem& p, const void* packed, const float* input, float* output,
                 int oc_begin, int oc_end) {
  const ConvGeometry& g = p.geometry;
  const SparseConvPacked w = sparse_conv_regions(g.out_channels, packed);
  if (kStride == 1 && p.in_row_stride == p.out_row_stride) {
    const std::ptrdiff_t length = (g.out_height - 1) * p.out_row_stride + g.out_width;
    sparse_run<V, kStride, kRelu>(w, input, output, p.out_channel_stride, length, oc_begin,
                                  oc_end);
    return;
  }
  for (int oy = 0; oy < g.out_height; ++oy) {
    sparse_run<V, kStride, kRelu>(w, input + oy * g.stride_h * p.in_row_stride,
                                  output + oy * p.out_row_stride, p.out_channel_stride,
                                  g.out_width, oc_begin, oc_end);
  }
}

template <typename V, int kStride>
void sparse_conv_entry(const ConvProblem& p, const void* packed, const float* input, float* output,
                       int oc_begin, int oc_end) {
  if (p.activation == Activation::kRelu) {
    sparse_conv<V, kStride, true>(p, packed, input, output, oc_begin, oc_end);
  } else {
    sparse_conv<V, kStride, false>(p, packed, input, output, oc_begin, oc_end);
  }
}

}  // namespace
}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
