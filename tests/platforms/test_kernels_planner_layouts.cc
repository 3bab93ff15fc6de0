// Every row of the kernel lists of this build (kernel_registry.h, any ISA) against the scalar
// reference on the layouts the planner makes: shared left/right borders, row and channel strides
// rounded up to 16 floats with 64-byte aligned interior origins (the aligned paths of the flat
// runs), the shift kernels' input-channel blocks at row strides 16, 32 and 64, and, for the pools
// that read no border row (reads_border_rows == false), NaN in those rows. Inputs sit in guarded
// memory (guarded_memory.h) with the overread slack before a guard page or the underread slack
// after one; weights are NaN once packed (plan-time only). Part of test_kernels_guarded, which
// runs natively and under qemu; rows this CPU lacks the ISA of are skipped with a message.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "gnrt/kernels.h"
#include "guarded_memory.h"
#include "kernel_registry.h"
#include "kernel_test_util.h"

namespace k = gnrt::kernels;
using gnrt_test::GuardedFloats;
using gnrt_test::Planes;

namespace {

constexpr float kSentinel = -7777.0f;

const k::IsaKernels* family() { return k::kernels_for(k::detect_isa()); }

// check(info, rng) for every row of `table`, a subcase each, with its own seed (seed + row index);
// rows this CPU lacks the ISA of are skipped with a message.
template <typename Info, typename Check>
void for_each_row(const k::KernelTable<Info>& table, unsigned seed, Check check) {
  unsigned row = 0;
  for (const Info& info : table) {
    SUBCASE(info.name) {
      if (k::row_allowed(info, k::detect_isa())) {
        std::mt19937 rng(seed + row);
        check(info, rng);
      } else {
        MESSAGE("skipped ", std::string(info.name), ": this CPU lacks ", k::isa_name(info.isa));
      }
    }
    ++row;
  }
}

bool name_has(const char* name, const char* part) {
  return std::string(name).find(part) != std::string::npos;
}

struct Packed {
  std::vector<std::uint8_t> storage;
  void* data = nullptr;
  explicit Packed(std::size_t bytes) : storage(bytes + 64) {
    data = storage.data() + (64 - reinterpret_cast<std::uintptr_t>(storage.data()) % 64);
  }
};

// A copy of an input's region (its planes and the overread slack they were made with) in guarded
// memory: the region ends at a guard page (guard_after), or the `front` floats of underread slack
// before it start right after one. The interior origin keeps its place against 64-byte lines (the
// kernels' aligned paths depend on it), so up to 15 more NaN floats may separate the slack from
// the page, as in the planner's arena, which rounds both slacks up to 64 bytes (plan.cc).
class GuardedPlanes {
 public:
  GuardedPlanes(const Planes& planes, bool guard_after,
                std::ptrdiff_t front = k::kMaxUnderreadFloats)
      : memory_(static_cast<std::size_t>(front) + 15 + planes.region_size(), guard_after) {
    const auto size = static_cast<std::ptrdiff_t>(planes.region_size());
    const std::ptrdiff_t origin_at = planes.origin() - planes.region();
    const auto phase = static_cast<std::ptrdiff_t>(
        reinterpret_cast<std::uintptr_t>(planes.origin()) / sizeof(float) % 16);
    const std::ptrdiff_t count = front + 15 + size;
    std::fill(memory_.data(), memory_.data() + count, gnrt_test::nan_value());
    // memory_ starts (guard before) or ends (guard after) at a page, a multiple of 16 floats.
    const std::ptrdiff_t region_at =
        guard_after ? count - size - (((origin_at - size - phase) % 16 + 16) % 16)
                    : front + (((phase - front - origin_at) % 16 + 16) % 16);
    std::memcpy(memory_.data() + region_at, planes.region(), sizeof(float) * size);
    origin_ = memory_.data() + region_at + origin_at;
  }
  const float* origin() const { return origin_; }

 private:
  GuardedFloats memory_;
  const float* origin_ = nullptr;
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
// kernels (s1g) require; otherwise a third of the stride-1 cases.
ConvCase random_case(std::mt19937& rng, int stride, bool allow_groups, bool aligned16) {
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
    // 48, 96 at 16; x86/sparse_conv_packing.h), and wider maps (row stride 64).
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

// Floats of `output` that a run over the channels [c_begin, channels) changed outside their
// padded planes (rows of row_stride floats), e.g. in channel 0 when the range starts at 1. (With
// shared borders the pad floats after the last row are border as well; a flat run never reaches
// them, so they count as outside.)
int stray_writes(const Planes& output, int c_begin) {
  int stray = 0;
  for (std::size_t i = 0; i < output.region_size(); ++i) {
    const auto pos = static_cast<std::ptrdiff_t>(i);
    const int ch = output.channel_of(pos);
    const std::ptrdiff_t in_plane = pos % output.channel_stride();
    const bool own =
        ch >= c_begin && in_plane / output.row_stride() < output.height() + 2 * output.pad();
    if (!own && output.region()[i] != kSentinel) ++stray;
  }
  return stray;
}

// Runs `info` on one random case and compares with the scalar dense reference. Returns false
// when the kernel does not support the case.
bool check_conv_kernel(const k::ConvKernelInfo& info, const ConvCase& c, double density,
                       bool give_sparse, bool guard_after, std::mt19937& rng) {
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
  gnrt_test::set_layout(&p, input, output);
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

  // Two channel ranges, as threads would split them.
  const GuardedPlanes guarded(input, guard_after);
  const int oc_begin = g.out_channels > 4 ? 1 : 0;
  const int split = (oc_begin + g.out_channels) / 2;
  info.run(p, packed.data, guarded.origin(), output.origin(), oc_begin, split);
  info.run(p, packed.data, guarded.origin(), output.origin(), split, g.out_channels);

  Planes expected(g.out_channels, g.out_height, g.out_width, 0);
  k::f32_conv2d_dense__scalar(g, {input.origin(), input.row_stride(), input.channel_stride()},
                              kept_weights.data(), kept_bias.data(),
                              {expected.origin(), expected.row_stride(), expected.channel_stride()},
                              p.activation, 0, g.out_channels);
  const double tolerance = 2e-5 * gnrt_test::conv_magnitude_bound(g, kept_weights);
  int wrong = 0;
  double worst = 0;
  for (int oc = oc_begin; oc < g.out_channels; ++oc)
    for (int y = 0; y < g.out_height; ++y)
      for (int x = 0; x < g.out_width; ++x) {
        const double err = std::fabs(output.at(oc, y, x) - expected.at(oc, y, x));
        if (!(err <= tolerance)) ++wrong;
        if (!(err <= worst)) worst = err;
      }
  INFO(info.name, ": ", describe(c), " density ", density, " worst error ", worst,
       guard_after ? " guard after" : " guard before");
  CHECK(wrong == 0);
  CHECK(stray_writes(output, oc_begin) == 0);
  // Row gaps of the computed channels: zeros when the kernel says it writes them (kernels.h).
  if (info.zeroes_row_gaps) CHECK(output.nonzero_row_gaps(oc_begin) == 0);
  return true;
}

}  // namespace

TEST_CASE("convolution kernels on the planner's aligned layouts and input-channel blocks") {
  const k::IsaKernels* kernels = family();
  if (kernels == nullptr) return;
  for_each_row(kernels->conv, 1000, [](const k::ConvKernelInfo& info, std::mt19937& rng) {
    const double densities[] = {0.0, 0.03, 0.0625, 0.2, 0.5, 1.0};
    // The variant names of kernel_registry.h: a stated stride is the one the kernel takes (the
    // others alternate); the phase-buffer kernels (s2p, s2pg) take no groups; the shift-group
    // kernels (s1g) need the planner's aligned layout.
    const bool s2 = name_has(info.name, "_s2"), s1 = name_has(info.name, "_s1");
    const bool phase = name_has(info.name, "_s2p");
    const bool shift = name_has(info.name, "_s1g_");
    int covered = 0;
    for (int trial = 0; trial < 2000 && covered < 250; ++trial) {
      const int stride = s2 ? 2 : s1 ? 1 : 1 + trial % 2;
      const ConvCase c = random_case(rng, stride, info.sparse && !phase, shift);
      if (check_conv_kernel(info, c, densities[trial % 6], trial % 2 == 0, trial % 4 < 2, rng))
        ++covered;
    }
    MESSAGE(std::string(info.name), ": ", covered, " random problems checked");
    CHECK(covered == 250);
  });
}

TEST_CASE("no optimized kernel takes a problem whose border does not cover the taps") {
  k::ConvProblem p{};
  p.geometry = {4, 8, 8, 4, 8, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1};
  p.in_pad = 0;  // a 3x3 "same" convolution needs 1
  p.in_row_stride = p.out_row_stride = 8;
  p.in_channel_stride = p.out_channel_stride = 64;
  const std::vector<float> w(4 * 4 * 9, 1.0f);
  p.dense_weights = w.data();
  p.nonzeros = w.size();
  const k::IsaKernels* kernels = family();
  if (kernels != nullptr)
    for (const k::ConvKernelInfo& info : kernels->conv) {
      INFO(info.name);
      CHECK_FALSE(info.supports(p));
    }
  // The selector then falls back to the reference kernel.
  const k::ConvKernel chosen = k::select_conv_kernel(p, k::detect_isa(), false);
  CHECK(std::string(chosen.name) == "f32_conv2d_dense__scalar");
}

TEST_CASE("fully connected kernels: wide inputs, split ranges, weights gone after packing") {
  const k::IsaKernels* kernels = family();
  if (kernels == nullptr) return;
  for_each_row(kernels->fc, 77, [](const k::FcKernelInfo& info, std::mt19937& rng) {
    int covered = 0;
    for (int trial = 0; trial < 120; ++trial) {
      const int in = std::uniform_int_distribution<int>(1, 1100)(rng);
      const int out = std::uniform_int_distribution<int>(1, 70)(rng);
      const double density = std::vector<double>{0.0, 0.01, 0.0625, 0.3, 1.0}[trial % 5];
      auto w = gnrt_test::random_sparse_weights(rng, static_cast<std::size_t>(in) * out, density);
      auto bias = gnrt_test::random_vector(rng, out);
      const auto x = gnrt_test::random_vector(rng, in);
      auto csr = gnrt_test::to_csr(w, out, in);
      k::FcProblem p{};
      p.in_features = in;
      p.out_features = out;
      p.activation = trial % 3 == 0 ? k::Activation::kRelu : k::Activation::kNone;
      if (trial % 2 == 0) {
        p.sparse = csr.view();
      } else {
        p.dense_weights = w.data();
      }
      p.bias = bias.data();
      p.nonzeros = csr.nonzeros();
      if (info.supports != nullptr && !info.supports(p)) continue;
      ++covered;
      std::vector<float> expected(out);
      k::f32_fc_dense__scalar(in, out, x.data(), w.data(), bias.data(), expected.data(),
                              p.activation, 0, out);
      Packed packed(info.packed_bytes(p));
      info.pack(p, packed.data);
      std::fill(w.begin(), w.end(), gnrt_test::nan_value());
      std::fill(csr.values.begin(), csr.values.end(), gnrt_test::nan_value());
      std::fill(bias.begin(), bias.end(), gnrt_test::nan_value());
      p.dense_weights = nullptr;
      p.sparse = {};
      p.bias = nullptr;
      GuardedFloats input(static_cast<std::size_t>(in), trial % 4 < 2);
      std::memcpy(input.data(), x.data(), sizeof(float) * in);
      std::vector<float> result(out + 1, kSentinel);
      const int o_begin = out > 3 ? 1 : 0;
      info.run(p, packed.data, input.data(), result.data(), o_begin, out / 2 + 1);
      info.run(p, packed.data, input.data(), result.data(), out / 2 + 1, out);
      INFO(info.name, " in ", in, " out ", out, " density ", density);
      CHECK(result[out] == kSentinel);
      if (o_begin == 1) CHECK(result[0] == kSentinel);
      int wrong = 0;
      for (int o = o_begin; o < out; ++o) {
        if (!(std::fabs(result[o] - expected[o]) <= 1e-5 * (1.0 + std::sqrt(in)))) ++wrong;
      }
      CHECK(wrong == 0);
    }
    CHECK(covered > 100);
  });
}

namespace {

struct PoolCase {
  k::PoolGeometry g{};
  int in_pad = 0, out_pad = 0, extra_row = 0, extra_channel = 0, misalign = 0;
  int pad_bottom = 0, pad_right = 0;
  bool shared = false;  // the planner's aligned layout (see random_pool_case)
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
    // A third of the cases in the planner's aligned layout: shared borders, row and channel
    // strides multiples of 16 floats, interior origins 64-byte aligned (x86/pool_impl.h).
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

// Runs a pooling row on `input` (planes already filled, in guarded memory before or after them)
// in two channel ranges; counts the interior mismatches against the scalar reference and the
// stray writes.
void check_pool_kernel(const k::PoolKernelInfo& info, const k::PoolProblem& p, const Planes& input,
                       bool guard_after, Planes& output, double tolerance, int* wrong, int* stray) {
  output.fill_all(kSentinel);
  const GuardedPlanes guarded(input, guard_after);
  const int channels = p.geometry.channels;
  const int c_begin = channels > 3 ? 1 : 0;
  const int split = (c_begin + channels) / 2;
  info.run(p, guarded.origin(), output.origin(), c_begin, split);
  info.run(p, guarded.origin(), output.origin(), split, channels);
  Planes expected(channels, output.height(), output.width(), 0);
  const k::PoolKernel reference = k::select_pool_kernel(p, k::Isa::kScalar, true);
  k::PoolProblem q = p;
  q.out_row_stride = expected.row_stride();
  q.out_channel_stride = expected.channel_stride();
  reference.run(q, input.origin(), expected.origin(), 0, channels);
  *wrong = 0;
  for (int c = c_begin; c < channels; ++c)
    for (int y = 0; y < output.height(); ++y)
      for (int x = 0; x < output.width(); ++x) {
        const double err = std::fabs(output.at(c, y, x) - expected.at(c, y, x));
        if (!(err <= tolerance * std::max(1.0, std::fabs(double(expected.at(c, y, x)))))) {
          ++*wrong;
        }
      }
  *stray = stray_writes(output, c_begin);
}

// One global average pooling problem; false when the row declines it.
bool check_global_pool(const k::PoolKernelInfo& info, std::mt19937& rng, int trial) {
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  const int channels = uniform(1, 40), h = uniform(1, 20), w = uniform(1, 40);
  Planes input(channels, h, w, uniform(0, 2), uniform(0, 3), uniform(0, 2) * 5,
               static_cast<int>(k::kMaxOverreadFloats), uniform(0, 15));
  input.fill_all(gnrt_test::nan_value());  // nothing outside the interior is read
  input.fill_interior_random(rng);
  // Output: one value per channel, contiguous or strided (a 1x1 plane with a border).
  const int out_pad = uniform(0, 1);
  Planes output(channels, 1, 1, out_pad);
  k::PoolProblem p{};
  p.activation = trial % 3 == 0 ? k::Activation::kRelu : k::Activation::kNone;
  p.geometry = {channels, h, w, 1, 1, h, w, 1, 1, 0, 0};
  p.global = true;
  gnrt_test::set_layout(&p, input, output);
  if (!info.supports(p)) return false;
  int wrong = 0, stray = 0;
  check_pool_kernel(info, p, input, trial % 4 < 2, output, 1e-5, &wrong, &stray);
  INFO(info.name, ": channels ", channels, " ", h, "x", w);
  CHECK(wrong == 0);
  CHECK(stray == 0);
  return true;
}

}  // namespace

TEST_CASE("pooling kernels on the planner's aligned layouts, NaN in the border rows they skip") {
  const k::IsaKernels* kernels = family();
  if (kernels == nullptr) return;
  for_each_row(kernels->pool, 500, [](const k::PoolKernelInfo& info, std::mt19937& rng) {
    const bool global = name_has(info.name, "global");
    int covered = 0, covered_aligned = 0, skipping_rows = 0;
    for (int trial = 0; trial < 300; ++trial) {
      if (global) {
        if (check_global_pool(info, rng, trial)) ++covered;
        continue;
      }
      const int stride = name_has(info.name, "3x3s2") ? 2 : 1;
      const PoolCase c = random_pool_case(rng, stride);
      const k::PoolGeometry& g = c.g;
      Planes input(g.channels, g.in_height, g.in_width, c.in_pad, c.extra_row, c.extra_channel,
                   static_cast<int>(k::kMaxOverreadFloats), c.misalign, c.shared);
      input.zero_border_fill_rest(gnrt_test::nan_value());
      input.fill_interior_random(rng, 0.0f, 1.0f);
      Planes output(g.channels, g.out_height, g.out_width, c.out_pad, c.extra_row + 1,
                    c.extra_channel, 0, c.shared ? c.misalign : (c.misalign + 5) % 16);
      k::PoolProblem p{};
      p.activation = trial % 3 == 0 ? k::Activation::kRelu : k::Activation::kNone;
      p.geometry = g;
      p.max = true;
      p.pad_bottom = c.pad_bottom;
      p.pad_right = c.pad_right;
      p.input_nonnegative = trial % 7 != 0;
      gnrt_test::set_layout(&p, input, output);
      if (!p.input_nonnegative) {
        CHECK_FALSE(info.supports(p));  // the zero-border path needs nonnegative inputs
        continue;
      }
      if (!info.supports(p)) continue;
      // A kernel that reads no border row (kernels.h): NaN there must not reach any output.
      const k::PoolKernel kernel = k::to_pool_kernel(info, p);
      if (!kernel.reads_border_rows) {
        input.fill_outside_rows(gnrt_test::nan_value());
        ++skipping_rows;
      }
      const k::PoolKernel selected = k::select_pool_kernel(p, info.isa, false);
      if (std::string(selected.name) == info.name)
        CHECK(selected.reads_border_rows == kernel.reads_border_rows);
      int wrong = 0, stray = 0;
      check_pool_kernel(info, p, input, trial % 4 < 2, output, 0.0, &wrong, &stray);
      INFO(info.name, ": channels ", g.channels, " in ", g.in_height, "x", g.in_width, " out ",
           g.out_height, "x", g.out_width, " pad ", g.pad_top, ",", g.pad_left, " in_pad ",
           c.in_pad, " misalign ", c.misalign);
      CHECK(wrong == 0);
      CHECK(stray == 0);
      if (info.zeroes_row_gaps) CHECK(output.nonzero_row_gaps(g.channels > 3 ? 1 : 0) == 0);
      ++covered;
      if (c.shared) ++covered_aligned;
    }
    MESSAGE(std::string(info.name), ": ", covered, " random problems checked, ", covered_aligned,
            " in the planner's aligned layout, ", skipping_rows, " with NaN border rows");
    if (!global) CHECK(covered_aligned > 40);
    CHECK(covered > 150);
  });
}
