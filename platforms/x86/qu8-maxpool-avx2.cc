// uint8 max pooling, AVX2: as qu8-maxpool-avx512.cc with 8 positions (32 bytes) per vector and a
// scalar tail (AVX2 has no masked byte loads), so nothing outside the windows is read.
#include <immintrin.h>

#include "x86/qu8_kernels.h"
#include "x86/qu8_maxpool_impl.h"

namespace gnrt {
namespace kernels {

namespace {

using x86::QMaxTaps;

inline __m256i max_taps(const QMaxTaps& taps, const std::uint8_t* at) {
  __m256i m = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at + taps.offset[0]));
  for (int t = 1; t < taps.count; ++t)
    m = _mm256_max_epu8(m, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(at + taps.offset[t])));
  return m;
}

inline void store(std::uint8_t* at, __m256i v) {
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(at), v);
}

}  // namespace

void qu8_maxpool_s1f__avx2(const QPoolProblem& p, const std::uint8_t* input, std::uint8_t* output,
                           int g_begin, int g_end) {
  const QMaxTaps taps = x86::qmax_taps(p);
  const std::uint8_t lo8 = x86::qmax_lo(p);
  const __m256i lo = _mm256_set1_epi8(static_cast<char>(lo8));
  const PoolGeometry& geo = p.geometry;
  const std::ptrdiff_t positions = (geo.in_height - 1) * p.in_row_stride + geo.in_width;
  for (int g = g_begin; g < g_end; ++g) {
    const std::uint8_t* in = input + g * p.in_group_stride * 4;
    std::uint8_t* out = output + g * p.out_group_stride * 4;
    std::ptrdiff_t i = 0;
    for (; i + 16 <= positions; i += 16) {
      const __m256i a = _mm256_max_epu8(max_taps(taps, in + i * 4), lo);
      const __m256i b = _mm256_max_epu8(max_taps(taps, in + i * 4 + 32), lo);
      store(out + i * 4, a);
      store(out + i * 4 + 32, b);
    }
    for (; i + 8 <= positions; i += 8) store(out + i * 4, _mm256_max_epu8(max_taps(taps, in + i * 4), lo));
    for (; i < positions; ++i) x86::qmax_position(taps, in + i * 4, lo8, out + i * 4);
  }
}

void qu8_maxpool_border__avx2(const QPoolProblem& p, const std::uint8_t* input,
                              std::uint8_t* output, int g_begin, int g_end) {
  const QMaxTaps taps = x86::qmax_taps(p);
  const std::uint8_t lo8 = x86::qmax_lo(p);
  const __m256i lo = _mm256_set1_epi8(static_cast<char>(lo8));
  const PoolGeometry& geo = p.geometry;
  const int ow = geo.out_width, sw = geo.stride_w;
  // Stride 2: a full vector of 8 outputs also reads the position after its last window's anchor,
  // inside the border when another output follows or the border reaches it.
  const std::ptrdiff_t last_x_read = static_cast<std::ptrdiff_t>(geo.in_width) + p.in_pad - 1;
  const __m256i evens = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
  for (int g = g_begin; g < g_end; ++g) {
    const std::uint8_t* plane = input + g * p.in_group_stride * 4;
    std::uint8_t* out_plane = output + g * p.out_group_stride * 4;
    for (int oy = 0; oy < geo.out_height; ++oy) {
      const std::uint8_t* row = plane + static_cast<std::ptrdiff_t>(oy) * geo.stride_h * p.in_row_stride * 4;
      std::uint8_t* out = out_plane + static_cast<std::ptrdiff_t>(oy) * p.out_row_stride * 4;
      int ox = 0;
      if (sw == 1) {
        for (; ox + 8 <= ow; ox += 8) store(out + ox * 4, _mm256_max_epu8(max_taps(taps, row + ox * 4), lo));
      } else {
        for (; ox + 8 <= ow; ox += 8) {
          if (2 * ox + 15 - geo.pad_left + geo.kernel_w - 1 > last_x_read) break;
          const __m256i a = _mm256_permutevar8x32_epi32(max_taps(taps, row + ox * 8), evens);
          const __m256i b = _mm256_permutevar8x32_epi32(max_taps(taps, row + ox * 8 + 32), evens);
          store(out + ox * 4, _mm256_max_epu8(_mm256_permute2x128_si256(a, b, 0x20), lo));
        }
      }
      for (; ox < ow; ++ox) x86::qmax_position(taps, row + ox * sw * 4, lo8, out + ox * 4);
    }
  }
}

}  // namespace kernels
}  // namespace gnrt
