// Packed form of the x86 dense direct convolutions (groups == 1). Regions, 64-byte aligned:
//
//   float    bias[blocks * NR]                       zeros past out_channels / without bias
//   int32_t  offsets[taps]                           input offset in floats of tap
//                                                    (ic, ky, kx), as in sparse_conv_packing.h
//   float    weights[blocks][taps][NR]               NR consecutive output channels per tap,
//                                                    zero-padded past out_channels
//
// with taps = in_channels * kernel_h * kernel_w and blocks = ceil(out_channels / NR). The kernel
// loads each input vector once per tap and multiplies it into NR output channels.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gnrt/kernels.h"
#include "select_internal.h"

namespace gnrt {
namespace kernels {
namespace x86 {

struct DenseConvPacked {
  const float* bias;
  const std::int32_t* offsets;
  const float* weights;
  int taps;
  int blocks;
};

inline DenseConvPacked dense_conv_regions(const ConvGeometry& g, int nr, const void* packed) {
  const auto* base = static_cast<const char*>(packed);
  const int taps = g.in_channels * g.kernel_h * g.kernel_w;
  const int blocks = (g.out_channels + nr - 1) / nr;
  const std::size_t offsets =
      internal::align64(static_cast<std::size_t>(blocks) * nr * sizeof(float));
  const std::size_t weights = offsets + internal::align64(static_cast<std::size_t>(taps) * 4);
  return {reinterpret_cast<const float*>(base),
          reinterpret_cast<const std::int32_t*>(base + offsets),
          reinterpret_cast<const float*>(base + weights), taps, blocks};
}

std::size_t dense_conv_packed_bytes(const ConvProblem& problem, int nr);
void dense_conv_pack(const ConvProblem& problem, int nr, void* packed);
bool dense_conv_supported(const ConvProblem& problem);

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
