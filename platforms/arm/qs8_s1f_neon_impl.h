// The stride-1 flat int8 convolution on NEON (aarch64 and armv7): the walk of the x86 "s1f"
// kernels (platforms/x86/qs8_s1f_256_impl.h). The output plane of one C4 group is one flat run of
// positions [0, last), row gaps included (input and output share a row stride, so an entry's
// byte offset applies to every position alike); a tile is NV vectors of 4 positions (16 bytes of
// the C4 layout) x the 4 output channels of the group, and the 4 channels' results are written
// interleaved, 16 bytes per vector. NEON has no masked loads, so the run is cut into full tiles
// and the remainder is one more full tile placed to end at `last` (it recomputes positions
// already written and writes the same bytes again): nothing outside [0, last) is read or written,
// which is what the runs of whole tiles read anyway. Runs shorter than a tile use tiles of one
// vector, runs shorter than 4 positions the scalar definition. The row gaps are restored to the
// zero point after each group.
//
// `Dot` is the accumulation policy over one vector of 4 positions:
//   Dot::Acc                               per-vector accumulator state
//   Dot::Weights Dot::prepare(w4)          the entry's 4 weights in the form add() takes
//   std::int32_t Dot::start(v, o)          the value each position's sum starts from (the bias,
//                                          plus whatever correction the policy needs), computed
//                                          once per group
//   void Dot::init(Acc&, start)
//   void Dot::add(Acc&, uint8x16_t bytes, const Weights&)  adds, per position, the dot product
//                                          of its 4 activation bytes (unsigned) and the weights
//                                          (signed), exactly
//   int32x4_t Dot::finish(const Acc&, start)  the 4 positions' sums
// Included only by the kernel files, which are compiled with their ISA's flags.
#pragma once

#include <arm_neon.h>

#include <cstddef>
#include <cstdint>

#include "gnrt/qkernels.h"

namespace gnrt {
namespace kernels {
namespace s1f_neon {

// requantize() of qkernels.h on 4 lanes: float(acc) rounds to nearest even (vcvtq_f32_s32; on
// armv7 NEON always rounds to nearest), one multiply, the clamp to +-512, round half to even, the
// zero point, the clamp to [lo, 255]. A64 has the rounding conversion (FCVTNS); armv7 has none,
// so the clamped x is added to 1.5 * 2^23, where floats are spaced by 1: the sum is rounded half
// to even by the addition and its bit pattern is 0x4B400000 + round(x) for |x| <= 2^22. (ARMv7
// NEON flushes denormals to zero; a denormal product rounds to 0 either way.)
inline int32x4_t requant(int32x4_t acc, float m, int zp, int lo) {
  float32x4_t x = vmulq_f32(vcvtq_f32_s32(acc), vdupq_n_f32(m));
  x = vminq_f32(vmaxq_f32(x, vdupq_n_f32(-512.0f)), vdupq_n_f32(512.0f));
#if defined(__aarch64__)
  int32x4_t y = vcvtnq_s32_f32(x);
#else
  const float32x4_t t = vaddq_f32(x, vdupq_n_f32(12582912.0f));
  int32x4_t y = vsubq_s32(vreinterpretq_s32_f32(t), vdupq_n_s32(0x4B400000));
#endif
  y = vaddq_s32(y, vdupq_n_s32(zp));
  y = vmaxq_s32(y, vdupq_n_s32(lo));
  return vminq_s32(y, vdupq_n_s32(255));
}

// One tile: positions [pos, pos + 4 * NV) of group g's plane, all 4 channels, stored. Each
// channel's results go to a small buffer, narrowed to bytes, and are interleaved by VST4 at the
// end, so that no output register stays live across the next channel's entry loop.
template <typename Dot, int NV>
inline void tile(const QPackedView& v, int o0, const std::int32_t* start,
                 const std::uint8_t* anchor, std::uint8_t* out, int zp, int lo) {
  static_assert(NV == 1 || NV % 2 == 0, "tiles of 1 or of an even number of vectors");
  alignas(16) std::uint8_t res[4][4 * NV];
  for (int j = 0; j < 4; ++j) {
    const int o = o0 + j;
    typename Dot::Acc acc[NV];
    for (int t = 0; t < NV; ++t) Dot::init(acc[t], start[j]);
    const QEntry* e = v.entries + v.row_begin[o];
    const QEntry* const end = v.entries + v.row_begin[o + 1];
    for (; e < end; ++e) {
      const typename Dot::Weights w = Dot::prepare(e->w4);
      const std::uint8_t* s = anchor + e->offset;
      for (int t = 0; t < NV; ++t) Dot::add(acc[t], vld1q_u8(s + 16 * t), w);
    }
    const float m = v.multiplier[o];
    if (NV == 1) {
      const uint16x4_t n = vmovn_u32(vreinterpretq_u32_s32(requant(Dot::finish(acc[0], start[j]), m, zp, lo)));
      const uint8x8_t b = vmovn_u16(vcombine_u16(n, n));
      vst1_lane_u32(reinterpret_cast<std::uint32_t*>(res[j]), vreinterpret_u32_u8(b), 0);
    } else {
      for (int t = 0; t + 1 < NV; t += 2) {
        const uint16x4_t n0 =
            vmovn_u32(vreinterpretq_u32_s32(requant(Dot::finish(acc[t], start[j]), m, zp, lo)));
        const uint16x4_t n1 = vmovn_u32(
            vreinterpretq_u32_s32(requant(Dot::finish(acc[t + 1], start[j]), m, zp, lo)));
        vst1_u8(res[j] + 4 * t, vmovn_u16(vcombine_u16(n0, n1)));
      }
    }
  }
  if (NV == 1) {
    for (int i = 0; i < 4; ++i)
      for (int j = 0; j < 4; ++j) out[4 * i + j] = res[j][i];
  } else {
    for (int c = 0; c < 4 * NV; c += 8) {
      uint8x8x4_t q;
      q.val[0] = vld1_u8(res[0] + c);
      q.val[1] = vld1_u8(res[1] + c);
      q.val[2] = vld1_u8(res[2] + c);
      q.val[3] = vld1_u8(res[3] + c);
      vst4_u8(out + 4 * c, q);
    }
  }
}

// Positions [0, last) with tiles of NV vectors; last >= 4 * NV.
template <typename Dot, int NV>
inline void walk(const QPackedView& v, int o0, const std::int32_t* start,
                 const std::uint8_t* input, std::uint8_t* out, std::ptrdiff_t last, int zp, int lo) {
  constexpr std::ptrdiff_t kTile = 4 * NV;
  std::ptrdiff_t pos = 0;
  for (; pos + kTile <= last; pos += kTile)
    tile<Dot, NV>(v, o0, start, input + pos * 4, out + pos * 4, zp, lo);
  if (pos < last) {
    pos = last - kTile;
    tile<Dot, NV>(v, o0, start, input + pos * 4, out + pos * 4, zp, lo);
  }
}

// The scalar definition at one flat position (runs shorter than one vector).
inline void position_scalar(const QPackedView& v, int o0, const std::uint8_t* anchor,
                            std::uint8_t* out, int zp, int lo) {
  for (int j = 0; j < 4; ++j) {
    const int o = o0 + j;
    std::int32_t acc = v.bias[o];
    for (std::uint32_t k = v.row_begin[o]; k < v.row_begin[o + 1]; ++k) {
      const std::uint8_t* a = anchor + v.entries[k].offset;
      const std::uint32_t w4 = static_cast<std::uint32_t>(v.entries[k].w4);
      for (int b = 0; b < 4; ++b)
        acc += static_cast<std::int32_t>(a[b]) * static_cast<std::int8_t>((w4 >> (8 * b)) & 0xff);
    }
    out[j] = static_cast<std::uint8_t>(requantize(acc, v.multiplier[o], zp, lo));
  }
}

template <typename Dot, int NV>
void run(const QConvProblem& p, const void* packed, const std::uint8_t* input,
         std::uint8_t* output, int oc_begin, int oc_end) {
  const QPackedView v = qpacked_view(packed);
  const std::ptrdiff_t rs = p.out_row_stride;
  const std::ptrdiff_t last = (p.out_height - 1) * rs + p.out_width;  // flat positions [0, last)
  const int lo = p.out_min, zp = p.out_zero_point;
  for (int g = oc_begin / 4; g * 4 < oc_end; ++g) {
    const int o0 = g * 4;
    std::uint8_t* out = output + g * p.out_group_stride * 4;
    std::int32_t start[4];
    for (int j = 0; j < 4; ++j) start[j] = Dot::start(v, o0 + j);
    if (last >= 4 * NV) {
      walk<Dot, NV>(v, o0, start, input, out, last, zp, lo);
    } else if (last >= 4) {
      walk<Dot, 1>(v, o0, start, input, out, last, zp, lo);
    } else {
      for (std::ptrdiff_t pos = 0; pos < last; ++pos)
        position_scalar(v, o0, input + pos * 4, out + pos * 4, zp, lo);
    }
    qconv_restore_row_gaps(p, out);
  }
}

// Exact 4-byte dot products without dot-product instructions: each position's 4 activation bytes
// widened to int16 (0..255) and multiplied by the 4 weights (int16) into 4 int32 lanes
// (VMLAL/SMLAL), summed across the lanes once at the end of the entries. A vector of 4 positions
// keeps 4 accumulator registers; no intermediate rounds or saturates (|product| <= 255 * 128).
struct MlalDot {
  struct Acc {
    int32x4_t p[4];  // position i: lanes = its 4 channels' partial sums
  };
  using Weights = int16x8_t;  // the 4 weights twice
  static std::int32_t start(const QPackedView& v, int o) { return v.bias[o]; }
  static void init(Acc& a, std::int32_t) {
    for (int i = 0; i < 4; ++i) a.p[i] = vdupq_n_s32(0);
  }
  static Weights prepare(std::int32_t w4) {
    return vmovl_s8(vreinterpret_s8_s32(vdup_n_s32(w4)));
  }
  static void add(Acc& a, uint8x16_t bytes, const Weights& w) {
    const int16x8_t lo = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(bytes)));
    const int16x8_t hi = vreinterpretq_s16_u16(vmovl_u8(vget_high_u8(bytes)));
    a.p[0] = vmlal_s16(a.p[0], vget_low_s16(lo), vget_low_s16(w));
    a.p[2] = vmlal_s16(a.p[2], vget_low_s16(hi), vget_low_s16(w));
#if defined(__aarch64__)
    a.p[1] = vmlal_high_s16(a.p[1], lo, w);  // SMLAL2: no extraction of the high halves
    a.p[3] = vmlal_high_s16(a.p[3], hi, w);
#else
    a.p[1] = vmlal_s16(a.p[1], vget_high_s16(lo), vget_low_s16(w));
    a.p[3] = vmlal_s16(a.p[3], vget_high_s16(hi), vget_low_s16(w));
#endif
  }
  static int32x4_t finish(const Acc& a, std::int32_t start) {
#if defined(__aarch64__)
    const int32x4_t s = vpaddq_s32(vpaddq_s32(a.p[0], a.p[1]), vpaddq_s32(a.p[2], a.p[3]));
#else
    const int32x2_t s0 = vpadd_s32(vget_low_s32(a.p[0]), vget_high_s32(a.p[0]));
    const int32x2_t s1 = vpadd_s32(vget_low_s32(a.p[1]), vget_high_s32(a.p[1]));
    const int32x2_t s2 = vpadd_s32(vget_low_s32(a.p[2]), vget_high_s32(a.p[2]));
    const int32x2_t s3 = vpadd_s32(vget_low_s32(a.p[3]), vget_high_s32(a.p[3]));
    const int32x4_t s = vcombine_s32(vpadd_s32(s0, s1), vpadd_s32(s2, s3));
#endif
    return vaddq_s32(s, vdupq_n_s32(start));
  }
};

}  // namespace s1f_neon
}  // namespace kernels
}  // namespace gnrt
