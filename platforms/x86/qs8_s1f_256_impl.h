// The stride-1 flat int8 convolution on 256-bit vectors (AVX2 and AVX-VNNI): the AVX-512 VNNI
// kernel's walk (output positions as one run across rows when input and output share a row
// stride, gaps restored to the zero point) with tiles of 32 positions (4 vectors of 8) x the 4
// output channels of a C4 group. `Dot` adds, per 32-bit lane, the dot product of the lane's 4
// activation bytes (unsigned) and the entry's 4 weights (signed) to the accumulator:
//   Dot::prepare(w4)     -> the entry's weights in the form dot() takes
//   Dot::dot(acc, a, w)  -> acc + sum_j a.u8[j] * w.s8[j] per lane, exactly
// Included only by the kernel files, which are compiled with their ISA's flags.
#pragma once

#include <immintrin.h>

#include <cstring>

#include "gnrt/qkernels.h"

namespace gnrt {
namespace kernels {
namespace s1f256 {

inline __m256i requant(__m256i acc, float m, int zp, int lo) {
  __m256 x = _mm256_mul_ps(_mm256_cvtepi32_ps(acc), _mm256_set1_ps(m));
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-512.0f)), _mm256_set1_ps(512.0f));
  __m256i y = _mm256_add_epi32(_mm256_cvtps_epi32(x), _mm256_set1_epi32(zp));
  y = _mm256_max_epi32(y, _mm256_set1_epi32(lo));
  return _mm256_min_epi32(y, _mm256_set1_epi32(255));
}

// Lanes [0, left) of 8 set, as a maskload/maskstore mask.
inline __m256i lane_mask(std::ptrdiff_t left) {
  const __m256i index = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  const int n = left <= 0 ? 0 : (left >= 8 ? 8 : static_cast<int>(left));
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), index);
}

template <typename Dot, bool kMasked>
inline void tile(const QPackedView& v, int o0, const std::uint8_t* anchor, const __m256i* mask,
                 __m256i q[4][4]) {
  for (int j = 0; j < 4; ++j) {
    const int o = o0 + j;
    __m256i a0 = _mm256_set1_epi32(v.bias[o]), a1 = a0, a2 = a0, a3 = a0;
    const QEntry* e = v.entries + v.row_begin[o];
    const QEntry* end = v.entries + v.row_begin[o + 1];
    for (; e < end; ++e) {
      const typename Dot::Weights w = Dot::prepare(e->w4);
      const std::uint8_t* s = anchor + e->offset;
      if (kMasked) {
        a0 = Dot::dot(a0, _mm256_maskload_epi32(reinterpret_cast<const int*>(s), mask[0]), w);
        a1 = Dot::dot(a1, _mm256_maskload_epi32(reinterpret_cast<const int*>(s + 32), mask[1]), w);
        a2 = Dot::dot(a2, _mm256_maskload_epi32(reinterpret_cast<const int*>(s + 64), mask[2]), w);
        a3 = Dot::dot(a3, _mm256_maskload_epi32(reinterpret_cast<const int*>(s + 96), mask[3]), w);
      } else {
        a0 = Dot::dot(a0, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s)), w);
        a1 = Dot::dot(a1, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + 32)), w);
        a2 = Dot::dot(a2, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + 64)), w);
        a3 = Dot::dot(a3, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + 96)), w);
      }
    }
    q[j][0] = a0;
    q[j][1] = a1;
    q[j][2] = a2;
    q[j][3] = a3;
  }
}

template <typename Dot>
void run(const QConvProblem& p, const void* packed, const std::uint8_t* input,
         std::uint8_t* output, int oc_begin, int oc_end) {
  const QPackedView v = qpacked_view(packed);
  const std::ptrdiff_t rs = p.out_row_stride;
  const std::ptrdiff_t last = (p.out_height - 1) * rs + p.out_width;  // flat positions [0, last)
  const int lo = p.out_min, zp = p.out_zero_point;
  for (int g = oc_begin / 4; g * 4 < oc_end; ++g) {
    const int o0 = g * 4;
    std::uint8_t* out = output + g * p.out_group_stride * 4;
    for (std::ptrdiff_t pos = 0; pos < last; pos += 32) {
      const std::uint8_t* anchor = input + pos * 4;
      __m256i acc[4][4];
      __m256i mask[4];
      const bool full = last - pos >= 32;
      if (full) {
        tile<Dot, false>(v, o0, anchor, mask, acc);
      } else {
        for (int t = 0; t < 4; ++t) mask[t] = lane_mask(last - pos - 8 * t);
        tile<Dot, true>(v, o0, anchor, mask, acc);
      }
      for (int t = 0; t < 4; ++t) {
        __m256i r = requant(acc[0][t], v.multiplier[o0], zp, lo);
        r = _mm256_or_si256(r, _mm256_slli_epi32(requant(acc[1][t], v.multiplier[o0 + 1], zp, lo), 8));
        r = _mm256_or_si256(r, _mm256_slli_epi32(requant(acc[2][t], v.multiplier[o0 + 2], zp, lo), 16));
        r = _mm256_or_si256(r, _mm256_slli_epi32(requant(acc[3][t], v.multiplier[o0 + 3], zp, lo), 24));
        int* dst = reinterpret_cast<int*>(out + (pos + 8 * t) * 4);
        if (full)
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), r);
        else
          _mm256_maskstore_epi32(dst, mask[t], r);
      }
    }
    qconv_restore_row_gaps(p, out);
  }
}

}  // namespace s1f256
}  // namespace kernels
}  // namespace gnrt
