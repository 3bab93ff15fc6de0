// The x86 kernel tables (rows in kernels.inc) and their selection hooks. Compiled without ISA
// flags. The measurements behind the hooks are in docs/kernels.md ("Selection").
#include "x86/kernel_list.h"

#include "x86/fc_packing.h"
#include "x86/kernels_x86.h"
#include "x86/qs8_kernels.h"
#include "x86/qu8_kernels.h"
#include "x86/sparse_conv_packing.h"
#include "x86/sparse_conv_phase.h"

namespace gnrt {
namespace kernels {
namespace x86 {
namespace {

// Which packed form each packing token of kernels.inc stands for: packed_bytes, pack.
#define GNRT_X86_CONV_PACK_SPARSE(name) sparse_conv_packed_bytes, sparse_conv_pack
#define GNRT_X86_CONV_PACK_SPARSE_PHASE(name) sparse_conv_packed_bytes, sparse_conv_pack_phase
#define GNRT_X86_CONV_PACK_SPARSE_SHIFT(name) sparse_conv_shift_packed_bytes, sparse_conv_pack_shift
#define GNRT_X86_CONV_PACK_SPARSE_PHASE_SHIFT(name) \
  sparse_conv_shift_packed_bytes, sparse_conv_pack_phase_shift
#define GNRT_X86_CONV_PACK_DENSE(name) name##_packed_bytes, name##_pack
#define GNRT_X86_CONV_IS_SPARSE_SPARSE true
#define GNRT_X86_CONV_IS_SPARSE_SPARSE_PHASE true
#define GNRT_X86_CONV_IS_SPARSE_SPARSE_SHIFT true
#define GNRT_X86_CONV_IS_SPARSE_SPARSE_PHASE_SHIFT true
#define GNRT_X86_CONV_IS_SPARSE_DENSE false
#define GNRT_X86_FC_PACK_SPARSE true, nullptr, sparse_fc_packed_bytes, sparse_fc_pack
#define GNRT_X86_FC_PACK_DENSE false, nullptr, dense_fc_packed_bytes, dense_fc_pack

// Row indices, for the preference hooks.
enum ConvRow : int {
#define GNRT_CONV_KERNEL(name, level, packing) k_##name,
#include "x86/kernels.inc"
};

// The global average pools read interior elements only; the max pools no border row in their
// lane-shift form.
bool pool_reads_border_rows(const PoolProblem& problem) {
  return !problem.global &&
         !maxpool3x3_shift_form(problem.geometry.stride_w, problem.geometry.pad_left);
}

}  // namespace

// The last field, zeroes_row_gaps: the sparse convolutions zero their output's row gaps
// (row_gaps.h), the dense ones leave them to the runtime.
const ConvKernelInfo kConvKernels[] = {
#define GNRT_CONV_KERNEL(name, level, packing) \
  {#name,                                      \
   GNRT_LEVEL_##level,                         \
   GNRT_X86_CONV_IS_SPARSE_##packing,          \
   name##_supports,                            \
   GNRT_X86_CONV_PACK_##packing(name),         \
   name,                                       \
   GNRT_X86_CONV_IS_SPARSE_##packing},
#include "x86/kernels.inc"
};
const int kConvKernelCount = static_cast<int>(sizeof(kConvKernels) / sizeof(kConvKernels[0]));

const FcKernelInfo kFcKernels[] = {
#define GNRT_FC_KERNEL(name, level, packing) \
  {#name, GNRT_LEVEL_##level, GNRT_X86_FC_PACK_##packing, name},
#include "x86/kernels.inc"
};
const int kFcKernelCount = static_cast<int>(sizeof(kFcKernels) / sizeof(kFcKernels[0]));

const PoolKernelInfo kPoolKernels[] = {
#define GNRT_POOL_KERNEL(name, level, zeroes_row_gaps) \
  {#name, GNRT_LEVEL_##level, name##_supports, name, zeroes_row_gaps, pool_reads_border_rows},
#include "x86/kernels.inc"
};
const int kPoolKernelCount = static_cast<int>(sizeof(kPoolKernels) / sizeof(kPoolKernels[0]));

// int8 convolutions (qs8_kernels.h), fastest first.
const QConvKernelInfo kQConvKernels[] = {
    {"qs8_conv2d_sparse_s1f_64x4__avx512vnni", Isa::kAvx512, kFeatureAvx512Vnni,
     qs8_conv2d_sparse_s1f_64x4__avx512vnni_supports, qs8_conv2d_sparse_s1f_64x4__avx512vnni},
    {"qs8_conv2d_sparse_s1f_32x4__avxvnni", Isa::kAvx2, kFeatureAvx2Fma | kFeatureAvxVnni,
     qs8_conv2d_sparse_s1f_32x4__avxvnni_supports, qs8_conv2d_sparse_s1f_32x4__avxvnni},
    {"qs8_conv2d_sparse_s1f_32x4__avx2", Isa::kAvx2, kFeatureAvx2Fma,
     qs8_conv2d_sparse_s1f_32x4__avx2_supports, qs8_conv2d_sparse_s1f_32x4__avx2},
};

// uint8 max pooling (qu8_kernels.h), fastest first; the scalar table's rows follow.
const QPoolKernelInfo kQPoolKernels[] = {
    {"qu8_maxpool_s1f__avx512", Isa::kAvx512, 0, qu8_maxpool_s1_flat_fits, qu8_maxpool_s1f__avx512,
     true},
    {"qu8_maxpool_border__avx512", Isa::kAvx512, 0, qu8_maxpool_border_fits,
     qu8_maxpool_border__avx512, false},
    {"qu8_maxpool_s1f__avx2", Isa::kAvx2, kFeatureAvx2Fma, qu8_maxpool_s1_flat_fits,
     qu8_maxpool_s1f__avx2, true},
    {"qu8_maxpool_border__avx2", Isa::kAvx2, kFeatureAvx2Fma, qu8_maxpool_border_fits,
     qu8_maxpool_border__avx2, false},
};

// Rows of at most 8 outputs (GoogLeNet's 7x7 maps) fill one 256-bit vector but less than half a
// 512-bit one; where each vector also costs the most (stride 2: six loads and three
// deinterleaves per input row; the global pool's horizontal sum) the AVX2 kernels are faster.
bool pool_prefers_256bit(const PoolProblem& problem) {
  if (problem.global) return problem.geometry.in_width <= 8;
  return problem.geometry.stride_w == 2 && problem.geometry.out_width <= 8;
}

const PoolKernelInfo* preferred_pool_kernel(const PoolProblem& problem, Isa isa) {
  if (!pool_prefers_256bit(problem)) return nullptr;
  for (const PoolKernelInfo& info : table_of(kPoolKernels))
    if (info.isa == Isa::kAvx2 && row_allowed(info, isa) && info.supports(problem)) return &info;
  return nullptr;
}

// 3x3 / 5x5 layers: sparse and dense tie at density ~0.43-0.53. 1x1 layers: the sparse kernel's
// tiles of whole, aligned vectors keep it ahead longer, the more so the larger the map.
double conv_density_crossover(const ConvProblem& problem, Isa) {
  const ConvGeometry& g = problem.geometry;
  if (g.kernel_h * g.kernel_w != 1) return 0.45;
  const int pixels = g.out_height * g.out_width;
  if (pixels >= 56 * 56) return 0.75;
  if (pixels >= 28 * 28) return 0.5;
  return 0.4;
}
// FC (GoogLeNet's 1024 -> 1000): the gather-based SpMV ties the dense kernel at density ~0.10.
double fc_density_crossover(const FcProblem&, Isa) { return 0.1; }

// Stride-1 sparse convolutions on AVX-512 on the planner's AVX-512 layout (row strides 64, 32,
// 16 and 9 at 56, 28, 14 and 7; interior origins 64-byte aligned):
//  - kernels wider than 1 whose row stride is a multiple of 16 floats: the shifted-accumulator
//    kernels (s1g), every load aligned; 4-vector tiles at row stride 64, 8-vector tiles below;
//  - 1x1 layers: 8-vector tiles at row stride 32 (28x28 maps), 4-vector tiles elsewhere;
//  - other larger kernels (7x7 maps, row stride 9): the 256-bit kernel, whose unaligned loads
//    cross a cache line less often.
// Stride 2 (the 7x7/2 stem): the phase-buffer kernels, the 512-bit one slightly ahead.
const ConvKernelInfo* preferred_conv_kernel(const ConvProblem& problem, Isa isa) {
  const ConvGeometry& g = problem.geometry;
  const auto row = [](ConvRow r) { return &kConvKernels[r]; };
  if (isa != Isa::kAvx512) return nullptr;
  if (g.stride_h == 2 && g.stride_w == 2) {
    return sparse_conv_phase_shift_supported(problem) ? row(k_f32_conv2d_sparse_s2pg_128x1__avx512)
                                                      : row(k_f32_conv2d_sparse_s2p_128x1__avx512);
  }
  if (g.stride_h != 1 || g.stride_w != 1) return nullptr;
  if (problem.in_row_stride != problem.out_row_stride) return nullptr;
  if (g.kernel_w > 1 && sparse_conv_shift_supported(problem))
    return problem.in_row_stride >= 64 ? row(k_f32_conv2d_sparse_s1g_64x1__avx512)
                                       : row(k_f32_conv2d_sparse_s1g_128x1__avx512);
  if (g.kernel_h == 1 && g.kernel_w == 1) {
    return problem.out_row_stride == 32 ? row(k_f32_conv2d_sparse_s1_128x1__avx512)
                                        : row(k_f32_conv2d_sparse_s1_64x1__avx512);
  }
  if (problem.out_row_stride % 16 == 0) return row(k_f32_conv2d_sparse_s1_128x1__avx512);
  return nullptr;
}

}  // namespace x86

const IsaKernels& x86_kernels() {
  static const IsaKernels family{table_of(x86::kConvKernels), table_of(x86::kFcKernels),
                                 table_of(x86::kPoolKernels), x86::conv_density_crossover,
                                 x86::fc_density_crossover,   x86::preferred_conv_kernel,
                                 x86::preferred_pool_kernel,  table_of(x86::kQConvKernels),
                                 table_of(x86::kQPoolKernels)};
  return family;
}

}  // namespace kernels
}  // namespace gnrt
