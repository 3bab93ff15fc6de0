// The NEON kernel list (rows in kernels.inc, tables in kernel_list.cc), as registered in
// kernel_registry.h.
#pragma once

#include "kernel_registry.h"

namespace gnrt {
namespace kernels {
namespace arm {

// In priority order (kernels.inc).
extern const ConvKernelInfo kConvKernels[];
extern const FcKernelInfo kFcKernels[];
extern const PoolKernelInfo kPoolKernels[];
extern const QConvKernelInfo kQConvKernels[];

}  // namespace arm
}  // namespace kernels
}  // namespace gnrt
