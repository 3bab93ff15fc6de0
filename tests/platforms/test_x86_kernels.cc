// The x86-specific kernel checks, on top of test_kernels_guarded.cc (every kernel of every list in
// guarded memory, on every ISA): every x86 kernel of the list (platforms/x86/kernels.inc) against
// the scalar reference on the planner's aligned layouts, input-channel blocks at row strides
// 16/32/64, NaN-filled border rows for the pools that read none, and the AVX-512 preferences;
// skipped with a message where the CPU lacks the kernel's ISA.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gnrt/kernels.h"
#include "kernel_test_util.h"
#include "x86/kernel_list.h"
#include "x86/row_gaps.h"

namespace k = gnrt::kernels;
using gnrt_test::Planes;

namespace {

constexpr float kSentinel = -7777.0f;

bool cpu_has(k::Isa isa) {
  const k::Isa have = k::detect_isa();
  if (isa == k::Isa::kAvx2) return have == k::Isa::kAvx2 || have == k::Isa::kAvx512;
  if (isa == k::Isa::kAvx512) return have == k::Isa::kAvx512;
  return true;
}

struct Packed {
  std::vector<std::uint8_t> storage;
  void* data = nullptr;
  explicit Packed(std::size_t bytes) : storage(bytes + 64) {
    data = storage.data() + (64 - reinterpret_cast<std::uintptr_t>(storage.data()) % 64);
  }
};

struct ConvCase {
  k::ConvGeometry g{};
  int in_pad = 0, out_pad = 0, extra_row = 0, extra_channel = 0, misalign = 0;
  bool same_row_stride = true;
  bool planner_alignment = false;
  bool shared = false;  // shared left/right borders (Planes), row stride a multiple of 16
};

// aligned16: always the planner's AVX-512 layout for stride-1 layers (shared borders, row and
// channel strides multiples of 16, equal input and output strides), which the shift-group
// kernels require; otherwise a third of the stride-1 cases.
ConvCase random_case(std::mt19937& rng, int stride, bool allow_groups, bool aligned16 = false) {
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (;;) {
    ConvCase c;
    k::ConvGeometry& g = c.g;
    g.groups = allow_groups && uniform(0, 3) == 0 ? uniform(2, 3) : 1;
    g.in_channels = g.groups * uniform(1, 6);
    g.out_channels = g.groups * uniform(1, 12);
    g.in_height = uniform(1, 20);
    g.in_width = uniform(1, 40);
    const int kernels[] = {1, 1, 3, 3, 5, 7, 2};
    g.kernel_h = kernels[uniform(0, 6)];
    g.kernel_w = uniform(0, 3) == 0 ? kernels[uniform(0, 6)] : g.kernel_h;
    g.stride_h = g.stride_w = stride;
    g.dilation_h = uniform(0, 4) == 0 ? 2 : 1;
    g.dilation_w = uniform(0, 4) == 0 ? 2 : 1;
    // "Same" padding most of the time, otherwise anything up to the kernel's reach.
    const int reach_h = (g.kernel_h - 1) * g.dilation_h, reach_w = (g.kernel_w - 1) * g.dilation_w;
    const bool same = uniform(0, 2) != 0;
    g.pad_top = same ? reach_h / 2 : uniform(0, reach_h);
    g.pad_left = same ? reach_w / 2 : uniform(0, reach_w);
    const int pad_bottom = same ? reach_h - reach_h / 2 : uniform(0, reach_h);
    const int pad_right = same ? reach_w - reach_w / 2 : uniform(0, reach_w);
    g.out_height = gnrt_test::conv_out_size(g.in_height, g.kernel_h, stride, g.pad_top, pad_bottom,
                                            g.dilation_h);
    g.out_width = gnrt_test::conv_out_size(g.in_width, g.kernel_w, stride, g.pad_left, pad_right,
                                           g.dilation_w);
    if (g.out_height < 1 || g.out_width < 1) continue;
    // The border covers every tap (what the planner guarantees), sometimes with room to spare.
    const int need = std::max({g.pad_top, g.pad_left, pad_bottom, pad_right});
    c.in_pad = need + (uniform(0, 3) == 0 ? uniform(1, 2) : 0);
    c.same_row_stride = stride == 1 && g.out_height == g.in_height && g.out_width == g.in_width &&
                        uniform(0, 3) != 0;
    c.out_pad = c.same_row_stride ? c.in_pad : uniform(0, 3);
    c.extra_row = c.same_row_stride ? 0 : uniform(0, 3);
    c.extra_channel = uniform(0, 2) * 5;
    c.misalign = uniform(0, 15);
    // Half the time the planner's layout: channel strides rounded up to 16 floats and input and
    // output planes equally aligned (exercises the aligned early start of the flat run).
    c.planner_alignment = uniform(0, 1) == 1;
    // The planner's layout with both origins equally placed against 64-byte lines (0: aligned),
    // which turns on the flat run's aligned early start (aligned_lead) when not 0.
    if (c.planner_alignment && uniform(0, 1) == 1)
      c.misalign = Planes::align_origin(uniform(0, 15));
    if (c.planner_alignment) {
      const int plane = (g.in_height + 2 * c.in_pad) * (g.in_width + 2 * c.in_pad + c.extra_row);
      c.extra_channel = (16 - plane % 16) % 16;
    }
    const bool can_share = stride == 1 && g.out_height == g.in_height && g.out_width == g.in_width;
    if (aligned16 && !can_share) continue;
    // More input channels at times (longer lists of taps per output channel, and the shift
    // kernels' input-channel blocks: up to 32 channels per block at row stride 64, 64 at 32 and
    // 48, 96 at 16; sparse_conv_packing.h), and wider maps (row stride 64).
    if (aligned16 && uniform(0, 1) == 0) g.in_channels = g.groups * uniform(20, 120);
    if (aligned16 && can_share && uniform(0, 3) == 0) {
      g.in_width = g.out_width = uniform(50, 62);
      g.in_height = g.out_height = uniform(1, 6);
    }
    if (can_share && (aligned16 || uniform(0, 2) == 0)) {
      c.shared = true;
      c.same_row_stride = true;
      c.out_pad = c.in_pad;
      const int row = g.in_width + c.in_pad;
      c.extra_row = (16 - row % 16) % 16;
      const int plane = (g.in_height + 2 * c.in_pad) * (row + c.extra_row) + c.in_pad;
      c.extra_channel = (16 - plane % 16) % 16 + 16 * uniform(0, 1);
      if (!c.planner_alignment || uniform(0, 1) == 1)
        c.misalign = Planes::align_origin(uniform(0, 1) * uniform(0, 15));
      c.planner_alignment = true;
    }
    return c;
  }
}

std::string describe(const ConvCase& c) {
  const k::ConvGeometry& g = c.g;
  char buffer[300];
  std::snprintf(buffer, sizeof buffer,
                "in %dx%dx%d out %dx%dx%d k %dx%d s %d p %d,%d d %dx%d groups %d in_pad %d "
                "out_pad %d same_stride %d misalign %d planner_alignment %d shared %d",
                g.in_channels, g.in_height, g.in_width, g.out_channels, g.out_height, g.out_width,
                g.kernel_h, g.kernel_w, g.stride_h, g.pad_top, g.pad_left, g.dilation_h,
                g.dilation_w, g.groups, c.in_pad, c.out_pad, c.same_row_stride ? 1 : 0, c.misalign,
                c.planner_alignment ? 1 : 0, c.shared ? 1 : 0);
  return buffer;
}

// Runs `info` on one random case and compares with the scalar dense reference. Returns false
// when the kernel does not support the case.
bool check_conv_kernel(const k::x86::ConvKernelInfo& info, const ConvCase& c, double density,
                       bool give_sparse, std::mt19937& rng) {
  const k::ConvGeometry& g = c.g;
  Planes input(g.in_channels, g.in_height, g.in_width, c.in_pad, c.extra_row, c.extra_channel,
               static_cast<int>(k::kMaxOverreadFloats), c.misalign, c.shared);
  input.zero_border_fill_rest(gnrt_test::nan_value());
  input.fill_interior_random(rng);
  // Output strides: equal to the input's in the planner's common case.
  Planes output(g.out_channels, g.out_height, g.out_width, c.out_pad,
                c.same_row_stride ? c.extra_row : c.extra_row + 1, c.extra_channel, 0,
                c.planner_alignment || c.misalign < 0 ? c.misalign : (c.misalign + 3) % 16,
                c.shared);
  if (c.same_row_stride) REQUIRE(output.row_stride() == input.row_stride());
  output.fill_all(kSentinel);

  const std::size_t filter =
      static_cast<std::size_t>(g.in_channels / g.groups) * g.kernel_h * g.kernel_w;
  auto weights = gnrt_test::random_sparse_weights(rng, filter * g.out_channels, density);
  auto bias = gnrt_test::random_vector(rng, g.out_channels);
  auto csr = gnrt_test::to_csr(weights, g.out_channels, filter);
  const bool relu = std::uniform_int_distribution<int>(0, 1)(rng) == 1;

  k::ConvProblem p{};
  p.geometry = g;
  p.in_row_stride = input.row_stride();
  p.in_channel_stride = input.channel_stride();
  p.in_pad = input.pad();
  p.out_row_stride = output.row_stride();
  p.out_channel_stride = output.channel_stride();
  p.out_pad = output.pad();
  p.activation = relu ? k::Activation::kRelu : k::Activation::kNone;
  if (give_sparse) {
    p.sparse = csr.view();
  } else {
    p.dense_weights = weights.data();
  }
  p.bias = bias.data();
  p.nonzeros = csr.nonzeros();
  if (!info.supports(p)) return false;

  Packed packed(info.packed_bytes(p));
  info.pack(p, packed.data);
  // Weights are plan-time only.
  std::vector<float> kept_weights = weights, kept_bias = bias;
  std::fill(weights.begin(), weights.end(), gnrt_test::nan_value());
  std::fill(bias.begin(), bias.end(), gnrt_test::nan_value());
  std::fill(csr.values.begin(), csr.values.end(), gnrt_test::nan_value());
  p.dense_weights = nullptr;
  p.sparse = {};
  p.bias = nullptr;

  // Two or three channel ranges, as threads would split them.
  const int oc_begin = g.out_channels > 4 ? 1 : 0;
  const int split = (oc_begin + g.out_channels) / 2;
  info.run(p, packed.data, input.origin(), output.origin(), oc_begin, split);
  info.run(p, packed.data, input.origin(), output.origin(), split, g.out_channels);

  Planes expected(g.out_channels, g.out_height, g.out_width, 0);
  k::f32_conv2d_dense__scalar(g, {input.origin(), input.row_stride(), input.channel_stride()},
                              kept_weights.data(), kept_bias.data(),
                              {expected.origin(), expected.row_stride(), expected.channel_stride()},
                              p.activation, 0, g.out_channels);
  const double tolerance = 2e-5 * gnrt_test::conv_magnitude_bound(g, kept_weights);
  int wrong = 0, stray = 0;
  double worst = 0;
  for (int oc = oc_begin; oc < g.out_channels; ++oc)
    for (int y = 0; y < g.out_height; ++y)
      for (int x = 0; x < g.out_width; ++x) {
        const double err = std::fabs(output.at(oc, y, x) - expected.at(oc, y, x));
        if (!(err <= tolerance)) ++wrong;
        if (!(err <= worst)) worst = err;
      }
  // Nothing written outside the padded planes (rows of row_stride floats) of channels
  // [oc_begin, out_channels); in particular not channel 0 when the range starts at 1.
  for (std::size_t i = 0; i < output.region_size(); ++i) {
    const auto pos = static_cast<std::ptrdiff_t>(i);
    const int ch = output.channel_of(pos);
    const std::ptrdiff_t in_plane = pos % output.channel_stride();
    const bool own =
        ch >= oc_begin && in_plane / output.row_stride() < output.height() + 2 * output.pad();
    // (With shared borders the pad floats after the last row are border as well; a flat run
    // never reaches them, so they stay out of `own`.)
    if (!own && output.region()[i] != kSentinel) ++stray;
  }
  INFO(info.name, ": ", describe(c), " density ", density, " worst error ", worst);
  CHECK(wrong == 0);
  CHECK(stray == 0);
  // Row gaps of the computed channels: zeros when the kernel says it writes them (kernels.h).
  if (info.zeroes_row_gaps) CHECK(output.nonzero_row_gaps(oc_begin) == 0);
  return true;
}

}  // namespace

TEST_CASE("x86 convolution kernels match the scalar reference") {
  REQUIRE(k::x86::kConvKernelCount > 0);
  const double densities[] = {0.0, 0.03, 0.0625, 0.2, 0.5, 1.0};
  for (int i = 0; i < k::x86::kConvKernelCount; ++i) {
    const auto& info = k::x86::kConvKernels[i];
    SUBCASE(info.name) {
      if (!cpu_has(info.isa)) {
        MESSAGE("skipped ", std::string(info.name), ": this CPU lacks ", k::isa_name(info.isa));
        continue;
      }
      std::mt19937 rng(1000 + i);
      int covered = 0;
      for (int trial = 0; trial < 400; ++trial) {
        // Most kernels state their stride in their name; try the one they support.
        const std::string name = info.name;
        const int stride = name.find("_s2") != std::string::npos ? 2 : 1;
        // The phase-buffer kernels (s2p, s2pg) take no groups; give them supported cases.
        const bool phase = name.find("_s2p") != std::string::npos;
        // The shift-group kernels (s1g) need the planner's AVX-512 layout.
        const bool shift = name.find("_s1g_") != std::string::npos;
        const ConvCase c = random_case(rng, stride, info.sparse && !phase, shift);
        if (check_conv_kernel(info, c, densities[trial % 6], trial % 2 == 0, rng)) ++covered;
      }
      MESSAGE(std::string(info.name), ": ", covered, " random problems checked");
      CHECK(covered > 200);
    }
  }
}

TEST_CASE("x86 kernels reject problems whose border does not cover the taps") {
  k::ConvProblem p{};
  p.geometry = {4, 8, 8, 4, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  p.in_pad = 0;  // a 3x3 "same" convolution needs 1
  p.in_row_stride = p.out_row_stride = 8;
  p.in_channel_stride = p.out_channel_stride = 64;
  const std::vector<float> w(4 * 4 * 9, 1.0f);
  p.dense_weights = w.data();
  p.nonzeros = w.size();
  for (int i = 0; i < k::x86::kConvKernelCount; ++i) {
    CHECK_FALSE(k::x86::kConvKernels[i].supports(p));
  }
  // The selector then falls back to the reference kernel.
  const k::ConvKernel chosen = k::select_conv_kernel(p, k::detect_isa(), false);
  CHECK(std::string(chosen.name) == "f32_conv2d_dense__scalar");
}

TEST_CASE("the selector picks vectorized sparse kernels for sparse layers and dense for dense") {
  if (!cpu_has(k::Isa::kAvx2)) {
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

TEST_CASE("x86 fully connected kernels match the scalar reference") {
  for (int i = 0; i < k::x86::kFcKernelCount; ++i) {
    const auto& info = k::x86::kFcKernels[i];
    SUBCASE(info.name) {
      if (!cpu_has(info.isa)) {
        MESSAGE("skipped ", std::string(info.name), ": this CPU lacks ", k::isa_name(info.isa));
        continue;
      }
      std::mt19937 rng(77 + i);
      for (int trial = 0; trial < 120; ++trial) {
        const int in = std::uniform_int_distribution<int>(1, 1100)(rng);
        const int out = std::uniform_int_distribution<int>(1, 70)(rng);
        const double density = std::vector<double>{0.0, 0.01, 0.0625, 0.3, 1.0}[trial % 5];
        auto w = gnrt_test::random_sparse_weights(rng, static_cast<std::size_t>(in) * out, density);
        auto bias = gnrt_test::random_vector(rng, out);
        const auto x = gnrt_test::random_vector(rng, in);
        auto csr = gnrt_test::to_csr(w, out, in);
        const bool relu = trial % 3 == 0;
        k::FcProblem p{};
        p.in_features = in;
        p.out_features = out;
        p.activation = relu ? k::Activation::kRelu : k::Activation::kNone;
        if (trial % 2 == 0) {
          p.sparse = csr.view();
        } else {
          p.dense_weights = w.data();
        }
        p.bias = bias.data();
        p.nonzeros = csr.nonzeros();
        std::vector<float> expected(out);
        k::f32_fc_dense__scalar(in, out, x.data(), w.data(), bias.data(), expected.data(),
                                p.activation, 0, out);
        Packed packed(info.packed_bytes(p));
        info.pack(p, packed.data);
        std::fill(w.begin(), w.end(), gnrt_test::nan_value());
        std::fill(csr.values.begin(), csr.values.end(), gnrt_test::nan_value());
        p.dense_weights = nullptr;
        p.sparse = {};
        p.bias = nullptr;
        std::vector<float> result(out + 1, kSentinel);
        const int o_begin = out > 3 ? 1 : 0;
        info.run(p, packed.data, x.data(), result.data(), o_begin, out / 2 + 1);
        info.run(p, packed.data, x.data(), result.data(), out / 2 + 1, out);
        INFO(info.name, " in ", in, " out ", out, " density ", density);
        CHECK(result[out] == kSentinel);
        if (o_begin == 1) CHECK(result[0] == kSentinel);
        int wrong = 0;
        for (int o = o_begin; o < out; ++o) {
          if (!(std::fabs(result[o] - expected[o]) <= 1e-5 * (1.0 + std::sqrt(in)))) ++wrong;
        }
        CHECK(wrong == 0);
      }
    }
  }
}

namespace {

struct PoolCase {
  k::PoolGeometry g{};
  int in_pad = 0, out_pad = 0, extra_row = 0, extra_channel = 0, misalign = 0;
  int pad_bottom = 0, pad_right = 0;
  bool shared = false;  // the planner's AVX-512 layout (see random_pool_case)
};

// Random 3x3 max pooling problems of stride 1 or 2 ("same" padding, or PyTorch's ceil mode
// windows), with the zero border covering every tap as the planner lays it out.
PoolCase random_pool_case(std::mt19937& rng, int stride) {
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (;;) {
    PoolCase c;
    k::PoolGeometry& g = c.g;
    g.channels = uniform(1, 20);
    g.in_height = uniform(1, 40);
    g.in_width = uniform(1, 70);
    g.kernel_h = g.kernel_w = 3;
    g.stride_h = g.stride_w = stride;
    g.pad_top = uniform(0, 1);
    g.pad_left = uniform(0, 1);
    c.pad_bottom = uniform(0, 1);
    c.pad_right = uniform(0, 1);
    const bool ceil_mode = stride == 2 && uniform(0, 1) == 1;
    auto out_size = [&](int in, int before, int after) {
      const int span = in + before + after - 3;
      if (span < 0) return 0;
      int out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
      // PyTorch: the last window must start inside the input or the left padding.
      if (ceil_mode && (out - 1) * stride >= in + before) --out;
      return out;
    };
    g.out_height = out_size(g.in_height, g.pad_top, c.pad_bottom);
    g.out_width = out_size(g.in_width, g.pad_left, c.pad_right);
    if (g.out_height < 1 || g.out_width < 1) continue;
    const int bottom = (g.out_height - 1) * stride - g.pad_top + 2 - (g.in_height - 1);
    const int right = (g.out_width - 1) * stride - g.pad_left + 2 - (g.in_width - 1);
    c.in_pad = std::max({g.pad_top, g.pad_left, bottom, right, 0}) + uniform(0, 1);
    c.out_pad = uniform(0, 2);
    c.extra_row = uniform(0, 3);
    c.extra_channel = uniform(0, 2) * 5;
    c.misalign = uniform(0, 15);
    // A third of the cases in the planner's AVX-512 layout: shared borders, row and channel
    // strides multiples of 16 floats, interior origins 64-byte aligned (the pools' aligned
    // loads, pool_impl.h).
    if (uniform(0, 2) == 0) {
      c.shared = true;
      const int row = g.in_width + c.in_pad;
      c.extra_row = (16 - row % 16) % 16;
      const int plane = (g.in_height + 2 * c.in_pad) * (row + c.extra_row) + c.in_pad;
      c.extra_channel = (16 - plane % 16) % 16 + 16 * uniform(0, 1);
      c.misalign = Planes::align_origin(0);
    }
    return c;
  }
}

// Runs a pooling kernel on `input` (planes already filled) in two channel ranges and returns the
// number of interior mismatches against the scalar reference and of stray writes.
void check_pool_kernel(const k::x86::PoolKernelInfo& info, const k::PoolProblem& p,
                       const Planes& input, Planes& output, double tolerance, int* wrong,
                       int* stray) {
  output.fill_all(kSentinel);
  const int channels = p.geometry.channels;
  const int c_begin = channels > 3 ? 1 : 0;
  const int split = (c_begin + channels) / 2;
  info.run(p, input.origin(), output.origin(), c_begin, split);
  info.run(p, input.origin(), output.origin(), split, channels);
  Planes expected(channels, output.height(), output.width(), 0);
  const k::PoolKernel reference = k::select_pool_kernel(p, k::Isa::kScalar, true);
  k::PoolProblem q = p;
  q.out_row_stride = expected.row_stride();
  q.out_channel_stride = p.global ? expected.channel_stride() : expected.channel_stride();
  reference.run(q, input.origin(), expected.origin(), 0, channels);
  *wrong = 0;
  *stray = 0;
  for (int c = c_begin; c < channels; ++c)
    for (int y = 0; y < output.height(); ++y)
      for (int x = 0; x < output.width(); ++x) {
        const double err = std::fabs(output.at(c, y, x) - expected.at(c, y, x));
        if (!(err <= tolerance * std::max(1.0, std::fabs(double(expected.at(c, y, x)))))) {
          ++*wrong;
        }
      }
  for (std::size_t i = 0; i < output.region_size(); ++i) {
    const auto pos = static_cast<std::ptrdiff_t>(i);
    const int ch = output.channel_of(pos);
    const std::ptrdiff_t in_plane = pos % output.channel_stride();
    const bool own =
        ch >= c_begin && in_plane / output.row_stride() < output.height() + 2 * output.pad();
    if (!own && output.region()[i] != kSentinel) ++*stray;
  }
}

}  // namespace

TEST_CASE("x86 pooling kernels match the scalar reference") {
  REQUIRE(k::x86::kPoolKernelCount > 0);
  for (int i = 0; i < k::x86::kPoolKernelCount; ++i) {
    const auto& info = k::x86::kPoolKernels[i];
    SUBCASE(info.name) {
      if (!cpu_has(info.isa)) {
        MESSAGE("skipped ", std::string(info.name), ": this CPU lacks ", k::isa_name(info.isa));
        continue;
      }
      std::mt19937 rng(500 + i);
      const std::string name = info.name;
      const bool global = name.find("global") != std::string::npos;
      int covered = 0, covered_aligned = 0;
      for (int trial = 0; trial < 300; ++trial) {
        k::PoolProblem p{};
        const bool relu = trial % 3 == 0;
        p.activation = relu ? k::Activation::kRelu : k::Activation::kNone;
        if (global) {
          auto uniform = [&](int lo, int hi) {
            return std::uniform_int_distribution<int>(lo, hi)(rng);
          };
          const int channels = uniform(1, 40), h = uniform(1, 20), w = uniform(1, 40);
          Planes input(channels, h, w, uniform(0, 2), uniform(0, 3), uniform(0, 2) * 5, 0,
                       uniform(0, 15));
          input.fill_all(gnrt_test::nan_value());  // nothing outside the interior is read
          input.fill_interior_random(rng);
          // Output: one value per channel, contiguous or strided (a 1x1 plane with a border).
          const int out_pad = uniform(0, 1);
          Planes output(channels, 1, 1, out_pad);
          p.geometry = {channels, h, w, 1, 1, h, w, 1, 1, 0, 0};
          p.global = true;
          p.in_row_stride = input.row_stride();
          p.in_channel_stride = input.channel_stride();
          p.in_pad = input.pad();
          p.out_row_stride = output.row_stride();
          p.out_channel_stride = output.channel_stride();
          p.out_pad = out_pad;
          REQUIRE(info.supports(p));
          int wrong = 0, stray = 0;
          check_pool_kernel(info, p, input, output, 1e-5, &wrong, &stray);
          INFO(info.name, ": channels ", channels, " ", h, "x", w);
          CHECK(wrong == 0);
          CHECK(stray == 0);
          ++covered;
          continue;
        }
        const int stride = name.find("3x3s2") != std::string::npos ? 2 : 1;
        const PoolCase c = random_pool_case(rng, stride);
        const k::PoolGeometry& g = c.g;
        Planes input(g.channels, g.in_height, g.in_width, c.in_pad, c.extra_row, c.extra_channel,
                     static_cast<int>(k::kMaxOverreadFloats), c.misalign, c.shared);
        input.zero_border_fill_rest(gnrt_test::nan_value());
        input.fill_interior_random(rng, 0.0f, 1.0f);
        Planes output(g.channels, g.out_height, g.out_width, c.out_pad, c.extra_row + 1,
                      c.extra_channel, 0, c.shared ? c.misalign : (c.misalign + 5) % 16);
        p.geometry = g;
        p.max = true;
        p.pad_bottom = c.pad_bottom;
        p.pad_right = c.pad_right;
        p.input_nonnegative = trial % 7 != 0;
        p.in_row_stride = input.row_stride();
        p.in_channel_stride = input.channel_stride();
        p.in_pad = input.pad();
        p.out_row_stride = output.row_stride();
        p.out_channel_stride = output.channel_stride();
        p.out_pad = output.pad();
        if (!p.input_nonnegative) {
          CHECK_FALSE(info.supports(p));  // the zero-border path needs nonnegative inputs
          continue;
        }
        if (!info.supports(p)) continue;
        // In the lane-shift form the kernel reads no border row (kernels.h): NaN there must
        // not reach any output.
        const bool skips_border_rows = k::x86::maxpool3x3_shift_form(stride, g.pad_left);
        if (skips_border_rows) input.fill_outside_rows(gnrt_test::nan_value());
        CHECK(k::select_pool_kernel(p, info.isa, false).reads_border_rows == !skips_border_rows);
        int wrong = 0, stray = 0;
        check_pool_kernel(info, p, input, output, 0.0, &wrong, &stray);
        INFO(info.name, ": channels ", g.channels, " in ", g.in_height, "x", g.in_width, " out ",
             g.out_height, "x", g.out_width, " pad ", g.pad_top, ",", g.pad_left, " in_pad ",
             c.in_pad, " misalign ", c.misalign);
        CHECK(wrong == 0);
        CHECK(stray == 0);
        if (info.zeroes_row_gaps) CHECK(output.nonzero_row_gaps(g.channels > 3 ? 1 : 0) == 0);
        ++covered;
        if (c.shared) ++covered_aligned;
      }
      MESSAGE(name, ": ", covered, " random problems checked, ", covered_aligned,
              " in the planner's aligned layout");
      if (!global) CHECK(covered_aligned > 40);
      CHECK(covered > 150);
    }
  }
}

TEST_CASE("the pooling selector uses the vectorized kernels only where they apply") {
  if (!cpu_has(k::Isa::kAvx2)) {
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
  if (!cpu_has(k::Isa::kAvx512)) {
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

TEST_CASE("interior lane masks of flat runs match a position-by-position count") {
  std::mt19937 rng(77);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 20000; ++trial) {
    k::x86::RunPlacement r;
    r.row_stride = uniform(1, 70);
    r.width = uniform(1, static_cast<int>(r.row_stride));
    r.start = uniform(-20, 5);
    const std::ptrdiff_t first = uniform(0, 300);
    const int lanes = uniform(1, 16);
    unsigned want = 0;
    for (int l = 0; l < lanes; ++l) {
      const std::ptrdiff_t p = r.start + first + l;
      if (p >= 0 && p % r.row_stride < r.width) want |= 1u << l;
    }
    INFO("start ", r.start, " row_stride ", r.row_stride, " width ", r.width, " first ", first,
         " lanes ", lanes);
    REQUIRE(k::x86::interior_lane_bits(r, first, lanes) == want);
  }
  k::x86::RunPlacement row;  // row_stride 0: one row segment, all lanes interior
  CHECK(k::x86::interior_lane_bits(row, 5, 16) == 0xFFFFu);
}
