// int8 sparse convolution, stride 1, AVX-512 VNNI. "s1f": the output plane is walked as one flat
// run of positions (row gaps included) when input and output share a row stride, so that small
// planes (6x6 at 48x48) still fill whole vectors; the gaps are restored to the zero point after.
// Tile: 64 positions (4 vectors of 16) x the 4 output channels of one C4 group, 16 accumulators;
// each entry is one broadcast of its 4 weights and 4 `vpdpbusd` against 64-byte loads of the 4
// input channels at 16 positions.
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
  for (int g = oc_begin / 4; g * 4 < oc_end; ++g) {
    const int o0 = g * 4;
    std::uint8_t* out = output + g * p.out_group_stride * 4;
    for (std::ptrdiff_t pos = 0; pos < last; pos += 64) {
      __mmask16 mask[4];
      for (int t = 0; t < 4; ++t) {
        const std::ptrdiff_t left = last - pos - 16 * t;
        mask[t] = left >= 16 ? static_cast<__mmask16>(0xffff)
                  : left <= 0 ? static_cast<__mmask16>(0)
                              : static_cast<__mmask16>((1u << left) - 1);
      }
      const std::uint8_t* anchor = input + pos * 4;
      __m512i q[4][4];
      for (int j = 0; j < 4; ++j) {
        const int o = o0 + j;
        __m512i a0 = _mm512_set1_epi32(v.bias[o]), a1 = a0, a2 = a0, a3 = a0;
        const QEntry* e = v.entries + v.row_begin[o];
        const QEntry* end = v.entries + v.row_begin[o + 1];
        if (mask[3] == 0xffff) {
          for (; e < end; ++e) {
            const __m512i w = _mm512_set1_epi32(e->w4);
            const std::uint8_t* s = anchor + e->offset;
            a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(s), w);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(s + 64), w);
            a2 = _mm512_dpbusd_epi32(a2, _mm512_loadu_si512(s + 128), w);
            a3 = _mm512_dpbusd_epi32(a3, _mm512_loadu_si512(s + 192), w);
          }
        } else {
          for (; e < end; ++e) {
            const __m512i w = _mm512_set1_epi32(e->w4);
            const std::uint8_t* s = anchor + e->offset;
            a0 = _mm512_dpbusd_epi32(a0, _mm512_maskz_loadu_epi32(mask[0], s), w);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_maskz_loadu_epi32(mask[1], s + 64), w);
            a2 = _mm512_dpbusd_epi32(a2, _mm512_maskz_loadu_epi32(mask[2], s + 128), w);
            a3 = _mm512_dpbusd_epi32(a3, _mm512_maskz_loadu_epi32(mask[3], s + 192), w);
          }
        }
        const float m = v.multiplier[o];
        q[j][0] = requant(a0, m, zp, lo);
        q[j][1] = requant(a1, m, zp, lo);
        q[j][2] = requant(a2, m, zp, lo);
        q[j][3] = requant(a3, m, zp, lo);
      }
      for (int t = 0; t < 4; ++t) {
        const __m512i r = _mm512_or_si512(
            _mm512_or_si512(q[0][t], _mm512_slli_epi32(q[1][t], 8)),
            _mm512_or_si512(_mm512_slli_epi32(q[2][t], 16), _mm512_slli_epi32(q[3][t], 24)));
        _mm512_mask_storeu_epi32(out + (pos + 16 * t) * 4, mask[t], r);
      }
    }
    qconv_restore_row_gaps(p, out);
  }
}

}  // namespace kernels
}  // namespace gnrt
