// The NEON kernel lists and the selection hooks platforms/select.cc calls on ARM builds.
#include <cstddef>

#include "arm/neon_kernels.h"
#include "arm/pool_checks.h"
#include "arm/sparse_pack.h"
#include "select_internal.h"

#if defined(__arm__) && !defined(__aarch64__)
#include <sys/auxv.h>
#endif

namespace gnrt {
namespace kernels {
namespace arm {
namespace {

[[maybe_unused]] bool always() { return true; }

#if defined(__arm__) && !defined(__aarch64__)
// Linux AArch32 hwcap bits (asm/hwcap.h); spelled out so that the file does not depend on the
// kernel headers of the sysroot.
constexpr unsigned long kHwcapNeon = 1ul << 12;
constexpr unsigned long kHwcapVfpv4 = 1ul << 16;

bool has_neon() { return (getauxval(AT_HWCAP) & kHwcapNeon) != 0; }
bool has_neon_vfpv4() {
  const unsigned long hwcap = getauxval(AT_HWCAP);
  return (hwcap & kHwcapNeon) != 0 && (hwcap & kHwcapVfpv4) != 0;
}
#endif

void pack_conv(const ConvProblem& problem, void* packed) { conv_sparse_pack(problem, packed); }
void pack_fc(const FcProblem& problem, void* packed) { fc_sparse_pack(problem, packed); }

// Best first: selection takes the first available entry.
const ConvVariant kConvVariants[] = {
#if defined(__aarch64__)
    {{"f32_conv2d_sparse_32x1__neonfma_aarch64", true, 0, pack_conv,
      f32_conv2d_sparse_32x1__neonfma_aarch64},
     always},
#elif defined(__arm__)
    {{"f32_conv2d_sparse_16x1__neonfma_armv7", true, 0, pack_conv,
      f32_conv2d_sparse_16x1__neonfma_armv7},
     has_neon_vfpv4},
    {{"f32_conv2d_sparse_16x1__neon_armv7", true, 0, pack_conv, f32_conv2d_sparse_16x1__neon_armv7},
     has_neon},
#endif
};

const FcVariant kFcVariants[] = {
#if defined(__aarch64__)
    {{"f32_fc_sparse__neonfma_aarch64", true, 0, pack_fc, f32_fc_sparse__neonfma_aarch64}, always},
#elif defined(__arm__)
    {{"f32_fc_sparse__neon_armv7", true, 0, pack_fc, f32_fc_sparse__neon_armv7}, has_neon},
#endif
};

bool maxpool3x3s1_supported(const PoolProblem& problem) { return maxpool3x3_supported(problem, 1); }
bool maxpool3x3s2_supported(const PoolProblem& problem) { return maxpool3x3_supported(problem, 2); }

// NEON without FMA: always on A64, per AT_HWCAP on armv7.
bool neon_baseline() {
#if defined(__aarch64__)
  return true;
#else
  return has_neon();
#endif
}

const PoolVariant kPoolVariants[] = {
    {{"f32_maxpool2d_3x3s1__neon", f32_maxpool2d_3x3s1__neon},
     maxpool3x3s1_supported,
     neon_baseline},
    {{"f32_maxpool2d_3x3s2__neon", f32_maxpool2d_3x3s2__neon},
     maxpool3x3s2_supported,
     neon_baseline},
    {{"f32_global_avgpool__neon", f32_global_avgpool__neon},
     global_avgpool_supported,
     neon_baseline},
};

}  // namespace

const ConvVariant* conv_variants(std::size_t* count) {
  *count = sizeof kConvVariants / sizeof kConvVariants[0];
  return kConvVariants;
}

const FcVariant* fc_variants(std::size_t* count) {
  *count = sizeof kFcVariants / sizeof kFcVariants[0];
  return kFcVariants;
}

const PoolVariant* pool_variants(std::size_t* count) {
  *count = sizeof kPoolVariants / sizeof kPoolVariants[0];
  return kPoolVariants;
}

bool bind_conv_variant(const ConvVariant& variant, const ConvProblem& problem, ConvKernel* kernel) {
  if (!conv_sparse_supported(problem)) return false;
  *kernel = variant.kernel;
  kernel->packed_bytes = conv_sparse_packed_bytes(problem);
  return true;
}

bool bind_fc_variant(const FcVariant& variant, const FcProblem& problem, FcKernel* kernel) {
  if (!fc_sparse_supported(problem)) return false;
  *kernel = variant.kernel;
  kernel->packed_bytes = fc_sparse_packed_bytes(problem);
  return true;
}

}  // namespace arm

namespace internal {

// The NEON kernels iterate over nonzeros but also take dense weights (packed as their nonzero
// entries). Without an ARM board there is no measured sparse/dense crossover, and the only
// dense alternative on ARM is the scalar reference, which a NEON kernel beats at any density;
// so every problem the kernels support gets one, whatever its density.
bool select_conv_kernel_arm(const ConvProblem& problem, Isa isa, ConvKernel* kernel) {
  if (isa != Isa::kNeon) return false;
  std::size_t count = 0;
  const arm::ConvVariant* variants = arm::conv_variants(&count);
  for (std::size_t i = 0; i < count; ++i)
    if (variants[i].available()) return arm::bind_conv_variant(variants[i], problem, kernel);
  return false;
}

bool select_fc_kernel_arm(const FcProblem& problem, Isa isa, FcKernel* kernel) {
  if (isa != Isa::kNeon) return false;
  std::size_t count = 0;
  const arm::FcVariant* variants = arm::fc_variants(&count);
  for (std::size_t i = 0; i < count; ++i)
    if (variants[i].available()) return arm::bind_fc_variant(variants[i], problem, kernel);
  return false;
}

bool select_pool_kernel_arm(const PoolProblem& problem, Isa isa, PoolKernel* kernel) {
  if (isa != Isa::kNeon) return false;
  std::size_t count = 0;
  const arm::PoolVariant* variants = arm::pool_variants(&count);
  for (std::size_t i = 0; i < count; ++i) {
    if (variants[i].available() && variants[i].supports(problem)) {
      *kernel = variants[i].kernel;
      return true;
    }
  }
  return false;
}

}  // namespace internal
}  // namespace kernels
}  // namespace gnrt
