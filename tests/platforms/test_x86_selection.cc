// x86-only selection rules: which x86 kernel the selector prefers for a class of layer (sparse or
// dense, stride, row stride, AVX2 or AVX-512) on synthetic problems, beside the real plans pinned
// by test_kernel_selection. The kernels themselves are checked for every ISA by
// test_kernels_guarded (test_kernels_guarded.cc, test_kernels_planner_layouts.cc).
#include <doctest/doctest.h>

#include <cstddef>
#include <random>
#include <string>

#include "gnrt/kernels.h"
#include "kernel_registry.h"
#include "kernel_test_util.h"
#include "x86/kernel_list.h"

namespace k = gnrt::kernels;
using gnrt_test::Planes;

namespace {

bool cpu_runs(k::Isa isa) { return k::isa_allows(k::detect_isa(), isa); }

}  // namespace

TEST_CASE("the selector picks vectorized sparse kernels for sparse layers and dense for dense") {
  if (!cpu_runs(k::Isa::kAvx2)) {
    MESSAGE("skipped: this CPU lacks AVX2");
    return;
  }
  std::mt19937 rng(5);
  const k::ConvGeometry g{32, 14, 14, 64, 14, 14, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  Planes input(32, 14, 14, 2);
  const std::size_t count = 64u * 32u * 9u;
  for (const double density : {0.0625, 1.0}) {
    auto weights = gnrt_test::random_sparse_weights(rng, count, density);
    auto csr = gnrt_test::to_csr(weights, 64, 32 * 9);
    k::ConvProblem p{};
    p.geometry = g;
    p.in_row_stride = p.out_row_stride = input.row_stride();
    p.in_channel_stride = p.out_channel_stride = input.channel_stride();
    p.in_pad = p.out_pad = 2;
    p.sparse = csr.view();
    p.nonzeros = csr.nonzeros();
    const k::Isa isa = k::detect_isa();
    const k::ConvKernel kernel = k::select_conv_kernel(p, isa, false);
    MESSAGE("density ", density, ": ", std::string(kernel.name));
    CHECK(kernel.sparse == (density < 0.5));
    // Dense layers use the widest ISA; sparse ones the 256-bit kernels first (kernel_list.cc).
    const std::string expected_isa =
        isa == k::Isa::kAvx512 && !kernel.sparse ? "__avx512" : "__avx2";
    CHECK(std::string(kernel.name).find(expected_isa) != std::string::npos);
    // Forcing AVX2 on an AVX-512 machine gives the AVX2 variant.
    const k::ConvKernel avx2 = k::select_conv_kernel(p, k::Isa::kAvx2, false);
    CHECK(std::string(avx2.name).find("__avx2") != std::string::npos);
    CHECK(std::string(k::select_conv_kernel(p, isa, true).name) == "f32_conv2d_sparse__scalar");
  }
}

TEST_CASE("the pooling selector uses the vectorized kernels only where they apply") {
  if (!cpu_runs(k::Isa::kAvx2)) {
    MESSAGE("skipped: this CPU lacks AVX2");
    return;
  }
  k::PoolProblem p{};
  p.geometry = {64, 28, 28, 28, 28, 3, 3, 1, 1, 1, 1};
  p.max = true;
  p.pad_bottom = p.pad_right = 1;
  p.in_pad = p.out_pad = 2;
  p.in_row_stride = p.out_row_stride = 32;
  p.in_channel_stride = p.out_channel_stride = 32 * 32;
  p.input_nonnegative = true;
  CHECK(std::string(k::select_pool_kernel(p, k::detect_isa(), false).name).find("3x3s1") !=
        std::string::npos);
  CHECK(std::string(k::select_pool_kernel(p, k::Isa::kAvx2, false).name) ==
        "f32_maxpool2d_3x3s1__avx2");
  p.input_nonnegative = false;
  CHECK(std::string(k::select_pool_kernel(p, k::detect_isa(), false).name) ==
        "f32_maxpool2d__scalar");
  p.input_nonnegative = true;
  p.in_pad = 0;  // border does not cover the padded taps
  CHECK(std::string(k::select_pool_kernel(p, k::detect_isa(), false).name) ==
        "f32_maxpool2d__scalar");
  p.in_pad = 2;
  p.max = false;  // average pooling: reference
  CHECK(std::string(k::select_pool_kernel(p, k::detect_isa(), false).name) ==
        "f32_avgpool2d__scalar");
}

TEST_CASE("on AVX-512 the selector prefers the 512-bit sparse kernels where they measured faster") {
  if (!cpu_runs(k::Isa::kAvx512)) {
    MESSAGE("skipped: this CPU lacks AVX-512");
    return;
  }
  std::mt19937 rng(9);
  // row: the row stride (0: size + 2 * pad, the unshared layout).
  auto select = [&](int size, int pad, int kernel, int row = 0) {
    const int channels = 32;
    const k::ConvGeometry g{channels, size, size,       64,         size, size, kernel, kernel,
                            1,        1,    kernel / 2, kernel / 2, 1,    1,    1};
    const std::size_t filter = static_cast<std::size_t>(channels) * kernel * kernel;
    auto weights = gnrt_test::random_sparse_weights(rng, filter * 64, 0.0625);
    auto csr = gnrt_test::to_csr(weights, 64, filter);
    k::ConvProblem p{};
    p.geometry = g;
    p.in_row_stride = p.out_row_stride = row > 0 ? row : size + 2 * pad;
    p.in_channel_stride = p.out_channel_stride =
        ((size + 2 * pad) * p.in_row_stride + pad + 15) / 16 * 16;
    p.in_pad = p.out_pad = pad;
    p.sparse = csr.view();
    p.nonzeros = csr.nonzeros();
    return std::string(k::select_conv_kernel(p, k::Isa::kAvx512, false).name);
  };
  CHECK(select(28, 2, 1) == "f32_conv2d_sparse_s1_128x1__avx512");  // row stride 32
  // 3x3 / 5x5 with row strides of 16k floats: the shifted-accumulator kernel (all loads
  // aligned); the planner's AVX-512 layout at 56, 28 and 14.
  CHECK(select(28, 2, 3) == "f32_conv2d_sparse_s1g_128x1__avx512");
  CHECK(select(28, 2, 5) == "f32_conv2d_sparse_s1g_128x1__avx512");
  CHECK(select(14, 2, 3, 16) == "f32_conv2d_sparse_s1g_128x1__avx512");
  CHECK(select(56, 1, 3, 64) == "f32_conv2d_sparse_s1g_64x1__avx512");  // 4-vector tiles
  CHECK(select(14, 2, 1, 16) == "f32_conv2d_sparse_s1_64x1__avx512");
  CHECK(select(14, 2, 1) == "f32_conv2d_sparse_s1_64x1__avx512");
  CHECK(select(14, 2, 3) == "f32_conv2d_sparse_s1_64x1__avx2");
  CHECK(select(56, 1, 1) == "f32_conv2d_sparse_s1_64x1__avx512");
  // The 7x7/2 stem: the phase-buffer kernel (AVX2 too).
  const k::ConvGeometry stem{3, 64, 64, 16, 32, 32, 7, 7, 2, 2, 3, 3, 1, 1, 1};
  auto weights = gnrt_test::random_sparse_weights(rng, 16u * 3u * 49u, 0.0625);
  auto csr = gnrt_test::to_csr(weights, 16, 3 * 49);
  k::ConvProblem p{};
  p.geometry = stem;
  p.in_pad = 3;
  p.in_row_stride = 70;
  p.in_channel_stride = (70 * 70 + 15) / 16 * 16;
  p.out_pad = 1;
  p.out_row_stride = 34;
  p.out_channel_stride = (34 * 34 + 15) / 16 * 16;
  p.sparse = csr.view();
  p.nonzeros = csr.nonzeros();
  CHECK(std::string(k::select_conv_kernel(p, k::Isa::kAvx512, false).name) ==
        "f32_conv2d_sparse_s2pg_128x1__avx512");
  CHECK(std::string(k::select_conv_kernel(p, k::Isa::kAvx2, false).name) ==
        "f32_conv2d_sparse_s2p_64x1__avx2");
  // A stem dense enough for the dense kernels, none of which takes stride 2: still the preferred
  // sparse kernel, not the first sparse one of the list.
  auto dense_stem = gnrt_test::random_sparse_weights(rng, 16u * 3u * 49u, 0.6);
  auto dense_csr = gnrt_test::to_csr(dense_stem, 16, 3 * 49);
  p.sparse = dense_csr.view();
  p.nonzeros = dense_csr.nonzeros();
  CHECK(std::string(k::select_conv_kernel(p, k::Isa::kAvx512, false).name) ==
        "f32_conv2d_sparse_s2pg_128x1__avx512");
}

TEST_CASE("the x86 max pools skip the border rows exactly in their lane-shift form") {
  for (const k::PoolKernelInfo& info : k::x86_kernels().pool) {
    if (std::string(info.name).find("maxpool") == std::string::npos) continue;
    const int stride = std::string(info.name).find("3x3s2") != std::string::npos ? 2 : 1;
    for (int pad = 0; pad <= 1; ++pad) {
      k::PoolProblem p{};
      p.geometry = {8, 14, 14, 14 / stride, 14 / stride, 3, 3, stride, stride, pad, pad};
      p.max = true;
      INFO(info.name, " pad ", pad);
      CHECK(k::to_pool_kernel(info, p).reads_border_rows ==
            !k::x86::maxpool3x3_shift_form(stride, pad));
    }
  }
}
