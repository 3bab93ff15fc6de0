// Dense direct convolution loop nest shared by the AVX2 and AVX-512 dense kernels (traits as in
// sparse_conv_impl.h, internal linkage for the same reason). Output pixels are covered by the
// same runs as the sparse kernels (flat plane for stride 1 with equal row strides, else rows);
// a tile is MR vectors of pixels x NR output channels of accumulators; each tap loads MR input
// vectors once and multiplies them into the NR channels.
#pragma once

#include <algorithm>
#include <cstddef>

#include "x86/dense_conv_packing.h"

namespace gnrt {
namespace kernels {
namespace x86 {
namespace {  // NOLINT(build/namespaces)

template <typename V, int MR, int NR, bool kTail, bool kRelu>
inline void dense_tile(const DenseConvPacked& w, int block, const float* in, float* out,
                       std::ptrdiff_t out_channel_stride, int store_begin, int store_end,
                       const typename V::Tail& tail) {
  using Reg = typename V::Reg;
  constexpr int L = V::kLanes;
  Reg acc[NR][MR];
  const float* bias = w.bias + block * NR;
  for (int r = 0; r < NR; ++r)
    for (int j = 0; j < MR; ++j) acc[r][j] = V::set1(bias[r]);
  const float* wp = w.weights + static_cast<std::ptrdiff_t>(block) * w.taps * NR;
  for (int t = 0; t < w.taps; ++t, wp += NR) {
    const float* src = in + w.offsets[t];
    Reg x[MR];
    for (int j = 0; j < MR; ++j) {
      x[j] = V::load(src + L * j);  // whole vectors also in the tail, see sparse_conv_impl.h
    }
    for (int r = 0; r < NR; ++r) {
      const Reg wr = V::set1(wp[r]);
      for (int j = 0; j < MR; ++j) acc[r][j] = V::fmadd(wr, x[j], acc[r][j]);
    }
  }
  for (int r = store_begin; r < store_end; ++r) {
    float* o = out + (block * NR + r) * out_channel_stride;
    for (int j = 0; j < MR; ++j) {
      Reg v = acc[r][j];
      if (kRelu) v = V::max(v, V::zero());
      if (kTail && j == MR - 1) {
        V::store_tail(o + L * j, v, tail);
      } else {
        V::store(o + L * j, v);
      }
    }
  }
}

// The tile of `count` (1..MR) vectors: one instantiation per count.
template <typename V, int NR, bool kTail, bool kRelu, int N>
inline void dense_tile_dispatch(int count, const DenseConvPacked& w, int block, const float* in,
                                float* out, std::ptrdiff_t out_channel_stride, int store_begin,
                                int store_end, const typename V::Tail& tail) {
  if constexpr (N > 1) {
    if (count < N) {
      dense_tile_dispatch<V, NR, kTail, kRelu, N - 1>(count, w, block, in, out, out_channel_stride,
                                                      store_begin, store_end, tail);
      return;
    }
  }
  dense_tile<V, N, NR, kTail, kRelu>(w, block, in, out, out_channel_stride, store_begin, store_end,
                                     tail);
}

template <typename V, int MR, int NR, bool kRelu>
void dense_run(const DenseConvPacked& w, const float* in, float* out,
               std::ptrdiff_t out_channel_stride, std::ptrdiff_t length, int oc_begin, int oc_end) {
  constexpr int L = V::kLanes;
  const std::ptrdiff_t vectors = (length + L - 1) / L;
  const typename V::Tail tail = V::make_tail(static_cast<int>(length - (vectors - 1) * L));
  const int block_begin = oc_begin / NR;
  const int block_end = (oc_end + NR - 1) / NR;
  for (std::ptrdiff_t first = 0; first < vectors; first += MR) {
    const int count = static_cast<int>(std::min<std::ptrdiff_t>(MR, vectors - first));
    const bool last = first + count == vectors;
    for (int b = block_begin; b < block_end; ++b) {
      const int store_begin = std::max(oc_begin - b * NR, 0);
      const int store_end = std::min(oc_end - b * NR, NR);
      const float* tin = in + first * L;
      float* tout = out + first * L;
      if (!last) {
        dense_tile<V, MR, NR, false, kRelu>(w, b, tin, tout, out_channel_stride, store_begin,
                                            store_end, tail);
      } else {
        dense_tile_dispatch<V, NR, true, kRelu, MR>(count, w, b, tin, tout, out_channel_stride,
                                                    store_begin, store_end, tail);
      }
    }
  }
}

template <typename V, int MR, int NR>
void dense_conv_entry(const ConvProblem& p, const void* packed, const float* input, float* output,
                      int oc_begin, int oc_end) {
  const ConvGeometry& g = p.geometry;
  const DenseConvPacked w = dense_conv_regions(g, NR, packed);
  const bool relu = p.activation == Activation::kRelu;
  auto run = [&](const float* in, float* out, std::ptrdiff_t length) {
    if (relu) {
      dense_run<V, MR, NR, true>(w, in, out, p.out_channel_stride, length, oc_begin, oc_end);
    } else {
      dense_run<V, MR, NR, false>(w, in, out, p.out_channel_stride, length, oc_begin, oc_end);
    }
  };
  if (p.in_row_stride == p.out_row_stride) {
    run(input, output, (g.out_height - 1) * p.out_row_stride + g.out_width);
  } else {
    for (int oy = 0; oy < g.out_height; ++oy) {
      run(input + oy * p.in_row_stride, output + oy * p.out_row_stride, g.out_width);
    }
  }
}

}  // namespace
}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
