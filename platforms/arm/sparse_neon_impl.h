// Bodies of the NEON sparse kernels, shared by the kernel files of platforms/arm/. Each kernel
// file (f32-*-neon*.cc) instantiates them with its own multiply-add policy and is compiled with
// its own ISA flags; everything here has internal linkage so that copies compiled with different
// flags can never be merged by the linker. Include only from kernel files.
//
// A multiply-add policy is a struct with
//   static float32x4_t mac(float32x4_t acc, float32x4_t x, float32x4_t w);  // acc + x * w
//   template <int kLane>  // acc + x * w4[kLane]
//   static float32x4_t mac_lane(float32x4_t acc, float32x4_t x, float32x4_t w4);
//   static float mac_scalar(float acc, float x, float w);
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "arm/neon_mac.h"
#include "arm/sparse_pack.h"

// Nonzeros per iteration of the convolution inner loop: 4 (weights loaded four at a time, used
// by multiply-add-by-lane) or 1 (one broadcast weight per nonzero, the structure of XNNPACK's
// f32-spmm loops; kept selectable so that docs/arm.md can compare both from the assembly).
#ifndef GNRT_ARM_NONZERO_UNROLL
#define GNRT_ARM_NONZERO_UNROLL 4
#endif
static_assert(GNRT_ARM_NONZERO_UNROLL == 1 || GNRT_ARM_NONZERO_UNROLL == 4,
              "GNRT_ARM_NONZERO_UNROLL must be 1 or 4");

namespace gnrt {
namespace kernels {
namespace arm {
namespace {

// Inputs of a tile of 4 * kVectors consecutive output positions starting at x, into xs.
//  - stride 1: contiguous.
//  - stride 2: the even floats. Pairs of vectors come from one LD4 (16 floats de-interleaved
//    into four registers): registers 0 and 2 hold the inputs of the block's even and odd output
//    positions, so the accumulators of such a pair hold positions {0,2,4,6} and {1,3,5,7} and
//    store_tile re-interleaves them with one ST2. A single vector uses LD2. Either load reaches
//    one float past the last tap, which the layout contract allows.
template <int kVectors, int kStride>
inline void load_tile(const float* x, float32x4_t (&xs)[kVectors]) {
  if constexpr (kStride == 1) {
    // Separate 128-bit loads: GCC pairs them into LDP; with LD1 {4 registers} (vld1q_f32_x4)
    // GCC 12 adds a register move per vector to satisfy the consecutive-register constraint.
    for (int v = 0; v < kVectors; ++v) xs[v] = vld1q_f32(x + 4 * v);
  } else {
    static_assert(kStride == 2, "stride 1 or 2");
    if constexpr (kVectors == 1) {
      xs[0] = vld2q_f32(x).val[0];
    } else {
      static_assert(kVectors % 2 == 0, "pairs of vectors");
      for (int v = 0; v < kVectors; v += 2) {
        const float32x4x4_t q = vld4q_f32(x + 8 * v);
        xs[v] = q.val[0];
        xs[v + 1] = q.val[2];
      }
    }
  }
}

// Stores a tile's accumulators to its 4 * kVectors output positions (see load_tile).
template <int kVectors, int kStride>
inline void store_tile(float* o, const float32x4_t (&acc)[kVectors]) {
  if constexpr (kStride == 1 || kVectors == 1) {
    for (int v = 0; v < kVectors; ++v) vst1q_f32(o + 4 * v, acc[v]);
  } else {
    for (int v = 0; v < kVectors; v += 2) {
      float32x4x2_t pair;
      pair.val[0] = acc[v];
      pair.val[1] = acc[v + 1];
      vst2q_f32(o + 4 * v, pair);
    }
  }
}

inline const float* advance_bytes(const float* p, std::int32_t bytes) {
  return reinterpret_cast<const float*>(reinterpret_cast<const char*>(p) + bytes);
}

// acc[v] += tile inputs at x * weight lane kLane of w4.
template <class Mac, int kVectors, int kStride, int kLane>
inline void multiply_add_lane(float32x4_t (&acc)[kVectors], const float* x, float32x4_t w4) {
  float32x4_t xs[kVectors];
  load_tile<kVectors, kStride>(x, xs);
  for (int v = 0; v < kVectors; ++v) acc[v] = Mac::template mac_lane<kLane>(acc[v], xs[v], w4);
}

// One tile: 4 * kVectors consecutive output positions of a segment, for every channel of
// [oc_begin, oc_end). `in` is the input base of the tile's first position, `out` the output
// position in channel 0. Channels are the inner loop so that the input tile stays in L1 while
// the weights stream (XNNPACK's spmm order). Nonzeros go four at a time: one 128-bit load
// brings four weights, used by multiply-add-by-lane, which saves three weight loads and three
// counter updates per four nonzeros over the one-at-a-time loop that handles the rest.
template <class Mac, int kVectors, int kStride>
void conv_tile(const PackedConv& pc, const float* in, float* out, std::ptrdiff_t out_channel_stride,
               int oc_begin, int oc_end, bool relu) {
  static_assert(kVectors >= 1, "vector tiles only");
  const float32x4_t zero = vdupq_n_f32(0.0f);
  for (int oc = oc_begin; oc < oc_end; ++oc) {
    const std::uint32_t begin = pc.row_begin[oc];
    const float* w = pc.weights + begin;
    const std::int32_t* delta = pc.deltas + begin;
    float32x4_t acc[kVectors];
    const float32x4_t bias = vld1q_dup_f32(pc.bias + oc);
    for (int v = 0; v < kVectors; ++v) acc[v] = bias;
    const float* x = in;
    std::uint32_t n = pc.row_begin[oc + 1] - begin;
    for (; GNRT_ARM_NONZERO_UNROLL == 4 && n >= 4; n -= 4) {
      const float32x4_t w4 = vld1q_f32(w);
      x = advance_bytes(x, delta[0]);
      multiply_add_lane<Mac, kVectors, kStride, 0>(acc, x, w4);
      x = advance_bytes(x, delta[1]);
      multiply_add_lane<Mac, kVectors, kStride, 1>(acc, x, w4);
      x = advance_bytes(x, delta[2]);
      multiply_add_lane<Mac, kVectors, kStride, 2>(acc, x, w4);
      x = advance_bytes(x, delta[3]);
      multiply_add_lane<Mac, kVectors, kStride, 3>(acc, x, w4);
      w += 4;
      delta += 4;
    }
    for (; n != 0; --n) {
      x = advance_bytes(x, *delta++);
      const float32x4_t weight = vld1q_dup_f32(w++);
      float32x4_t xs[kVectors];
      load_tile<kVectors, kStride>(x, xs);
      for (int v = 0; v < kVectors; ++v) acc[v] = Mac::mac(acc[v], xs[v], weight);
    }
    if (relu)
      for (int v = 0; v < kVectors; ++v) acc[v] = vmaxq_f32(acc[v], zero);
    store_tile<kVectors, kStride>(out + oc * out_channel_stride, acc);
  }
}

// Segments shorter than four positions (tiny planes only).
template <class Mac, int kStride>
void conv_points(const PackedConv& pc, const float* in, float* out,
                 std::ptrdiff_t out_channel_stride, int length, int oc_begin, int oc_end,
                 bool relu) {
  for (int oc = oc_begin; oc < oc_end; ++oc) {
    const std::uint32_t begin = pc.row_begin[oc];
    const std::uint32_t end = pc.row_begin[oc + 1];
    for (int i = 0; i < length; ++i) {
      float acc = pc.bias[oc];
      const float* x = in + i * kStride;
      for (std::uint32_t k = begin; k < end; ++k) {
        x = advance_bytes(x, pc.deltas[k]);
        acc = Mac::mac_scalar(acc, *x, pc.weights[k]);
      }
      if (relu && acc < 0.0f) acc = 0.0f;
      out[oc * out_channel_stride + i] = acc;
    }
  }
}

// A tile of 4 * vectors positions, vectors a power of two <= kMaxVectors, chosen at run time.
template <class Mac, int kMaxVectors, int kStride>
void conv_tile_of(int vectors, const PackedConv& pc, const float* in, float* out,
                  std::ptrdiff_t out_channel_stride, int oc_begin, int oc_end, bool relu) {
  if constexpr (kMaxVectors > 1) {
    if (vectors < kMaxVectors) {
      conv_tile_of<Mac, kMaxVectors / 2, kStride>(vectors, pc, in, out, out_channel_stride,
                                                  oc_begin, oc_end, relu);
      return;
    }
  }
  conv_tile<Mac, kMaxVectors, kStride>(pc, in, out, out_channel_stride, oc_begin, oc_end, relu);
}

// One segment of `length` positions: full tiles of 4 * kVectors, then the remainder as one
// tile of the smallest size that covers it, placed to end at the segment's end. That tile
// overlaps positions already computed and rewrites them with the same values; it costs one
// pass over the nonzeros instead of one per power-of-two piece, and never writes past the
// segment (so never into a neighbouring plane).
template <class Mac, int kVectors, int kStride>
void conv_segment(const PackedConv& pc, const float* in, float* out,
                  std::ptrdiff_t out_channel_stride, int length, int oc_begin, int oc_end,
                  bool relu) {
  constexpr int kTile = 4 * kVectors;
  if constexpr (kVectors > 1) {
    if (length < kTile) {
      conv_segment<Mac, kVectors / 2, kStride>(pc, in, out, out_channel_stride, length, oc_begin,
                                               oc_end, relu);
      return;
    }
  } else {
    if (length < kTile) {
      conv_points<Mac, kStride>(pc, in, out, out_channel_stride, length, oc_begin, oc_end, relu);
      return;
    }
  }
  int x = 0;
  for (; x + kTile <= length; x += kTile)
    conv_tile<Mac, kVectors, kStride>(pc, in + x * kStride, out + x, out_channel_stride, oc_begin,
                                      oc_end, relu);
  const int remainder = length - x;
  if (remainder == 0) return;
  int vectors = 1;
  while (4 * vectors < remainder) vectors *= 2;
  const int start = length - 4 * vectors;
  conv_tile_of<Mac, kVectors, kStride>(vectors, pc, in + start * kStride, out + start,
                                       out_channel_stride, oc_begin, oc_end, relu);
}

// ConvKernel::run for packed sparse convolutions (sparse_pack.h). Tiles of up to kVectors
// q registers for stride 1 and kVectorsStride2 for stride 2 (the de-interleaving loads hold
// twice the registers per vector, so a smaller tile avoids spills).
template <class Mac, int kVectors, int kVectorsStride2>
void conv_sparse_run(const ConvProblem& problem, const void* packed, const float* input,
                     float* output, int oc_begin, int oc_end) {
  if (oc_begin >= oc_end) return;
  const PackedConv pc = conv_sparse_view(packed);
  const PackedConvHeader& h = *pc.header;
  const bool relu = problem.activation == Activation::kRelu;
  const std::ptrdiff_t out_channel_stride = problem.out_channel_stride;
  const Segments plan = plan_segments(problem);
  const int length = static_cast<int>(plan.length);
  for (std::int64_t s = 0; s < plan.count; ++s) {
    const float* in = input + s * plan.in_step;
    float* out = output + s * plan.out_step;
    if (h.stride_w == 1)
      conv_segment<Mac, kVectors, 1>(pc, in, out, out_channel_stride, length, oc_begin, oc_end,
                                     relu);
    else
      conv_segment<Mac, kVectorsStride2, 2>(pc, in, out, out_channel_stride, length, oc_begin,
                                            oc_end, relu);
  }
}

// FcKernel::run for packed sparse rows: a dot product per output over gathered inputs, eight
// nonzeros per step in two accumulators (NEON has no gather: one lane load per nonzero).
template <class Mac>
void fc_sparse_run(const FcProblem& problem, const void* packed, const float* input, float* output,
                   int o_begin, int o_end) {
  const PackedFc pf = fc_sparse_view(packed);
  const bool relu = problem.activation == Activation::kRelu;
  for (int o = o_begin; o < o_end; ++o) {
    const std::uint32_t begin = pf.row_begin[o];
    std::uint32_t n = pf.row_begin[o + 1] - begin;
    const float* w = pf.weights + begin;
    const std::uint32_t* index = pf.indices + begin;
    float32x4_t acc0 = vdupq_n_f32(0.0f);
    float32x4_t acc1 = vdupq_n_f32(0.0f);
    for (; n >= 8; n -= 8) {
      float32x4_t x0 = vld1q_dup_f32(input + index[0]);
      float32x4_t x1 = vld1q_dup_f32(input + index[4]);
      x0 = vld1q_lane_f32(input + index[1], x0, 1);
      x1 = vld1q_lane_f32(input + index[5], x1, 1);
      x0 = vld1q_lane_f32(input + index[2], x0, 2);
      x1 = vld1q_lane_f32(input + index[6], x1, 2);
      x0 = vld1q_lane_f32(input + index[3], x0, 3);
      x1 = vld1q_lane_f32(input + index[7], x1, 3);
      acc0 = Mac::mac(acc0, x0, vld1q_f32(w));
      acc1 = Mac::mac(acc1, x1, vld1q_f32(w + 4));
      w += 8;
      index += 8;
    }
    float sum = horizontal_sum(vaddq_f32(acc0, acc1)) + pf.bias[o];
    for (; n != 0; --n) sum = Mac::mac_scalar(sum, input[*index++], *w++);
    if (relu && sum < 0.0f) sum = 0.0f;
    output[o] = sum;
  }
}

}  // namespace
}  // namespace arm
}  // namespace kernels
}  // namespace gnrt
