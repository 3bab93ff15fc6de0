// int8 sparse convolution, stride 1, AVX2 without VNNI: qs8_s1f_256_impl.h with the dot product
// of 4 unsigned activation bytes and 4 signed weights per lane done exactly in 16-bit halves:
// bytes 0 and 2, and 1 and 3, widened to int16 (activations 0..255, weights -127..127) and
// multiplied pairwise into int32 by `vpmaddwd` (no saturation: |sum| <= 2 * 255 * 127).
// `vpmaddubsw` would be one instruction fewer but saturates at 32767 (255 * 127 * 2 = 64770).
#include "x86/qs8_kernels.h"
#include "x86/qs8_s1f_256_impl.h"

namespace gnrt {
namespace kernels {

namespace {

struct MaddDot {
  struct Weights {
    __m256i even, odd;  // int16 pairs (w0, w2) and (w1, w3) in every lane
  };
  static Weights prepare(std::int32_t w4) {
    const std::uint32_t u = static_cast<std::uint32_t>(w4);
    auto s16 = [](std::uint32_t byte) {
      return static_cast<std::uint32_t>(static_cast<std::uint16_t>(
          static_cast<std::int16_t>(static_cast<std::int8_t>(byte & 0xff))));
    };
    const std::uint32_t even = s16(u) | (s16(u >> 16) << 16);
    const std::uint32_t odd = s16(u >> 8) | (s16(u >> 24) << 16);
    return {_mm256_set1_epi32(static_cast<int>(even)), _mm256_set1_epi32(static_cast<int>(odd))};
  }
  static __m256i dot(__m256i acc, __m256i a, const Weights& w) {
    const __m256i low = _mm256_set1_epi16(0x00ff);
    const __m256i a_even = _mm256_and_si256(a, low);                       // bytes 0, 2
    const __m256i a_odd = _mm256_and_si256(_mm256_srli_epi16(a, 8), low);  // bytes 1, 3
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(a_even, w.even));
    return _mm256_add_epi32(acc, _mm256_madd_epi16(a_odd, w.odd));
  }
};

}  // namespace

bool qs8_conv2d_sparse_s1f_32x4__avx2_supports(const QConvProblem& p) {
  return qconv_s1_flat_fits(p);
}

void qs8_conv2d_sparse_s1f_32x4__avx2(const QConvProblem& p, const void* packed,
                                      const std::uint8_t* input, std::uint8_t* output,
                                      int oc_begin, int oc_end) {
  s1f256::run<MaddDot>(p, packed, input, output, oc_begin, oc_end);
}

}  // namespace kernels
}  // namespace gnrt
