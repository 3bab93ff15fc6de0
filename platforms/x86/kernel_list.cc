// The x86 kernel tables (see kernel_list.h). Compiled without ISA flags.
#include "x86/kernel_list.h"

#include "x86/kernels_x86.h"
#include "x86/fc_packing.h"
#include "x86/sparse_conv_packing.h"

namespace gnrt {
namespace kernels {
namespace x86 {

#define GNRT_SPARSE_CONV(name, isa) \
  {#name, Isa::isa, true, name##_supports, sparse_conv_packed_bytes, sparse_conv_pack, name}
#define GNRT_DENSE_CONV(name, isa) \
  {#name, Isa::isa, false, name##_supports, name##_packed_bytes, name##_pack, name}

// The selector takes the first row the requested ISA allows. The sparse kernels are bound by
// unaligned loads, not FMAs: on the development machine (Zen 4, whose 512-bit loads that cross
// a cache line cost twice) the 256-bit sparse kernels beat the 512-bit ones by about 5% over
// GoogLeNet (docs/kernels.md), so they come first; the 512-bit ones stay in the list, tested
// and benchmarked. The dense kernels are FMA bound and prefer AVX-512.
const ConvKernelInfo kConvKernels[] = {
    GNRT_SPARSE_CONV(f32_conv2d_sparse_s1_64x1__avx2, kAvx2),
    GNRT_SPARSE_CONV(f32_conv2d_sparse_s2_64x1__avx2, kAvx2),
    GNRT_SPARSE_CONV(f32_conv2d_sparse_s1_128x1__avx512, kAvx512),
    GNRT_SPARSE_CONV(f32_conv2d_sparse_s2_128x1__avx512, kAvx512),
    GNRT_DENSE_CONV(f32_conv2d_dense_s1_48x8__avx512, kAvx512),
    GNRT_DENSE_CONV(f32_conv2d_dense_s1_16x4__avx2, kAvx2),
};
const int kConvKernelCount = static_cast<int>(sizeof(kConvKernels) / sizeof(kConvKernels[0]));

const FcKernelInfo kFcKernels[] = {
    {"f32_fc_sparse_16x1__avx512", Isa::kAvx512, true, sparse_fc_packed_bytes, sparse_fc_pack,
     f32_fc_sparse_16x1__avx512},
    {"f32_fc_dense_4x16__avx512", Isa::kAvx512, false, dense_fc_packed_bytes, dense_fc_pack,
     f32_fc_dense_4x16__avx512},
    {"f32_fc_sparse_8x1__avx2", Isa::kAvx2, true, sparse_fc_packed_bytes, sparse_fc_pack,
     f32_fc_sparse_8x1__avx2},
    {"f32_fc_dense_4x8__avx2", Isa::kAvx2, false, dense_fc_packed_bytes, dense_fc_pack,
     f32_fc_dense_4x8__avx2},
};
const int kFcKernelCount = static_cast<int>(sizeof(kFcKernels) / sizeof(kFcKernels[0]));

// Measured with `bench_kernels --crossover` (docs/kernels.md): sparse/dense time ratio 1 at
// density ~0.31 for 1x1 layers and ~0.43-0.53 for 3x3 / 5x5 layers.
double conv_density_crossover(const ConvProblem& problem, Isa) {
  const ConvGeometry& g = problem.geometry;
  return g.kernel_h * g.kernel_w == 1 ? 0.3 : 0.45;
}
// FC (GoogLeNet's 1024 -> 1000): the gather-based SpMV ties the dense kernel at density ~0.10.
double fc_density_crossover(const FcProblem&, Isa) { return 0.1; }

ConvKernel to_conv_kernel(const ConvKernelInfo& info, const ConvProblem& problem) {
  ConvKernel kernel{};
  kernel.name = info.name;
  kernel.sparse = info.sparse;
  kernel.packed_bytes = info.packed_bytes(problem);
  kernel.pack = info.pack;
  kernel.run = info.run;
  return kernel;
}

FcKernel to_fc_kernel(const FcKernelInfo& info, const FcProblem& problem) {
  FcKernel kernel{};
  kernel.name = info.name;
  kernel.sparse = info.sparse;
  kernel.packed_bytes = info.packed_bytes(problem);
  kernel.pack = info.pack;
  kernel.run = info.run;
  return kernel;
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
