// The x86 kernel tables (see kernel_list.h). Compiled without ISA flags.
#include "x86/kernel_list.h"

#include "x86/kernels_x86.h"
#include "x86/sparse_conv_packing.h"

namespace gnrt {
namespace kernels {
namespace x86 {

const ConvKernelInfo kConvKernels[] = {
    {"f32_conv2d_sparse_s1_128x1__avx512", Isa::kAvx512, true,
     f32_conv2d_sparse_s1_128x1__avx512_supports, sparse_conv_packed_bytes, sparse_conv_pack,
     f32_conv2d_sparse_s1_128x1__avx512},
};
const int kConvKernelCount = static_cast<int>(sizeof(kConvKernels) / sizeof(kConvKernels[0]));

const FcKernelInfo kFcKernels[] = {
    {"f32_fc_sparse__scalar_placeholder", Isa::kScalar, true, nullptr, nullptr, nullptr},
};
const int kFcKernelCount = 0;

double conv_density_crossover(const ConvProblem&, Isa) { return 2.0; }
double fc_density_crossover(const FcProblem&, Isa) { return 2.0; }

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
