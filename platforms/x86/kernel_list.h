// The x86 kernel list: one table per family drives selection (select-x86.cc), the tests
// (tests/platforms/test_x86_kernels.cc) and the benchmarks (bench/kernels). Adding a kernel is
// one row in kernel_list.cc plus its file.
#pragma once

#include <cstddef>

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {
namespace x86 {

struct ConvKernelInfo {
  const char* name;
  Isa isa;      // minimum ISA
  bool sparse;  // iterates over nonzeros (otherwise dense weights)
  // Whether the kernel handles this problem (geometry, strides, borders). Pure function.
  bool (*supports)(const ConvProblem& problem);
  std::size_t (*packed_bytes)(const ConvProblem& problem);
  void (*pack)(const ConvProblem& problem, void* packed);
  void (*run)(const ConvProblem& problem, const void* packed, const float* input, float* output,
              int oc_begin, int oc_end);
  bool zeroes_row_gaps;  // see ConvKernel
};

struct FcKernelInfo {
  const char* name;
  Isa isa;
  bool sparse;
  std::size_t (*packed_bytes)(const FcProblem& problem);
  void (*pack)(const FcProblem& problem, void* packed);
  void (*run)(const FcProblem& problem, const void* packed, const float* input, float* output,
              int o_begin, int o_end);
};

struct PoolKernelInfo {
  const char* name;
  Isa isa;
  bool (*supports)(const PoolProblem& problem);
  void (*run)(const PoolProblem& problem, const float* input, float* output, int c_begin,
              int c_end);
  bool zeroes_row_gaps;  // see PoolKernel
};

// In priority order: the selector takes the first row that matches ISA, sparse/dense choice and
// supports().
extern const ConvKernelInfo kConvKernels[];
extern const int kConvKernelCount;
extern const FcKernelInfo kFcKernels[];
extern const int kFcKernelCount;
extern const PoolKernelInfo kPoolKernels[];
extern const int kPoolKernelCount;

// Density (nonzeros / dense weights) above which a dense kernel beats the sparse one, measured
// on this project's kernels (docs/kernels.md). Convolutions and FC differ.
double conv_density_crossover(const ConvProblem& problem, Isa isa);
double fc_density_crossover(const FcProblem& problem, Isa isa);

// The kernel the selector tries first for a problem, before the list order (nullptr: none).
// Measured per layer class on the development machine (docs/kernels.md).
const char* preferred_conv_kernel(const ConvProblem& problem, Isa isa);

// Whether the 3x3 max pools compute a problem in their lane-shift form (pool_impl.h: stride 1
// with pad_left 1, stride 2 with pad_left 0 or 1), which reads no border row
// (PoolKernel::reads_border_rows); other paddings take the tap-offset form, which does.
inline bool maxpool3x3_shift_form(int stride, int pad_left) {
  return stride == 1 ? pad_left == 1 : pad_left == 0 || pad_left == 1;
}

// Whether the selector should try the 256-bit pooling kernels before the 512-bit ones.
bool pool_prefers_256bit(const PoolProblem& problem);

ConvKernel to_conv_kernel(const ConvKernelInfo& info, const ConvProblem& problem);
FcKernel to_fc_kernel(const FcKernelInfo& info, const FcProblem& problem);

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
