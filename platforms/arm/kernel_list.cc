// The NEON kernel tables (rows in kernels.inc) and their selection hooks. Compiled without NEON
// flags on armv7 (plan-time code on a CPU that may lack NEON).
#include "arm/kernel_list.h"

#include "arm/neon_kernels.h"
#include "arm/pool_checks.h"
#include "arm/sparse_pack.h"

namespace gnrt {
namespace kernels {
namespace arm {
namespace {

#define GNRT_ARM_CONV_PACK_SPARSE(name) \
  conv_sparse_supported, conv_sparse_packed_bytes, conv_sparse_pack
#define GNRT_ARM_FC_PACK_SPARSE(name) fc_sparse_supported, fc_sparse_packed_bytes, fc_sparse_pack
#define GNRT_ARM_FC_PACK_OWN(name) name##_supports, name##_packed_bytes, name##_pack

bool maxpool3x3s1_supported(const PoolProblem& problem) { return maxpool3x3_supported(problem, 1); }
bool maxpool3x3s2_supported(const PoolProblem& problem) { return maxpool3x3_supported(problem, 2); }

// The NEON kernels iterate over nonzeros but also take dense weights (packed as their nonzero
// entries), and the only dense alternative on ARM is the scalar reference, which a NEON kernel
// beats at any density: a crossover above every density.
double no_crossover_conv(const ConvProblem&, Isa) { return 2.0; }
double no_crossover_fc(const FcProblem&, Isa) { return 2.0; }

}  // namespace

const ConvKernelInfo kConvKernels[] = {
#define GNRT_CONV_KERNEL(name, level, packing) \
  {#name, GNRT_LEVEL_##level, true, GNRT_ARM_CONV_PACK_##packing(name), name, false},
#include "arm/kernels.inc"
};

const FcKernelInfo kFcKernels[] = {
#define GNRT_FC_KERNEL(name, level, packing) \
  {#name, GNRT_LEVEL_##level, GNRT_ARM_FC_SPARSE_##packing, GNRT_ARM_FC_PACK_##packing(name), name},
#define GNRT_ARM_FC_SPARSE_SPARSE true
#define GNRT_ARM_FC_SPARSE_OWN false
#include "arm/kernels.inc"
};

const PoolKernelInfo kPoolKernels[] = {
#define GNRT_POOL_KERNEL(name, level, supports) \
  {#name, GNRT_LEVEL_##level, supports, name, false, nullptr},
#include "arm/kernels.inc"
};

const QConvKernelInfo kQConvKernels[] = {
#define GNRT_QCONV_KERNEL(name, level) {#name, GNRT_LEVEL_##level, name##_supports, name},
#include "arm/kernels.inc"
};

}  // namespace arm

const IsaKernels& arm_kernels() {
  static const IsaKernels family{table_of(arm::kConvKernels),
                                 table_of(arm::kFcKernels),
                                 table_of(arm::kPoolKernels),
                                 arm::no_crossover_conv,
                                 arm::no_crossover_fc,
                                 nullptr,
                                 nullptr,
                                 table_of(arm::kQConvKernels),
                                 {}};  // uint8 pools: the scalar table's rows
  return family;
}

}  // namespace kernels
}  // namespace gnrt
