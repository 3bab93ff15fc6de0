// int8 sparse convolution, stride 1, A64 with the dot-product extension (ARMv8.2 DotProd, this
// file alone compiled with -march=armv8.2-a+dotprod; selected only when AT_HWCAP has ASIMDDP):
// qs8_s1f_neon_impl.h with one SDOT per 4 positions and entry. Tiles of 32 positions (8 vectors)
// x the 4 channels of a group: per entry one 64-byte LD1 pair, 8 EOR, 8 SDOT.
//
// SDOT multiplies signed by signed bytes; the activations are unsigned. They are flipped to
// signed with a XOR of 0x80 (a ^ 0x80 read as int8 is a - 128), and the difference is folded
// into the starting value once per group and channel:
//   sum w * a = sum w * (a - 128) + 128 * sum w,   start = bias + 128 * (sum of the row's weights)
// exactly in int32 (|128 * sum w| stays far below 2^31 for any layer that fits the format).
#include <arm_neon.h>

#include "arm/neon_kernels.h"
#include "arm/qs8_s1f_neon_impl.h"

namespace gnrt {
namespace kernels {

namespace {

struct SdotDot {
  struct Acc {
    int32x4_t v;
  };
  using Weights = int8x16_t;
  static std::int32_t start(const QPackedView& v, int o) {
    std::int32_t sum = 0;
    for (std::uint32_t k = v.row_begin[o]; k < v.row_begin[o + 1]; ++k) {
      const std::uint32_t w4 = static_cast<std::uint32_t>(v.entries[k].w4);
      for (int b = 0; b < 4; ++b) sum += static_cast<std::int8_t>((w4 >> (8 * b)) & 0xff);
    }
    return v.bias[o] + 128 * sum;
  }
  static void init(Acc& a, std::int32_t start) { a.v = vdupq_n_s32(start); }
  static Weights prepare(std::int32_t w4) { return vreinterpretq_s8_s32(vdupq_n_s32(w4)); }
  static void add(Acc& a, uint8x16_t bytes, Weights w) {
    const int8x16_t s = vreinterpretq_s8_u8(veorq_u8(bytes, vdupq_n_u8(0x80)));
    a.v = vdotq_s32(a.v, s, w);
  }
  static int32x4_t finish(const Acc& a, std::int32_t) { return a.v; }
};

}  // namespace

bool qs8_conv2d_sparse_s1f_32x4__neondot_aarch64_supports(const QConvProblem& p) {
  return qconv_s1_flat_fits(p);
}

void qs8_conv2d_sparse_s1f_32x4__neondot_aarch64(const QConvProblem& p, const void* packed,
                                                  const std::uint8_t* input, std::uint8_t* output,
                                                  int oc_begin, int oc_end) {
  s1f_neon::run<SdotDot, 8>(p, packed, input, output, oc_begin, oc_end);
}

}  // namespace kernels
}  // namespace gnrt
