// int8 sparse convolution, stride 1, AVX-VNNI (256-bit `vpdpbusd`, VEX encoded: Alder Lake and
// later cores without AVX-512, and Sapphire Rapids): qs8_s1f_256_impl.h with one dot-product
// instruction per vector and entry.
#include "x86/qs8_kernels.h"
#include "x86/qs8_s1f_256_impl.h"

namespace gnrt {
namespace kernels {

namespace {

struct VnniDot {
  using Weights = __m256i;
  static Weights prepare(std::int32_t w4) { return _mm256_set1_epi32(w4); }
  static __m256i dot(__m256i acc, __m256i a, Weights w) { return _mm256_dpbusd_avx_epi32(acc, a, w); }
};

}  // namespace

bool qs8_conv2d_sparse_s1f_32x4__avxvnni_supports(const QConvProblem& p) {
  return qconv_s1_flat_fits(p);
}

void qs8_conv2d_sparse_s1f_32x4__avxvnni(const QConvProblem& p, const void* packed,
                                         const std::uint8_t* input, std::uint8_t* output,
                                         int oc_begin, int oc_end) {
  s1f256::run<VnniDot>(p, packed, input, output, oc_begin, oc_end);
}

}  // namespace kernels
}  // namespace gnrt
