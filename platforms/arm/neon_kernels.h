// Declarations of the NEON kernels of platforms/arm/, from their rows in kernels.inc. Internal to
// gnrt_kernels and its tests; the runtime reaches them only through the selector.
//
// Every kernel here uses the packed formats of sparse_pack.h (the pack functions are shared)
// and the layout contract of gnrt/kernels.h: stride-1 convolutions with equal input/output row
// strides are computed over the padded width, writing into output borders; other convolutions
// row by row. Names: kernel_registry.h. Max pooling needs PoolProblem::input_nonnegative
// (pool_neon_impl.h).
#pragma once

#include <cstddef>

#include "gnrt/kernels.h"
#include "gnrt/qkernels.h"

namespace gnrt {
namespace kernels {

#define GNRT_ARM_DECLARE_PACK_SPARSE(name)
#define GNRT_ARM_DECLARE_PACK_OWN(name)                      \
  bool name##_supports(const FcProblem& problem);            \
  std::size_t name##_packed_bytes(const FcProblem& problem); \
  void name##_pack(const FcProblem& problem, void* packed);

#define GNRT_CONV_KERNEL(name, level, packing)                                                 \
  void name(const ConvProblem& problem, const void* packed, const float* input, float* output, \
            int oc_begin, int oc_end);
#define GNRT_FC_KERNEL(name, level, packing)                                                 \
  void name(const FcProblem& problem, const void* packed, const float* input, float* output, \
            int o_begin, int o_end);                                                         \
  GNRT_ARM_DECLARE_PACK_##packing(name)
#define GNRT_POOL_KERNEL(name, level, supports) \
  void name(const PoolProblem& problem, const float* input, float* output, int c_begin, int c_end);
#define GNRT_QCONV_KERNEL(name, level)                                                         \
  bool name##_supports(const QConvProblem& problem);                                           \
  void name(const QConvProblem& problem, const void* packed, const std::uint8_t* input,        \
            std::uint8_t* output, int oc_begin, int oc_end);
#include "arm/kernels.inc"
#undef GNRT_ARM_DECLARE_PACK_SPARSE
#undef GNRT_ARM_DECLARE_PACK_OWN

}  // namespace kernels
}  // namespace gnrt
