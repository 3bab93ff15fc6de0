// NEON kernels of platforms/arm/ and their list. Internal to gnrt_kernels and its tests; the
// runtime reaches them only through select_conv_kernel / select_fc_kernel (select.cc calls the
// hooks of select_internal.h, implemented in select_arm.cc).
//
// Every kernel here uses the packed formats of sparse_pack.h (the pack functions are shared)
// and the layout contract of gnrt/kernels.h: stride-1 convolutions with equal input/output row
// strides are computed over the padded width, writing into output borders; other convolutions
// row by row. Kernel names: f32_<op>_sparse[_<MR>x<NR>]__<isa>_<arch> (MR output positions x
// NR output channels per tile), one file each, f32-<op>-sparse[-<MR>x<NR>]-<isa>-<arch>.cc.
#pragma once

#include <cstddef>

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {

#if defined(__aarch64__)
// A64 Advanced SIMD, fused multiply-add (always present on A64).
void f32_conv2d_sparse_32x1__neonfma_aarch64(const ConvProblem& problem, const void* packed,
                                             const float* input, float* output, int oc_begin,
                                             int oc_end);
void f32_fc_sparse__neonfma_aarch64(const FcProblem& problem, const void* packed,
                                    const float* input, float* output, int o_begin, int o_end);
#elif defined(__arm__)
// ARMv7 NEON without fused multiply-add (VMLA: rounded product, then add).
void f32_conv2d_sparse_16x1__neon_armv7(const ConvProblem& problem, const void* packed,
                                        const float* input, float* output, int oc_begin,
                                        int oc_end);
// ARMv7 NEON with VFPv4 fused multiply-add (Cortex-A7/A15 and later); needs HWCAP_VFPv4.
void f32_conv2d_sparse_16x1__neonfma_armv7(const ConvProblem& problem, const void* packed,
                                           const float* input, float* output, int oc_begin,
                                           int oc_end);
void f32_fc_sparse__neon_armv7(const FcProblem& problem, const void* packed, const float* input,
                               float* output, int o_begin, int o_end);
#endif

// Pooling, NEON without FMA (same code for aarch64 and armv7). Max pooling needs
// PoolProblem::input_nonnegative (pool_neon_impl.h).
void f32_maxpool2d_3x3s1__neon(const PoolProblem& problem, const float* input, float* output,
                               int c_begin, int c_end);
void f32_maxpool2d_3x3s2__neon(const PoolProblem& problem, const float* input, float* output,
                               int c_begin, int c_end);
void f32_global_avgpool__neon(const PoolProblem& problem, const float* input, float* output,
                              int c_begin, int c_end);

namespace arm {

// The kernel lists, best first. One entry per kernel file; selection and tests iterate them.
struct ConvVariant {
  ConvKernel kernel;    // packed_bytes is 0 here: it depends on the problem
  bool (*available)();  // whether this CPU runs it (AT_HWCAP on armv7)
};
struct FcVariant {
  FcKernel kernel;
  bool (*available)();
};

struct PoolVariant {
  PoolKernel kernel;
  bool (*supports)(const PoolProblem& problem);  // the problems this kernel handles
  bool (*available)();
};

const ConvVariant* conv_variants(std::size_t* count);
const FcVariant* fc_variants(std::size_t* count);
const PoolVariant* pool_variants(std::size_t* count);

// Fills *kernel with the variant and the problem's packed_bytes and returns true, or returns
// false when the problem is outside what the NEON kernels handle (conv_sparse_supported /
// fc_sparse_supported in sparse_pack.h).
bool bind_conv_variant(const ConvVariant& variant, const ConvProblem& problem, ConvKernel* kernel);
bool bind_fc_variant(const FcVariant& variant, const FcProblem& problem, FcKernel* kernel);

}  // namespace arm
}  // namespace kernels
}  // namespace gnrt
