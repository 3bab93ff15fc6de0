// Declarations of the x86 microkernels, from their rows in kernels.inc (one file each, named
// after the function with '_' -> '-'). Each sparse convolution packs with sparse_conv_packing.h,
// each dense one with its own name##_pack (dense_conv_packing.h).
#pragma once

#include <cstddef>

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {
namespace x86 {

#define GNRT_X86_DECLARE_PACK_SPARSE(name)
#define GNRT_X86_DECLARE_PACK_SPARSE_PHASE(name)
#define GNRT_X86_DECLARE_PACK_SPARSE_SHIFT(name)
#define GNRT_X86_DECLARE_PACK_SPARSE_PHASE_SHIFT(name)
#define GNRT_X86_DECLARE_PACK_DENSE(name)                      \
  std::size_t name##_packed_bytes(const ConvProblem& problem); \
  void name##_pack(const ConvProblem& problem, void* packed);

#define GNRT_CONV_KERNEL(name, level, packing)                                                 \
  void name(const ConvProblem& problem, const void* packed, const float* input, float* output, \
            int oc_begin, int oc_end);                                                         \
  bool name##_supports(const ConvProblem& problem);                                            \
  GNRT_X86_DECLARE_PACK_##packing(name)
#define GNRT_FC_KERNEL(name, level, packing)                                                 \
  void name(const FcProblem& problem, const void* packed, const float* input, float* output, \
            int o_begin, int o_end);
#define GNRT_POOL_KERNEL(name, level, zeroes_row_gaps)                                  \
  void name(const PoolProblem& problem, const float* input, float* output, int c_begin, \
            int c_end);                                                                 \
  bool name##_supports(const PoolProblem& problem);
#include "x86/kernels.inc"
#undef GNRT_X86_DECLARE_PACK_SPARSE
#undef GNRT_X86_DECLARE_PACK_SPARSE_PHASE
#undef GNRT_X86_DECLARE_PACK_SPARSE_SHIFT
#undef GNRT_X86_DECLARE_PACK_SPARSE_PHASE_SHIFT
#undef GNRT_X86_DECLARE_PACK_DENSE

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
