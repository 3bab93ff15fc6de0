// The stride-1 flat int8 convolution on 256-bit vectors (AVX2 and AVX-VNNI): the AVX-512 VNNI
// kernel's walk (output positions as one run across rows when input and output share a row
// stride, gaps restored to the zero point) with tiles of 32 positions (4 vectors of 8) x the 4
// output channels of a C4 group, the last tile only as wide as the positions left. `Dot` adds, per 32-bit lane, the dot product of the lane's 4
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

template <bool kMasked>
inline __m256i load8(const std::uint8_t* s, __m256i mask) {
  return kMasked ? _mm256_maskload_epi32(reinterpret_cast<const int*>(s), mask)
                 : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s));
}

// Accumulates output channel `o` over NV vectors of 8 positions at `anchor`. With fewer than 4
// vectors, consecutive entries go to 4 / NV accumulator sets (4 independent dot chains; integer
// sums, so exact in any order), summed at the end.
template <typename Dot, int NV, bool kMasked>
inline void channel(const QPackedView& v, int o, const std::uint8_t* anchor, const __m256i* mask,
                    __m256i* sum) {
  constexpr int K = NV == 1 ? 4 : (NV == 2 ? 2 : 1);  // 4 / NV
  __m256i a[K][NV];
  for (int k = 0; k < K; ++k)
    for (int t = 0; t < NV; ++t) a[k][t] = _mm256_setzero_si256();
  for (int t = 0; t < NV; ++t) a[0][t] = _mm256_set1_epi32(v.bias[o]);
  const QEntry* e = v.entries + v.row_begin[o];
  const QEntry* end = v.entries + v.row_begin[o + 1];
  for (; end - e >= K; e += K) {
    for (int k = 0; k < K; ++k) {
      const typename Dot::Weights w = Dot::prepare(e[k].w4);
      const std::uint8_t* s = anchor + e[k].offset;
      for (int t = 0; t < NV; ++t)
        a[k][t] = Dot::dot(a[k][t], load8<kMasked>(s + 32 * t, mask[t]), w);
    }
  }
  for (; e < end; ++e) {
    const typename Dot::Weights w = Dot::prepare(e->w4);
    const std::uint8_t* s = anchor + e->offset;
    for (int t = 0; t < NV; ++t)
      a[0][t] = Dot::dot(a[0][t], load8<kMasked>(s + 32 * t, mask[t]), w);
  }
  for (int t = 0; t < NV; ++t) {
    __m256i x = a[0][t];
    for (int k = 1; k < K; ++k) x = _mm256_add_epi32(x, a[k][t]);
    sum[t] = x;
  }
}

// One tile: NV vectors of 8 positions x the 4 output channels from o0, requantized and stored as
// C4 words.
template <typename Dot, int NV, bool kMasked>
inline void tile(const QPackedView& v, int o0, const std::uint8_t* anchor, const __m256i* mask,
                 int zp, int lo, std::uint8_t* out) {
  __m256i r[NV];
  for (int j = 0; j < 4; ++j) {
    __m256i acc[NV];
    channel<Dot, NV, kMasked>(v, o0 + j, anchor, mask, acc);
    const float m = v.multiplier[o0 + j];
    for (int t = 0; t < NV; ++t) {
      const __m256i q = _mm256_slli_epi32(requant(acc[t], m, zp, lo), 8 * j);
      r[t] = j == 0 ? q : _mm256_or_si256(r[t], q);
    }
  }
  for (int t = 0; t < NV; ++t) {
    int* dst = reinterpret_cast<int*>(out + 32 * t);
    if (kMasked)
      _mm256_maskstore_epi32(dst, mask[t], r[t]);
    else
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst), r[t]);
  }
}

// The last tile of a plane has 1, 2 or 4 vectors of 8 (3 runs as a masked 4: less code).
template <typename Dot>
void run(const QConvProblem& p, const void* packed, const std::uint8_t* input, std::uint8_t* output,
         int oc_begin, int oc_end) {
  const QPackedView v = qpacked_view(packed);
  const std::ptrdiff_t rs = p.out_row_stride;
  const std::ptrdiff_t last = (p.out_height - 1) * rs + p.out_width;  // flat positions [0, last)
  const int lo = p.out_min, zp = p.out_zero_point;
  __m256i all[4];
  for (int t = 0; t < 4; ++t) all[t] = _mm256_set1_epi32(-1);
  for (int g = oc_begin / 4; g * 4 < oc_end; ++g) {
    const int o0 = g * 4;
    std::uint8_t* out = output + g * p.out_group_stride * 4;
    std::ptrdiff_t pos = 0;
    for (; last - pos >= 32; pos += 32)
      tile<Dot, 4, false>(v, o0, input + pos * 4, all, zp, lo, out + pos * 4);
    const std::ptrdiff_t left = last - pos;
    if (left > 0) {
      __m256i mask[4];
      for (int t = 0; t < 4; ++t) mask[t] = lane_mask(left - 8 * t);
      const std::uint8_t* anchor = input + pos * 4;
      std::uint8_t* o = out + pos * 4;
      switch ((left + 7) / 8) {
        case 1:
          tile<Dot, 1, true>(v, o0, anchor, mask, zp, lo, o);
          break;
        case 2:
          tile<Dot, 2, true>(v, o0, anchor, mask, zp, lo, o);
          break;
        default:
          tile<Dot, 4, true>(v, o0, anchor, mask, zp, lo, o);
          break;
      }
    }
    qconv_restore_row_gaps(p, out);
  }
}

}  // namespace s1f256
}  // namespace kernels
}  // namespace gnrt
