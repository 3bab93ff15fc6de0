// The x86 kernel list (rows in kernels.inc, tables and selection hooks in kernel_list.cc), as
// registered in kernel_registry.h; the tables also drive tests/platforms and bench/kernels.
#pragma once

#include "kernel_registry.h"

namespace gnrt {
namespace kernels {
namespace x86 {

using kernels::ConvKernelInfo;
using kernels::FcKernelInfo;
using kernels::PoolKernelInfo;
using kernels::to_conv_kernel;
using kernels::to_fc_kernel;

// In priority order (kernels.inc).
extern const ConvKernelInfo kConvKernels[];
extern const int kConvKernelCount;
extern const FcKernelInfo kFcKernels[];
extern const int kFcKernelCount;
extern const PoolKernelInfo kPoolKernels[];
extern const int kPoolKernelCount;

// The selection hooks (IsaKernels; measurements in docs/kernels.md "Selection").
double conv_density_crossover(const ConvProblem& problem, Isa isa);
double fc_density_crossover(const FcProblem& problem, Isa isa);
const ConvKernelInfo* preferred_conv_kernel(const ConvProblem& problem, Isa isa);
const PoolKernelInfo* preferred_pool_kernel(const PoolProblem& problem, Isa isa);

// Whether the 3x3 max pools compute a problem in their lane-shift form (pool_impl.h: stride 1
// with pad_left 1, stride 2 with pad_left 0 or 1), which reads no border row
// (PoolKernel::reads_border_rows); other paddings take the tap-offset form, which does.
inline bool maxpool3x3_shift_form(int stride, int pad_left) {
  return stride == 1 ? pad_left == 1 : pad_left == 0 || pad_left == 1;
}

// Whether the selector should try the 256-bit pooling kernels before the 512-bit ones.
bool pool_prefers_256bit(const PoolProblem& problem);

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
