// The x86 kernel tables (see kernel_list.h). Compiled without ISA flags.
#include "x86/kernel_list.h"

#include "x86/kernels_x86.h"
#include "x86/fc_packing.h"
#include "x86/sparse_conv_packing.h"
#include "x86/sparse_conv_phase.h"

namespace gnrt {
namespace kernels {
namespace x86 {

#define GNRT_SPARSE_CONV(name, isa) \
  { #name, Isa::isa, true, name##_supports, sparse_conv_packed_bytes, sparse_conv_pack, name, true }
#define GNRT_SPARSE_CONV_PHASE(name, isa)                                                     \
  {                                                                                           \
#name, Isa::isa, true, name##_supports, sparse_conv_packed_bytes, sparse_conv_pack_phase, \
        name, true                                                                            \
  }
#define GNRT_SPARSE_CONV_SHIFT(name, isa)                                   \
  {                                                                         \
#name, Isa::isa, true, name##_supports, sparse_conv_shift_packed_bytes, \
        sparse_conv_pack_shift, name, true                                  \
  }
#define GNRT_SPARSE_CONV_PHASE_SHIFT(name, isa)                             \
  {                                                                         \
#name, Isa::isa, true, name##_supports, sparse_conv_shift_packed_bytes, \
        sparse_conv_pack_phase_shift, name, true                            \
  }
#define GNRT_DENSE_CONV(name, isa) \
  { #name, Isa::isa, false, name##_supports, name##_packed_bytes, name##_pack, name, false }

// The selector first tries preferred_conv_kernel() (below), then takes the first row the
// requested ISA allows. The sparse kernels are bound by unaligned loads, not FMAs: on the
// development machine (Zen 4, whose 512-bit loads that cross a cache line cost twice) the
// 256-bit sparse kernels are the default and the 512-bit ones are preferred only for the layer
// classes where they measured faster. The dense kernels are FMA bound and prefer AVX-512.
const ConvKernelInfo kConvKernels[] = {
    GNRT_SPARSE_CONV(f32_conv2d_sparse_s1_64x1__avx2, kAvx2),
    GNRT_SPARSE_CONV_PHASE(f32_conv2d_sparse_s2p_64x1__avx2, kAvx2),
    GNRT_SPARSE_CONV(f32_conv2d_sparse_s2_64x1__avx2, kAvx2),
    GNRT_SPARSE_CONV(f32_conv2d_sparse_s1_128x1__avx512, kAvx512),
    GNRT_SPARSE_CONV_SHIFT(f32_conv2d_sparse_s1g_128x1__avx512, kAvx512),
    GNRT_SPARSE_CONV_SHIFT(f32_conv2d_sparse_s1g_64x1__avx512, kAvx512),
    GNRT_SPARSE_CONV(f32_conv2d_sparse_s1_64x1__avx512, kAvx512),
    GNRT_SPARSE_CONV(f32_conv2d_sparse_s2_128x1__avx512, kAvx512),
    GNRT_SPARSE_CONV_PHASE(f32_conv2d_sparse_s2p_128x1__avx512, kAvx512),
    GNRT_SPARSE_CONV_PHASE_SHIFT(f32_conv2d_sparse_s2pg_128x1__avx512, kAvx512),
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

#define GNRT_POOL(name, isa, gaps) \
  { #name, Isa::isa, name##_supports, name, gaps }

// Pooling (no weights). Max pooling needs a nonnegative input (zero-border fast path, see
// pool_impl.h); other pooling problems fall back to the scalar reference. AVX-512 first: 1.3-2x
// faster than AVX2 on GoogLeNet's pools (`bench_kernels --pools`, docs/kernels.md), except on
// rows of at most 8 outputs (see pool_prefers_256bit).
const PoolKernelInfo kPoolKernels[] = {
    GNRT_POOL(f32_maxpool2d_3x3s1__avx512, kAvx512, true),
    GNRT_POOL(f32_maxpool2d_3x3s2__avx512, kAvx512, true),
    GNRT_POOL(f32_global_avgpool__avx512, kAvx512, false),
    GNRT_POOL(f32_maxpool2d_3x3s1__avx2, kAvx2, true),
    GNRT_POOL(f32_maxpool2d_3x3s2__avx2, kAvx2, true),
    GNRT_POOL(f32_global_avgpool__avx2, kAvx2, false),
};
const int kPoolKernelCount = static_cast<int>(sizeof(kPoolKernels) / sizeof(kPoolKernels[0]));
#undef GNRT_POOL

// Rows of at most 8 outputs (GoogLeNet's 7x7 maps) fill one 256-bit vector but less than half a
// 512-bit one. Where each vector also costs the most (stride 2: six loads and three
// deinterleaves per input row; the global pool's horizontal sum) the AVX2 kernels measured
// faster (pool4 0.031 vs 0.039 ms, the global average pool 0.009 vs 0.013 ms); the stride-1 max
// pool at 7x7 stays faster with AVX-512 (0.014 vs 0.023 ms).
bool pool_prefers_256bit(const PoolProblem& problem) {
  if (problem.global) return problem.geometry.in_width <= 8;
  return problem.geometry.stride_w == 2 && problem.geometry.out_width <= 8;
}

// 3x3 / 5x5 layers: sparse/dense time ratio 1 at density ~0.43-0.53 (`bench_kernels
// --crossover`, session 1). 1x1 layers: measured per layer in the trained models at 224x224
// (session 4, `bench_sparse --model`, each layer's sparse and dense kernel in alternating runs;
// docs/kernels.md "Density crossover"), the sparse kernel's tiles of whole, aligned vectors
// keep it ahead of the dense one up to:
//  - 56x56 maps and larger: beyond 0.55 (conv2 at density 0.49-0.55: 0.23 vs 0.41-0.47 ms);
//  - 28x28 maps: ~0.5 (density 0.30-0.33: 0.14-0.19 vs 0.21-0.29 ms; 0.47-0.49: a tie);
//  - smaller maps: ~0.4 (0.31: 0.09 vs 0.13 ms; 0.38-0.46: the dense kernel 5-10% ahead).
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

// Stride-1 sparse convolutions on AVX-512, measured in whole-model runs (`bench_sparse`,
// docs/kernels.md) on the planner's AVX-512 layout (row strides 64, 32, 16 and 9 at 56, 28, 14
// and 7; interior origins 64-byte aligned):
//  - kernels wider than 1 whose row stride is a multiple of 16 floats: the shifted-accumulator
//    kernels (s1g), every load aligned; 4-vector tiles at row stride 64 (conv3 0.86 -> 0.83 ms),
//    8-vector tiles below (the 3x3 layers at 14x14 0.14 -> 0.10 ms against the AVX2 kernel);
//  - 1x1 layers: 8-vector tiles at row stride 32 (28x28 maps, session 1: 5-25% faster), 4-vector
//    tiles elsewhere (14x14 maps, row stride 16: the ten 1x1 layers 0.75 -> 0.58 ms in total);
//  - other larger kernels (7x7 maps, row stride 9): the 256-bit kernel, whose unaligned loads
//    cross a cache line less often.
// Stride 2 (the 7x7/2 stem): the phase-buffer kernels beat the on-the-fly deinterleaving ones
// by 1.7x (0.30 vs 0.53 ms), the 512-bit one slightly ahead of the 256-bit one.
const char* preferred_conv_kernel(const ConvProblem& problem, Isa isa) {
  const ConvGeometry& g = problem.geometry;
  if (isa != Isa::kAvx512) return nullptr;
  if (g.stride_h == 2 && g.stride_w == 2) {
    return sparse_conv_phase_shift_supported(problem) ? "f32_conv2d_sparse_s2pg_128x1__avx512"
                                                      : "f32_conv2d_sparse_s2p_128x1__avx512";
  }
  if (g.stride_h != 1 || g.stride_w != 1) return nullptr;
  if (problem.in_row_stride != problem.out_row_stride) return nullptr;
  if (g.kernel_w > 1 && sparse_conv_shift_supported(problem))
    return problem.in_row_stride >= 64 ? "f32_conv2d_sparse_s1g_64x1__avx512"
                                       : "f32_conv2d_sparse_s1g_128x1__avx512";
  if (g.kernel_h == 1 && g.kernel_w == 1) {
    return problem.out_row_stride == 32 ? "f32_conv2d_sparse_s1_128x1__avx512"
                                        : "f32_conv2d_sparse_s1_64x1__avx512";
  }
  if (problem.out_row_stride % 16 == 0) return "f32_conv2d_sparse_s1_128x1__avx512";
  return nullptr;
}

ConvKernel to_conv_kernel(const ConvKernelInfo& info, const ConvProblem& problem) {
  ConvKernel kernel{};
  kernel.name = info.name;
  kernel.sparse = info.sparse;
  kernel.packed_bytes = info.packed_bytes(problem);
  kernel.pack = info.pack;
  kernel.run = info.run;
  kernel.zeroes_row_gaps = info.zeroes_row_gaps;
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
