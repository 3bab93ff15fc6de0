// uint8 max pooling, AVX-512 (BW): 16 positions (64 bytes) per vector, every tap of the window
// loaded and reduced in a register (vpmaxub), one store per output vector; masked loads and stores
// at the ends, so nothing outside the windows is read or written.
//  - s1f: stride 1, same size (GoogLeNet's 3x3/1 branch pools): the plane as one flat run.
//  - border: any stride_h, stride_w 1 or 2, row by row; stride 2 picks the even positions of two
//    vectors with one vpermt2d.
#include <immintrin.h>

#include "x86/qu8_kernels.h"
#include "x86/qu8_maxpool_impl.h"

namespace gnrt {
namespace kernels {

namespace {

using x86::QMaxTaps;

inline __m512i max_taps(const QMaxTaps& taps, const std::uint8_t* at) {
  __m512i m = _mm512_loadu_si512(at + taps.offset[0]);
  for (int t = 1; t < taps.count; ++t) m = _mm512_max_epu8(m, _mm512_loadu_si512(at + taps.offset[t]));
  return m;
}

inline __m512i max_taps_masked(const QMaxTaps& taps, const std::uint8_t* at, __mmask16 mask) {
  __m512i m = _mm512_maskz_loadu_epi32(mask, at + taps.offset[0]);
  for (int t = 1; t < taps.count; ++t)
    m = _mm512_max_epu8(m, _mm512_maskz_loadu_epi32(mask, at + taps.offset[t]));
  return m;
}

inline __mmask16 first_dwords(std::ptrdiff_t n) {
  return n >= 16 ? static_cast<__mmask16>(0xffff)
                 : n <= 0 ? static_cast<__mmask16>(0) : static_cast<__mmask16>((1u << n) - 1);
}

}  // namespace

void qu8_maxpool_s1f__avx512(const QPoolProblem& p, const std::uint8_t* input,
                             std::uint8_t* output, int g_begin, int g_end) {
  const QMaxTaps taps = x86::qmax_taps(p);
  const __m512i lo = _mm512_set1_epi8(static_cast<char>(x86::qmax_lo(p)));
  const PoolGeometry& geo = p.geometry;
  const std::ptrdiff_t positions = (geo.in_height - 1) * p.in_row_stride + geo.in_width;
  for (int g = g_begin; g < g_end; ++g) {
    const std::uint8_t* in = input + g * p.in_group_stride * 4;
    std::uint8_t* out = output + g * p.out_group_stride * 4;
    std::ptrdiff_t i = 0;
    for (; i + 32 <= positions; i += 32) {
      const __m512i a = _mm512_max_epu8(max_taps(taps, in + i * 4), lo);
      const __m512i b = _mm512_max_epu8(max_taps(taps, in + i * 4 + 64), lo);
      _mm512_storeu_si512(out + i * 4, a);
      _mm512_storeu_si512(out + i * 4 + 64, b);
    }
    for (; i < positions; i += 16) {
      const __mmask16 mask = first_dwords(positions - i);
      const __m512i a = _mm512_max_epu8(max_taps_masked(taps, in + i * 4, mask), lo);
      _mm512_mask_storeu_epi32(out + i * 4, mask, a);
    }
  }
}

void qu8_maxpool_border__avx512(const QPoolProblem& p, const std::uint8_t* input,
                                std::uint8_t* output, int g_begin, int g_end) {
  const QMaxTaps taps = x86::qmax_taps(p);
  const __m512i lo = _mm512_set1_epi8(static_cast<char>(x86::qmax_lo(p)));
  const PoolGeometry& geo = p.geometry;
  const int ow = geo.out_width;
  const __m512i even = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  for (int g = g_begin; g < g_end; ++g) {
    const std::uint8_t* plane = input + g * p.in_group_stride * 4;
    std::uint8_t* out_plane = output + g * p.out_group_stride * 4;
    for (int oy = 0; oy < geo.out_height; ++oy) {
      const std::uint8_t* row = plane + static_cast<std::ptrdiff_t>(oy) * geo.stride_h * p.in_row_stride * 4;
      std::uint8_t* out = out_plane + static_cast<std::ptrdiff_t>(oy) * p.out_row_stride * 4;
      if (geo.stride_w == 1) {
        for (int ox = 0; ox < ow; ox += 16) {
          const __mmask16 mask = first_dwords(ow - ox);
          __m512i m = mask == 0xffff ? max_taps(taps, row + ox * 4)
                                     : max_taps_masked(taps, row + ox * 4, mask);
          _mm512_mask_storeu_epi32(out + ox * 4, mask, _mm512_max_epu8(m, lo));
        }
      } else {
        for (int ox = 0; ox < ow; ox += 16) {
          const int n = ow - ox < 16 ? ow - ox : 16;
          const std::uint8_t* at = row + ox * 8;
          __m512i a, b;
          if (n == 16 && ox + 16 < ow) {  // the 32nd position is read by the next vector's window
            a = max_taps(taps, at);
            b = max_taps(taps, at + 64);
          } else {
            a = max_taps_masked(taps, at, first_dwords(2 * n - 1));
            b = max_taps_masked(taps, at + 64, first_dwords(2 * n - 1 - 16));
          }
          const __m512i m = _mm512_permutex2var_epi32(a, even, b);
          _mm512_mask_storeu_epi32(out + ox * 4, first_dwords(n), _mm512_max_epu8(m, lo));
        }
      }
    }
  }
}

}  // namespace kernels
}  // namespace gnrt
