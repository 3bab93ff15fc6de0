// Internal hooks between platforms/select.cc and the per-architecture kernel lists.
// Not part of the runtime-facing contract (that is gnrt/kernels.h); only platforms/ includes this.
//
// Each architecture folder that is compiled in defines GNRT_KERNELS_<ARCH> for the gnrt_kernels
// target (see platforms/x86/kernels.cmake, platforms/arm/kernels.cmake) and implements the hooks
// below. select.cc calls the hook first; when it returns false (no optimized kernel fits the
// problem, or the ISA requested is below what the kernels need) select.cc falls back to the
// scalar reference kernels.
#pragma once

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {
namespace internal {

// `isa` is the ISA the caller asked for (normally detect_isa(), possibly lower to force a
// variant in tests/benchmarks). On success the hook fills *kernel completely and returns true.
// The hook owns the sparse/dense decision for its kernels: it may return a dense kernel for a
// sparse problem above its measured density crossover (expanding the CSR in pack) and vice versa.
#if defined(GNRT_KERNELS_X86)
bool select_conv_kernel_x86(const ConvProblem& problem, Isa isa, ConvKernel* kernel);
bool select_fc_kernel_x86(const FcProblem& problem, Isa isa, FcKernel* kernel);
#endif

#if defined(GNRT_KERNELS_ARM)
bool select_conv_kernel_arm(const ConvProblem& problem, Isa isa, ConvKernel* kernel);
bool select_fc_kernel_arm(const FcProblem& problem, Isa isa, FcKernel* kernel);
// Which ISA isa.cc reports on ARM when NEON kernels are compiled in (aarch64: always kNeon;
// armv7: kNeon when getauxval(AT_HWCAP) has HWCAP_NEON). isa.cc implements this itself; the arm
// folder needs nothing here.
#endif

// Pooling hooks: defined (and GNRT_POOL_KERNELS_<ARCH> set) by an architecture folder once it
// has pooling kernels.
#if defined(GNRT_POOL_KERNELS_X86)
bool select_pool_kernel_x86(const PoolProblem& problem, Isa isa, PoolKernel* kernel);
#endif
#if defined(GNRT_POOL_KERNELS_ARM)
bool select_pool_kernel_arm(const PoolProblem& problem, Isa isa, PoolKernel* kernel);
#endif
PoolKernel scalar_pool_kernel(const PoolProblem& problem);

// The scalar reference kernels wrapped as ConvKernel / FcKernel (select.cc). Useful to the
// per-architecture selectors as a fallback for shapes they do not cover.
ConvKernel scalar_conv_kernel(const ConvProblem& problem);
FcKernel scalar_fc_kernel(const FcProblem& problem);

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
