// int8 sparse convolution, stride 1, AVX-512 VNNI. "s1f": the output plane is walked as one flat
// run of positions (row gaps included) when input and output share a row stride, so that small
// planes (6x6 at 48x48) still fill whole vectors; the gaps are restored to the zero point after.
// Tile: 64 positions (4 vectors of 16) x the 4 output channels of one C4 group, 16 accumulators;
// each entry is one broadcast of its 4 weights and 4 `vpdpbusd` against 64-byte loads of the 4
// input channels at 16 positions. The last tile of a plane has only as many vectors as positions
// are left (1, 2 or 4; 3 runs as a masked 4, which keeps the code small): GoogLeNet's 3x3 and 2x2 planes at 48x48 are one vector, where a 64-position
// tile spent three quarters of its `vpdpbusd`s on masked-off lanes. Tiles of fewer than 4 vectors
// spread consecutive entries over 4 / NV accumulator sets, so 4 independent `vpdpbusd` chains
// always hide the instruction's latency (exact: integer sums in any order).
#include <immintrin.h>

#include <cstring>

#include "gnrt/qkernels.h"
#include "x86/qs8_kernels.h"

namespace gnrt {
namespace kernels {

namespace {

inline __m512i requant(__m512i acc, float m, int zp, int lo) {
  __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(acc), _mm512_set1_ps(m));
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-512.0f)), _mm512_set1_ps(512.0f));
  __m512i y = _mm512_add_epi32(_mm512_cvtps_epi32(x), _mm512_set1_epi32(zp));
  y = _mm512_max_epi32(y, _mm512_set1_epi32(lo));
  return _mm512_min_epi32(y, _mm512_set1_epi32(255));
}

template <bool kMasked>
inline __m512i load16(const std::uint8_t* s, __mmask16 mask) {
  return kMasked ? _mm512_maskz_loadu_epi32(mask, s) : _mm512_loadu_si512(s);
}

// Accumulates output channel `o` over NV vectors of 16 positions at `anchor`.
template <int NV, bool kMasked>
inline void channel(const QPackedView& v, int o, const std::uint8_t* anchor, const __mmask16* mask,
                    __m512i* sum) {
  constexpr int K = NV == 1 ? 4 : (NV == 2 ? 2 : 1);  // 4 / NV
  __m512i a[K][NV];
  for (int k = 0; k < K; ++k)
    for (int t = 0; t < NV; ++t) a[k][t] = _mm512_setzero_si512();
  for (int t = 0; t < NV; ++t) a[0][t] = _mm512_set1_epi32(v.bias[o]);
  const QEntry* e = v.entries + v.row_begin[o];
  const QEntry* end = v.entries + v.row_begin[o + 1];
  for (; end - e >= K; e += K) {
    for (int k = 0; k < K; ++k) {
      const __m512i w = _mm512_set1_epi32(e[k].w4);
      const std::uint8_t* s = anchor + e[k].offset;
      for (int t = 0; t < NV; ++t)
        a[k][t] = _mm512_dpbusd_epi32(a[k][t], load16<kMasked>(s + 64 * t, mask[t]), w);
    }
  }
  for (; e < end; ++e) {
    const __m512i w = _mm512_set1_epi32(e->w4);
    const std::uint8_t* s = anchor + e->offset;
    for (int t = 0; t < NV; ++t)
      a[0][t] = _mm512_dpbusd_epi32(a[0][t], load16<kMasked>(s + 64 * t, mask[t]), w);
  }
  for (int t = 0; t < NV; ++t) {
    __m512i x = a[0][t];
    for (int k = 1; k < K; ++k) x = _mm512_add_epi32(x, a[k][t]);
    sum[t] = x;
  }
}

// One tile: NV vectors of 16 positions x the 4 output channels from o0, requantized and stored
// as C4 words.
template <int NV, bool kMasked>
inline void tile(const QPackedView& v, int o0, const std::uint8_t* anchor, const __mmask16* mask,
                 int zp, int lo, std::uint8_t* out) {
  __m512i q[4][NV];
  for (int j = 0; j < 4; ++j) {
    __m512i acc[NV];
    channel<NV, kMasked>(v, o0 + j, anchor, mask, acc);
    const float m = v.multiplier[o0 + j];
    for (int t = 0; t < NV; ++t) q[j][t] = requant(acc[t], m, zp, lo);
  }
  for (int t = 0; t < NV; ++t) {
    const __m512i r = _mm512_or_si512(
        _mm512_or_si512(q[0][t], _mm512_slli_epi32(q[1][t], 8)),
        _mm512_or_si512(_mm512_slli_epi32(q[2][t], 16), _mm512_slli_epi32(q[3][t], 24)));
    if (kMasked)
      _mm512_mask_storeu_epi32(out + 64 * t, mask[t], r);
    else
      _mm512_storeu_si512(out + 64 * t, r);
  }
}

}  // namespace

bool qs8_conv2d_sparse_s1f_64x4__avx512vnni_supports(const QConvProblem& p) {
  return qconv_s1_flat_fits(p);
}

void qs8_conv2d_sparse_s1f_64x4__avx512vnni(const QConvProblem& p, const void* packed,
                                            const std::uint8_t* input, std::uint8_t* output,
                                            int oc_begin, int oc_end) {
  const QPackedView v = qpacked_view(packed);
  const std::ptrdiff_t rs = p.out_row_stride;
  const std::ptrdiff_t last = (p.out_height - 1) * rs + p.out_width;  // flat positions [0, last)
  const int lo = p.out_min, zp = p.out_zero_point;
  const __mmask16 all[4] = {0xffff, 0xffff, 0xffff, 0xffff};
  for (int g = oc_begin / 4; g * 4 < oc_end; ++g) {
    const int o0 = g * 4;
    std::uint8_t* out = output + g * p.out_group_stride * 4;
    std::ptrdiff_t pos = 0;
    for (; last - pos >= 64; pos += 64)
      tile<4, false>(v, o0, input + pos * 4, all, zp, lo, out + pos * 4);
    const std::ptrdiff_t left = last - pos;
    if (left > 0) {
      __mmask16 mask[4];
      for (int t = 0; t < 4; ++t) {
        const std::ptrdiff_t n = left - 16 * t;
        mask[t] = n >= 16  ? static_cast<__mmask16>(0xffff)
                  : n <= 0 ? static_cast<__mmask16>(0)
                           : static_cast<__mmask16>((1u << n) - 1);
      }
      const std::uint8_t* anchor = input + pos * 4;
      std::uint8_t* o = out + pos * 4;
      switch ((left + 15) / 16) {
        case 1:
          tile<1, true>(v, o0, anchor, mask, zp, lo, o);
          break;
        case 2:
          tile<2, true>(v, o0, anchor, mask, zp, lo, o);
          break;
        default:
          tile<4, true>(v, o0, anchor, mask, zp, lo, o);
          break;
      }
    }
    qconv_restore_row_gaps(p, out);
  }
}

}  // namespace kernels
}  // namespace gnrt
