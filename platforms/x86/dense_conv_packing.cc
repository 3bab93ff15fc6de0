// Packing for the x86 dense direct convolutions (plan time, no ISA flags).
#include "x86/dense_conv_packing.h"

#include <vector>

#include "x86/sparse_conv_packing.h"

namespace gnrt {
namespace kernels {
namespace x86 {

bool dense_conv_supported(const ConvProblem& p) {
  return p.geometry.groups == 1 && sparse_conv_border_ok(p);
}

std::size_t dense_conv_packed_bytes(const ConvProblem& p, int nr) {
  const ConvGeometry& g = p.geometry;
  const std::size_t taps = static_cast<std::size_t>(g.in_channels) * g.kernel_h * g.kernel_w;
  const std::size_t blocks = static_cast<std::size_t>((g.out_channels + nr - 1) / nr);
  return internal::align64(blocks * nr * sizeof(float)) + internal::align64(taps * 4) +
         internal::align64(blocks * taps * nr * sizeof(float));
}

void dense_conv_pack(const ConvProblem& p, int nr, void* packed) {
  const ConvGeometry& g = p.geometry;
  const DenseConvPacked r = dense_conv_regions(g, nr, packed);
  auto* bias = const_cast<float*>(r.bias);
  auto* offsets = const_cast<std::int32_t*>(r.offsets);
  auto* weights = const_cast<float*>(r.weights);
  for (int o = 0; o < r.blocks * nr; ++o) {
    bias[o] = (p.bias != nullptr && o < g.out_channels) ? p.bias[o] : 0.0f;
  }
  int tap = 0;
  for (int ic = 0; ic < g.in_channels; ++ic)
    for (int ky = 0; ky < g.kernel_h; ++ky)
      for (int kx = 0; kx < g.kernel_w; ++kx) {
        offsets[tap++] = static_cast<std::int32_t>(
            ic * p.in_channel_stride +
            static_cast<std::ptrdiff_t>(ky * g.dilation_h - g.pad_top) * p.in_row_stride +
            (kx * g.dilation_w - g.pad_left));
      }
  std::vector<float> dense(static_cast<std::size_t>(g.out_channels) * r.taps);
  internal::expand_conv_weights(p, dense.data());
  for (int b = 0; b < r.blocks; ++b)
    for (int t = 0; t < r.taps; ++t)
      for (int j = 0; j < nr; ++j) {
        const int o = b * nr + j;
        weights[(static_cast<std::size_t>(b) * r.taps + t) * nr + j] =
            o < g.out_channels ? dense[static_cast<std::size_t>(o) * r.taps + t] : 0.0f;
      }
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
