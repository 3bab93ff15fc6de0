// Helpers shared by the kernel lists and select.cc. Not part of the runtime-facing contract
// (that is gnrt/kernels.h); only platforms/ and the kernel tests include this. The lists and the
// selection algorithm are in kernel_registry.h.
#pragma once

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {
namespace internal {

// Density (nonzeros / dense weight count) of a problem, in [0, 1].
double conv_density(const ConvProblem& problem);
double fc_density(const FcProblem& problem);

// Helpers for pack() implementations: fill `dense` (OIHW, out_channels * in_channels/groups *
// kernel_h * kernel_w floats) from whichever weight form the problem carries. Likewise for FC.
void expand_conv_weights(const ConvProblem& problem, float* dense);
void expand_fc_weights(const FcProblem& problem, float* dense);

// Round up to 64 bytes (packed memory regions are laid out in 64-byte aligned blocks).
constexpr std::size_t align64(std::size_t bytes) { return (bytes + 63) & ~std::size_t{63}; }

}  // namespace internal
}  // namespace kernels
}  // namespace gnrt
