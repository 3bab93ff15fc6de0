// The kernel registry: one descriptor type per operator family, the same for every ISA, and one
// table of them per ISA family (platforms/<isa>/kernel_list.cc, rows from <isa>/kernels.inc),
// which drive selection (select.cc, one algorithm for every ISA), the kernel tests and the
// benchmarks. Internal to gnrt_kernels, its tests and benchmarks; the runtime sees only
// gnrt/kernels.h.
//
// Kernel names: f32_<op>_<form>[_<variant>][_<MR>x<NR>]__<isa>[_<arch>], file
// f32-<op>-<form>[-<variant>][-<MR>x<NR>]-<isa>[-<arch>].cc (the build derives the ISA flags from
// the last part of the file name). <MR>x<NR>: output positions x output channels per tile (FC:
// outputs x inputs). Variants of the sparse convolutions:
//   s1    stride 1, on-the-fly loads at the taps' offsets
//   s1g   stride 1, shifted accumulators ("g" for gather-free): one aligned load per input vector,
//         the taps of a row from lane shifts; needs row strides that are multiples of the vector
//   s2    stride 2, deinterleaving the input on the fly
//   s2p   stride 2 through phase buffers: the input split once into its even/odd row and column
//         phases, then stride-1 work on each
//   s2pg  s2p with the s1g shifted accumulators on the phases
//   3x3s1, 3x3s2 (pools): window and stride
// ISA parts: avx2 (AVX2 + FMA), avx512 (F, BW, DQ, VL + FMA), neon (Advanced SIMD, no FMA),
// neonfma (with fused multiply-add; armv7: VFPv4), then the architecture when the code is
// specific to one (aarch64, armv7). docs/kernels.md has the same list and how to add a kernel.
#pragma once

#include <cstddef>

#include "gnrt/kernels.h"
#include "gnrt/qkernels.h"

namespace gnrt {
namespace kernels {

// CPU features beyond the ISA level, probed once by isa.cc (the only place that reads cpuid or
// AT_HWCAP). A kernel row lists the ones it needs; selection and tests skip rows this CPU lacks.
enum CpuFeature : unsigned {
  kFeatureAvx2Fma = 1u << 0,
  kFeatureAvx512 = 1u << 1,      // F, BW, DQ, VL and FMA
  kFeatureAvx512Vnni = 1u << 2,  // int8 dot products
  kFeatureAvx512Fp16 = 1u << 3,  // fp16 arithmetic
  kFeatureAvxVnni = 1u << 4,     // int8 dot products on 256-bit VEX vectors (AVX-VNNI)
  kFeatureNeon = 1u << 8,        // Advanced SIMD
  kFeatureNeonFma = 1u << 9,     // fused multiply-add (always on A64; VFPv4 on armv7)
  kFeatureNeonFp16 = 1u << 10,   // fp16 arithmetic (asimdhp)
  kFeatureNeonDot = 1u << 11,    // int8 dot products (asimddp)
};
unsigned cpu_features();
inline bool cpu_has(unsigned features) { return (cpu_features() & features) == features; }

struct ConvKernelInfo {
  const char* name;
  Isa isa;            // minimum ISA level
  unsigned features;  // CpuFeature bits needed besides the level
  bool sparse;        // iterates over nonzeros (otherwise dense weights)
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
  unsigned features;
  bool sparse;
  bool (*supports)(const FcProblem& problem);  // nullptr: every problem
  std::size_t (*packed_bytes)(const FcProblem& problem);
  void (*pack)(const FcProblem& problem, void* packed);
  void (*run)(const FcProblem& problem, const void* packed, const float* input, float* output,
              int o_begin, int o_end);
};

struct PoolKernelInfo {
  const char* name;
  Isa isa;
  unsigned features;
  bool (*supports)(const PoolProblem& problem);
  void (*run)(const PoolProblem& problem, const float* input, float* output, int c_begin,
              int c_end);
  bool zeroes_row_gaps;  // see PoolKernel
  // PoolKernel::reads_border_rows for a problem; nullptr: always true.
  bool (*reads_border_rows)(const PoolProblem& problem);
};

// int8 convolutions (qkernels.h): every row reads the one packed form (qconv_pack).
struct QConvKernelInfo {
  const char* name;
  Isa isa;
  unsigned features;
  bool (*supports)(const QConvProblem& problem);  // nullptr: every problem
  QConvRunFn run;
};

// uint8 pooling (qkernels.h).
struct QPoolKernelInfo {
  const char* name;
  Isa isa;
  unsigned features;
  bool (*supports)(const QPoolProblem& problem);  // nullptr: every problem
  QPoolRunFn run;
  bool writes_gaps;  // QPoolKernel::writes_gaps
};

template <typename Info>
struct KernelTable {
  const Info* rows = nullptr;
  int count = 0;
  const Info* begin() const { return rows; }
  const Info* end() const { return rows + count; }
};

template <typename Info, int N>
constexpr KernelTable<Info> table_of(const Info (&rows)[N]) {
  return {rows, N};
}

// One ISA family's tables, in priority order, and its selection hooks. The hooks return rows of
// the tables (never names): the measured preferences of each ISA live beside its list.
struct IsaKernels {
  KernelTable<ConvKernelInfo> conv;
  KernelTable<FcKernelInfo> fc;
  KernelTable<PoolKernelInfo> pool;
  // Density (nonzeros / dense weights) above which the dense form is wanted.
  double (*conv_density_crossover)(const ConvProblem& problem, Isa isa);
  double (*fc_density_crossover)(const FcProblem& problem, Isa isa);
  // The row tried before the table order (nullptr: none); the convolution one for sparse
  // problems only.
  const ConvKernelInfo* (*preferred_conv)(const ConvProblem& problem, Isa isa);
  const PoolKernelInfo* (*preferred_pool)(const PoolProblem& problem, Isa isa);
  // int8 convolutions, in priority order (format 1.1 models).
  KernelTable<QConvKernelInfo> qconv;
  // uint8 pooling, in priority order.
  KernelTable<QPoolKernelInfo> qpool;
};

// The families compiled in (x86_kernels on x86-64, arm_kernels on aarch64/armv7; scalar_kernels
// everywhere, the reference and the fallback). kernels_for: the family of an ISA level, or
// nullptr when none is compiled in for it.
const IsaKernels& scalar_kernels();
const IsaKernels& x86_kernels();
const IsaKernels& arm_kernels();
const IsaKernels* kernels_for(Isa isa);

// Whether a caller that asked for `requested` may run a kernel of level `needed`, and this CPU
// has the row's extra features.
bool isa_allows(Isa requested, Isa needed);
template <typename Info>
bool row_allowed(const Info& info, Isa requested) {
  return isa_allows(requested, info.isa) && cpu_has(info.features);
}

// The selection algorithm (select.cc) over one family: false when no row fits.
bool select_from(const IsaKernels& family, const ConvProblem& problem, Isa isa, ConvKernel* kernel);
bool select_from(const IsaKernels& family, const FcProblem& problem, Isa isa, FcKernel* kernel);
bool select_from(const IsaKernels& family, const PoolProblem& problem, Isa isa, PoolKernel* kernel);

ConvKernel to_conv_kernel(const ConvKernelInfo& info, const ConvProblem& problem);
FcKernel to_fc_kernel(const FcKernelInfo& info, const FcProblem& problem);
PoolKernel to_pool_kernel(const PoolKernelInfo& info, const PoolProblem& problem);

}  // namespace kernels
}  // namespace gnrt

// Levels of the rows of the <isa>/kernels.inc files: GNRT_LEVEL_<token> is "Isa, features".
#define GNRT_LEVEL_kAvx2 ::gnrt::kernels::Isa::kAvx2, 0u
#define GNRT_LEVEL_kAvx512 ::gnrt::kernels::Isa::kAvx512, 0u
#define GNRT_LEVEL_kNeon ::gnrt::kernels::Isa::kNeon, ::gnrt::kernels::kFeatureNeon
#define GNRT_LEVEL_kNeonFma \
  ::gnrt::kernels::Isa::kNeon, ::gnrt::kernels::kFeatureNeon | ::gnrt::kernels::kFeatureNeonFma
#define GNRT_LEVEL_kNeonDot \
  ::gnrt::kernels::Isa::kNeon, ::gnrt::kernels::kFeatureNeon | ::gnrt::kernels::kFeatureNeonDot
