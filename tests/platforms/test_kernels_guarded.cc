// Every optimized kernel of the ISA family this build compiles (the kernel lists of
// kernel_registry.h: x86 on x86-64, NEON on aarch64/armv7) against the scalar reference, on random
// shapes, densities, strides, borders and channel ranges, plus GoogLeNet's convolution shapes
// (with fewer channels, to keep qemu fast). The same source runs natively and, in the cross
// sub-builds (tests/cross), under qemu. A row is skipped with a message where the CPU lacks its
// ISA, and silently on the problems its supports() declines.
//
// Besides the values, the tests hold the kernels to the layout contract of gnrt/kernels.h:
//  - inputs sit in guarded memory: kMaxUnderreadFloats of slack, the padded planes and
//    kMaxOverreadFloats of slack end at an inaccessible page (or begin right after one), so a read
//    beyond what the contract allows crashes the test;
//  - gaps between planes, extra row-stride columns and the slack hold NaN, so a value read there
//    that leaks into an interior output shows up as a mismatch;
//  - outputs are pre-filled with a sentinel: only interior and border elements of the channels
//    in [oc_begin, oc_end) may change; a kernel that zeroes row gaps (zeroes_row_gaps) writes
//    exact zeros there and nothing but the interior and zeros elsewhere;
//  - running the channel range in two parts gives bit-identical results (threads split ranges).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gnrt/kernels.h"
#include "guarded_memory.h"
#include "kernel_registry.h"
#if defined(__aarch64__) || defined(__arm__)
#define GNRT_TEST_ARM 1
#include "arm/sparse_pack.h"
#endif

namespace {

using gnrt::kernels::Activation;
using gnrt::kernels::ConvGeometry;
using gnrt::kernels::ConvKernel;
using gnrt::kernels::ConvProblem;
using gnrt::kernels::FcKernel;
using gnrt::kernels::FcProblem;
using gnrt::kernels::kMaxOverreadFloats;
using gnrt::kernels::kMaxUnderreadFloats;
namespace k = gnrt::kernels;
using gnrt::kernels::SparseRows;

constexpr float kSentinel = -12345.0f;

// The family of the best ISA this CPU runs, or nullptr (a CPU without one: nothing to test).
const k::IsaKernels* family() { return k::kernels_for(k::detect_isa()); }

// Floats of a guarded input region: the allowed slack on both sides of the planes.
std::size_t with_slack(std::size_t planes) {
  return static_cast<std::size_t>(kMaxUnderreadFloats) + planes + kMaxOverreadFloats;
}

using gnrt_test::GuardedFloats;

// Whether this CPU runs the row (a skip message when not).
template <typename Info>
bool runs_here(const Info& info) {
  if (k::row_allowed(info, k::detect_isa())) return true;
  MESSAGE("skipped, CPU lacks the ISA: " << info.name);
  return false;
}

// Geometry of a stack of padded planes: plane c's padded region starts at c * channel_stride,
// element (c, y, x) is at origin + c * channel_stride + y * row_stride + x.
struct PlaneLayout {
  int channels = 0, height = 0, width = 0, pad = 0;
  std::ptrdiff_t row_stride = 0, channel_stride = 0;

  PlaneLayout(int c, int h, int w, int p, int extra_row, int extra_channel)
      : channels(c), height(h), width(w), pad(p) {
    row_stride = w + 2 * p + extra_row;
    channel_stride = static_cast<std::ptrdiff_t>(h + 2 * p) * row_stride + extra_channel;
  }
  std::size_t planes_floats() const { return static_cast<std::size_t>(channels) * channel_stride; }
  std::ptrdiff_t origin_offset() const { return pad * row_stride + pad; }

  enum Kind { kInterior, kBorder, kOutside };
  // Kind of flat position i of the stack (relative to its start).
  Kind kind(std::ptrdiff_t i, int* channel) const {
    *channel = static_cast<int>(i / channel_stride);
    if (*channel >= channels) return kOutside;
    const std::ptrdiff_t in_plane = i % channel_stride;
    const std::ptrdiff_t y = in_plane / row_stride - pad;
    const std::ptrdiff_t x = in_plane % row_stride - pad;
    if (y >= height + pad) return kOutside;  // gap between planes
    if (x >= width + pad) return kOutside;   // extra row-stride columns
    if (y >= 0 && y < height && x >= 0 && x < width) return kInterior;
    return kBorder;
  }
};

struct ConvCase {
  ConvGeometry g{};
  int in_pad = 0, in_extra_row = 0, in_extra_channel = 0;
  int out_pad = 0, out_extra_row = 0, out_extra_channel = 0;
  int out_channel_offset = 0;  // channels of a concatenated output before this layer's slice
  int out_channels_total = 0;
  double density = 0.5;
  bool relu = false;
  bool with_bias = true;
  bool dense_weights = false;  // hand the kernel OIHW weights instead of CSR
};

std::string describe(const ConvCase& c) {
  std::ostringstream s;
  const ConvGeometry& g = c.g;
  s << "conv " << g.in_channels << "x" << g.in_height << "x" << g.in_width << " -> "
    << g.out_channels << "x" << g.out_height << "x" << g.out_width << " k" << g.kernel_h << "x"
    << g.kernel_w << " s" << g.stride_h << "x" << g.stride_w << " p" << g.pad_top << ","
    << g.pad_left << " in_pad " << c.in_pad << "+" << c.in_extra_row << "/" << c.in_extra_channel
    << " out_pad " << c.out_pad << "+" << c.out_extra_row << "/" << c.out_extra_channel << " slice "
    << c.out_channel_offset << "/" << c.out_channels_total << " density " << c.density
    << (c.relu ? " relu" : "") << (c.with_bias ? " bias" : "")
    << (c.dense_weights ? " dense-weights" : "");
  return s.str();
}

struct Csr {
  std::vector<std::uint32_t> row_begin{0};
  std::vector<std::uint32_t> indices;
  std::vector<float> values;
  SparseRows view() const { return {row_begin.data(), indices.data(), values.data()}; }
};

// Weights with each entry nonzero with probability `density` (never exactly 0 when kept).
std::vector<float> random_weights(std::mt19937& rng, std::size_t count, double density) {
  std::uniform_real_distribution<float> magnitude(0.05f, 1.0f);
  std::uniform_real_distribution<double> keep(0.0, 1.0);
  std::vector<float> w(count, 0.0f);
  for (float& x : w)
    if (keep(rng) < density) x = (rng() & 1) ? magnitude(rng) : -magnitude(rng);
  return w;
}

Csr to_csr(const std::vector<float>& dense, int rows, std::size_t row_size) {
  Csr csr;
  for (int r = 0; r < rows; ++r) {
    for (std::size_t i = 0; i < row_size; ++i) {
      const float v = dense[r * row_size + i];
      if (v == 0.0f) continue;
      csr.indices.push_back(static_cast<std::uint32_t>(i));
      csr.values.push_back(v);
    }
    csr.row_begin.push_back(static_cast<std::uint32_t>(csr.values.size()));
  }
  return csr;
}

struct AlignedBytes {
  explicit AlignedBytes(std::size_t bytes)
      : data(std::aligned_alloc(64, std::max<std::size_t>(64, (bytes + 63) / 64 * 64))) {}
  ~AlignedBytes() { std::free(data); }
  AlignedBytes(const AlignedBytes&) = delete;
  AlignedBytes& operator=(const AlignedBytes&) = delete;
  void* data;
};

// Input planes in a guarded region: zero borders, random interior, NaN in gaps and slack.
// `region` holds with_slack(layout.planes_floats()) floats, the planes after the front slack.
void fill_input(const PlaneLayout& layout, std::mt19937& rng, float* region, std::size_t floats) {
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (std::ptrdiff_t i = 0; i < kMaxUnderreadFloats; ++i) region[i] = nan;
  region += kMaxUnderreadFloats;
  floats -= kMaxUnderreadFloats;
  for (std::size_t i = 0; i < floats; ++i) {
    int channel = 0;
    switch (layout.kind(static_cast<std::ptrdiff_t>(i), &channel)) {
      case PlaneLayout::kInterior:
        region[i] = value(rng);
        break;
      case PlaneLayout::kBorder:
        region[i] = 0.0f;
        break;
      case PlaneLayout::kOutside:
        region[i] = nan;
        break;
    }
  }
}

// For a kernel that zeroes row gaps, a non-interior float of a channel it computes: exact zero
// in the row gaps ([width, row_stride) after every interior row, the last one's only with a
// border below), the sentinel or zero elsewhere in the padded plane, the sentinel outside it. "" when all is well.
std::string check_zeroed_gap(const PlaneLayout& out, std::size_t i, PlaneLayout::Kind kind,
                             float got) {
  const std::ptrdiff_t origin = out.origin_offset();
  const std::ptrdiff_t from_origin = static_cast<std::ptrdiff_t>(i) % out.channel_stride - origin;
  const std::ptrdiff_t y = from_origin >= 0 ? from_origin / out.row_stride : -1;
  const std::ptrdiff_t x = from_origin >= 0 ? from_origin % out.row_stride : -1;
  const bool gap =
      y >= 0 && x >= out.width && (y < out.height - 1 || (y == out.height - 1 && out.pad >= 1));
  std::ostringstream s;
  if (gap && got != 0.0f) {
    s << "row gap (" << y << "," << x << ") holds " << got << ", not zero";
  } else if (!gap && kind == PlaneLayout::kOutside && got != kSentinel) {
    s << "wrote " << got << " at flat " << i << ", outside the padded plane";
  } else if (!gap && got != 0.0f && got != kSentinel) {
    s << "wrote " << got << " at flat " << i << " outside the interior (a gap-zeroing kernel "
      << "writes only zeros there)";
  }
  return s.str();
}

// Compares the kernel's output region with the reference (dense [oc][oh][ow]) and the bound
// (same shape, sum of |terms|); returns the first problem found, or "" when all is well.
std::string check_output(const ConvCase& c, const PlaneLayout& out, const float* region,
                         const std::vector<float>& reference, const std::vector<float>& bound,
                         int oc_begin, int oc_end, bool zeroes_row_gaps) {
  const ConvGeometry& g = c.g;
  for (std::size_t i = 0; i < out.planes_floats(); ++i) {
    int channel = 0;
    const PlaneLayout::Kind kind = out.kind(static_cast<std::ptrdiff_t>(i), &channel);
    const int oc = channel - c.out_channel_offset;
    const bool mine = oc >= oc_begin && oc < oc_end;
    const float got = region[i];
    if (mine && zeroes_row_gaps && kind != PlaneLayout::kInterior) {
      const std::string problem = check_zeroed_gap(out, i, kind, got);
      if (!problem.empty()) return problem;
      continue;
    }
    if (!mine || kind == PlaneLayout::kOutside) {
      if (got != kSentinel) {
        std::ostringstream s;
        s << "wrote " << got << " at flat " << i << " (channel " << channel
          << (mine ? ", outside the padded plane)" : ", not in the channel range)");
        return s.str();
      }
      continue;
    }
    if (kind == PlaneLayout::kBorder) continue;  // anything goes; the runtime re-zeroes it
    const std::ptrdiff_t in_plane = static_cast<std::ptrdiff_t>(i) % out.channel_stride;
    const int y = static_cast<int>(in_plane / out.row_stride) - out.pad;
    const int x = static_cast<int>(in_plane % out.row_stride) - out.pad;
    const std::size_t r = (static_cast<std::size_t>(oc) * g.out_height + y) * g.out_width + x;
    const float want = reference[r];
    const float tolerance = 1e-5f * bound[r] + 1e-6f;
    if (!(std::fabs(got - want) <= tolerance)) {
      std::ostringstream s;
      s << "output (" << oc << "," << y << "," << x << ") = " << got << ", reference " << want
        << " (tolerance " << tolerance << ")";
      return s.str();
    }
  }
  return "";
}

// Kernel runs over all cases, so that a test case can assert that its cases reached kernels.
int g_conv_runs = 0;

// Runs every row of the family's convolution list this CPU runs and that supports the case.
void run_conv_case(const ConvCase& c, std::mt19937& rng, bool expect_merged = false) {
  INFO(describe(c));
  const ConvGeometry& g = c.g;
  const PlaneLayout in(g.in_channels, g.in_height, g.in_width, c.in_pad, c.in_extra_row,
                       c.in_extra_channel);
  const PlaneLayout out(c.out_channels_total, g.out_height, g.out_width, c.out_pad, c.out_extra_row,
                        c.out_extra_channel);
  const std::size_t in_floats = with_slack(in.planes_floats());

  const std::size_t taps = static_cast<std::size_t>(g.in_channels) * g.kernel_h * g.kernel_w;
  const std::vector<float> dense = random_weights(rng, taps * g.out_channels, c.density);
  const Csr csr = to_csr(dense, g.out_channels, taps);
  std::vector<float> bias(g.out_channels);
  std::uniform_real_distribution<float> bias_value(-0.5f, 0.5f);
  for (float& b : bias) b = bias_value(rng);

  // One input, copied into a front-guarded and a back-guarded region.
  std::vector<float> input(in_floats);
  fill_input(in, rng, input.data(), in_floats);

  // Reference and error bound (the same sum over |weights| and |inputs|), dense outputs.
  const std::size_t out_plane = static_cast<std::size_t>(g.out_height) * g.out_width;
  std::vector<float> reference(out_plane * g.out_channels), bound(reference.size());
  const Activation activation = c.relu ? Activation::kRelu : Activation::kNone;
  gnrt::kernels::f32_conv2d_sparse__scalar(
      g,
      {input.data() + kMaxUnderreadFloats + in.origin_offset(), in.row_stride, in.channel_stride},
      csr.view(), c.with_bias ? bias.data() : nullptr,
      {reference.data(), g.out_width, static_cast<std::ptrdiff_t>(out_plane)}, activation, 0,
      g.out_channels);
  {
    std::vector<float> abs_input(input);
    for (float& v : abs_input) v = std::fabs(v);
    Csr abs_csr = csr;
    for (float& v : abs_csr.values) v = std::fabs(v);
    std::vector<float> abs_bias(bias);
    for (float& v : abs_bias) v = std::fabs(v);
    gnrt::kernels::f32_conv2d_sparse__scalar(
        g,
        {abs_input.data() + kMaxUnderreadFloats + in.origin_offset(), in.row_stride,
         in.channel_stride},
        abs_csr.view(), abs_bias.data(),
        {bound.data(), g.out_width, static_cast<std::ptrdiff_t>(out_plane)}, Activation::kNone, 0,
        g.out_channels);
  }

  ConvProblem problem{};
  problem.geometry = g;
  problem.in_row_stride = in.row_stride;
  problem.in_channel_stride = in.channel_stride;
  problem.in_pad = c.in_pad;
  problem.out_row_stride = out.row_stride;
  problem.out_channel_stride = out.channel_stride;
  problem.out_pad = c.out_pad;
  problem.activation = activation;
  if (c.dense_weights) {
    problem.dense_weights = dense.data();
    problem.sparse = SparseRows{nullptr, nullptr, nullptr};
    problem.nonzeros = dense.size();
  } else {
    problem.dense_weights = nullptr;
    problem.sparse = csr.view();
    problem.nonzeros = csr.values.size();
  }
  problem.bias = c.with_bias ? bias.data() : nullptr;

  const k::IsaKernels* kernels = family();
  if (kernels == nullptr) return;
  int tested = 0;
  for (const k::ConvKernelInfo& info : kernels->conv) {
    INFO(info.name);
    if (!runs_here(info)) continue;
#if defined(GNRT_TEST_ARM)
    REQUIRE(info.supports(problem));  // the NEON kernels take every case of these tests
#endif
    if (!info.supports(problem)) continue;
    ++tested;
    const ConvKernel kernel = k::to_conv_kernel(info, problem);
    AlignedBytes packed(kernel.packed_bytes);
    kernel.pack(problem, packed.data);
#if defined(GNRT_TEST_ARM)
    CHECK(kernel.sparse);
    if (expect_merged) {
      // The planner's layout must take the fast path (one segment over the padded width).
      CHECK(gnrt::kernels::arm::conv_sparse_view(packed.data).header->segments == 1);
    }
#else
    (void)expect_merged;
#endif

    std::vector<float> first_result;
    for (int layout = 0; layout < 3; ++layout) {
      // 0: input ends at a guard page; 1: input starts after one; 2: as 0, channels split in
      // two calls (the result must equal layout 0's bit for bit).
      GuardedFloats guarded_in(in_floats, layout != 1);
      std::memcpy(guarded_in.data(), input.data(), in_floats * sizeof(float));
      std::vector<float> out_region(out.planes_floats(), kSentinel);
      const float* in_origin = guarded_in.data() + kMaxUnderreadFloats + in.origin_offset();
      float* out_origin = out_region.data() + out.origin_offset() +
                          static_cast<std::ptrdiff_t>(c.out_channel_offset) * out.channel_stride;
      int oc_begin = 0, oc_end = g.out_channels;
      if (layout == 2) {
        // A random sub-range in two parts: the channels outside it must stay untouched.
        oc_begin = static_cast<int>(rng() % g.out_channels);
        oc_end = oc_begin + 1 + static_cast<int>(rng() % (g.out_channels - oc_begin));
        const int split = oc_begin + static_cast<int>(rng() % (oc_end - oc_begin + 1));
        kernel.run(problem, packed.data, in_origin, out_origin, oc_begin, split);
        kernel.run(problem, packed.data, in_origin, out_origin, split, oc_end);
      } else {
        kernel.run(problem, packed.data, in_origin, out_origin, oc_begin, oc_end);
      }
      INFO("layout " << layout << " channels [" << oc_begin << ", " << oc_end << ")");
      const std::string problem_found = check_output(c, out, out_region.data(), reference, bound,
                                                     oc_begin, oc_end, kernel.zeroes_row_gaps);
      CHECK_MESSAGE(problem_found.empty(), problem_found);
      if (layout == 0) first_result = out_region;
      if (layout == 2) {
        // Interior values of the sub-range equal the full-range run exactly.
        bool identical = true;
        for (std::size_t i = 0; i < out_region.size() && identical; ++i) {
          int channel = 0;
          if (out.kind(static_cast<std::ptrdiff_t>(i), &channel) != PlaneLayout::kInterior)
            continue;
          const int oc = channel - c.out_channel_offset;
          if (oc >= oc_begin && oc < oc_end) identical = out_region[i] == first_result[i];
        }
        CHECK_MESSAGE(identical, "split channel range differs from the full-range run");
      }
    }
  }
  g_conv_runs += tested;
}

int random_int(std::mt19937& rng, int low, int high) {  // inclusive
  return std::uniform_int_distribution<int>(low, high)(rng);
}

// Output size for an input size, kernel, stride, and the two paddings.
int out_size(int in, int kernel, int stride, int pad_before, int pad_after) {
  return (in + pad_before + pad_after - kernel) / stride + 1;
}

}  // namespace

TEST_CASE("the kernel lists of this build are not empty and name their ISA") {
  const k::IsaKernels* kernels = family();
  if (kernels == nullptr) {
    MESSAGE("skipped: this CPU runs no optimized ISA compiled in");
    return;
  }
  REQUIRE(kernels->conv.count >= 1);
  REQUIRE(kernels->fc.count >= 1);
  REQUIRE(kernels->pool.count >= 1);
  const char* isa = k::detect_isa() == k::Isa::kNeon ? "__neon" : "__avx";
  for (const auto& info : kernels->conv)
    CHECK(std::string(info.name).find(isa) != std::string::npos);
  for (const auto& info : kernels->fc) CHECK(std::string(info.name).find(isa) != std::string::npos);
  for (const auto& info : kernels->pool)
    CHECK(std::string(info.name).find(isa) != std::string::npos);
#if defined(GNRT_TEST_ARM)
  CHECK(k::detect_isa() == k::Isa::kNeon);
#endif
}

TEST_CASE("convolution kernels: planner layout (stride 1, shared pad), random shapes") {
  const int runs_before = g_conv_runs;
  std::mt19937 rng(1234);
  const double densities[] = {0.0, 0.03, 0.1, 0.4, 1.0};
  for (int trial = 0; trial < 100; ++trial) {
    ConvCase c;
    const int k = 1 + 2 * random_int(rng, 0, 3);  // 1, 3, 5, 7
    ConvGeometry& g = c.g;
    g.in_channels = random_int(rng, 1, 12);
    g.out_channels = random_int(rng, 1, 24);
    g.in_height = random_int(rng, 1, 20);
    g.in_width = random_int(rng, 1, 40);
    g.kernel_h = g.kernel_w = k;
    g.stride_h = g.stride_w = 1;
    g.pad_top = g.pad_left = k / 2;
    g.out_height = g.in_height;
    g.out_width = g.in_width;
    g.dilation_h = g.dilation_w = 1;
    g.groups = 1;
    // All tensors of one spatial size share the pad: the largest any consumer needs.
    c.in_pad = c.out_pad = k / 2 + random_int(rng, 0, 2);
    c.in_extra_row = c.out_extra_row = 0;
    c.in_extra_channel = random_int(rng, 0, 5);
    c.out_extra_channel = random_int(rng, 0, 5);
    c.out_channel_offset = random_int(rng, 0, 3);
    c.out_channels_total = c.out_channel_offset + g.out_channels + random_int(rng, 0, 3);
    c.density = densities[trial % 5];
    c.relu = (trial & 1) != 0;
    c.with_bias = trial % 7 != 3;
    c.dense_weights = trial % 9 == 4;
    run_conv_case(c, rng, /*expect_merged=*/true);
  }
  if (family() != nullptr) CHECK(g_conv_runs > runs_before);
}

TEST_CASE("convolution kernels: general geometry (strides, asymmetric pads, own strides)") {
  const int runs_before = g_conv_runs;
  std::mt19937 rng(99);
  const double densities[] = {0.02, 0.15, 0.5, 1.0};
  for (int trial = 0; trial < 200; ++trial) {
    ConvCase c;
    ConvGeometry& g = c.g;
    g.kernel_h = random_int(rng, 1, 7);
    g.kernel_w = random_int(rng, 1, 7);
    g.stride_h = random_int(rng, 1, 3);
    g.stride_w = random_int(rng, 1, 2);
    g.in_channels = random_int(rng, 1, 8);
    g.out_channels = random_int(rng, 1, 16);
    g.in_height = random_int(rng, g.kernel_h, 24);
    g.in_width = random_int(rng, g.kernel_w, 70);
    g.pad_top = random_int(rng, 0, g.kernel_h - 1);
    g.pad_left = random_int(rng, 0, g.kernel_w - 1);
    const int pad_bottom = random_int(rng, 0, g.kernel_h - 1);
    const int pad_right = random_int(rng, 0, g.kernel_w - 1);
    g.out_height = out_size(g.in_height, g.kernel_h, g.stride_h, g.pad_top, pad_bottom);
    g.out_width = out_size(g.in_width, g.kernel_w, g.stride_w, g.pad_left, pad_right);
    g.dilation_h = g.dilation_w = 1;
    g.groups = 1;
    // The smallest border that covers every tap, plus a random surplus.
    const int need_bottom = (g.out_height - 1) * g.stride_h + g.kernel_h - g.pad_top - g.in_height;
    const int need_right = (g.out_width - 1) * g.stride_w + g.kernel_w - g.pad_left - g.in_width;
    c.in_pad =
        std::max({g.pad_top, g.pad_left, need_bottom, need_right, 0}) + random_int(rng, 0, 1);
    c.out_pad = random_int(rng, 0, 2);
    c.in_extra_row = random_int(rng, 0, 3);
    c.out_extra_row = random_int(rng, 0, 3);
    c.in_extra_channel = random_int(rng, 0, 7);
    c.out_extra_channel = random_int(rng, 0, 7);
    c.out_channel_offset = random_int(rng, 0, 2);
    c.out_channels_total = c.out_channel_offset + g.out_channels + random_int(rng, 0, 2);
    c.density = densities[trial % 4];
    c.relu = trial % 3 == 0;
    c.with_bias = trial % 5 != 2;
    c.dense_weights = trial % 11 == 6;
    run_conv_case(c, rng);
  }
  if (family() != nullptr) CHECK(g_conv_runs > runs_before);
}

TEST_CASE("convolution kernels: GoogLeNet layer shapes, fewer channels") {
  const int runs_before = g_conv_runs;
  std::mt19937 rng(2019);
  struct Shape {
    int in_channels, out_channels, size, kernel, stride, pad;
  };
  // stem 7x7/2 at 224; conv2 1x1 and 3x3 at 56; inception branches at 28, 14 and 7.
  const Shape shapes[] = {{3, 8, 224, 7, 2, 3},  {16, 16, 56, 1, 1, 0}, {16, 24, 56, 3, 1, 1},
                          {24, 16, 28, 1, 1, 0}, {16, 16, 28, 3, 1, 1}, {8, 8, 28, 5, 1, 2},
                          {32, 24, 14, 3, 1, 1}, {16, 8, 14, 5, 1, 2},  {64, 48, 7, 1, 1, 0},
                          {32, 32, 7, 3, 1, 1},  {16, 16, 7, 5, 1, 2}};
  for (const Shape& s : shapes) {
    for (double density : {0.0625, 0.3}) {
      ConvCase c;
      ConvGeometry& g = c.g;
      g.in_channels = s.in_channels;
      g.out_channels = s.out_channels;
      g.in_height = g.in_width = s.size;
      g.kernel_h = g.kernel_w = s.kernel;
      g.stride_h = g.stride_w = s.stride;
      g.pad_top = g.pad_left = s.pad;
      g.out_height = g.out_width = out_size(s.size, s.kernel, s.stride, s.pad, s.pad);
      g.dilation_h = g.dilation_w = 1;
      g.groups = 1;
      // Inception tensors carry pad 1 or 2 (their 3x3/5x5 consumers); the stem's input pad 3.
      c.in_pad = std::max(s.pad, 1);
      c.out_pad = s.stride == 1 ? c.in_pad : 1;
      c.out_channel_offset = 4;  // a slice of a concatenation
      c.out_channels_total = g.out_channels + 8;
      c.density = density;
      c.relu = true;
      run_conv_case(c, rng, /*expect_merged=*/s.stride == 1);
    }
  }
  if (family() != nullptr) CHECK(g_conv_runs > runs_before);
}

#if defined(GNRT_TEST_ARM)
TEST_CASE("NEON sparse convolution: selection and unsupported problems") {
  ConvGeometry g{};
  g.in_channels = 4;
  g.out_channels = 4;
  g.in_height = g.in_width = g.out_height = g.out_width = 8;
  g.kernel_h = g.kernel_w = 3;
  g.stride_h = g.stride_w = 1;
  g.pad_top = g.pad_left = 1;
  g.dilation_h = g.dilation_w = 1;
  g.groups = 1;
  std::vector<float> dense(4 * 4 * 9, 0.5f);
  const Csr csr = to_csr(dense, 4, 36);
  ConvProblem p{};
  p.geometry = g;
  p.in_row_stride = p.out_row_stride = 10;
  p.in_channel_stride = p.out_channel_stride = 100;
  p.in_pad = p.out_pad = 1;
  p.sparse = csr.view();
  p.nonzeros = csr.values.size();

  using gnrt::kernels::select_conv_kernel;
  const gnrt::kernels::Isa isa = gnrt::kernels::detect_isa();
  CHECK(std::string(select_conv_kernel(p, isa, false).name).find("neon") != std::string::npos);
  CHECK(std::string(select_conv_kernel(p, isa, true).name) == "f32_conv2d_sparse__scalar");
  CHECK(gnrt::kernels::arm::conv_sparse_supported(p));

  ConvProblem no_border = p;  // the kernels never clip taps: a missing border is unsupported
  no_border.in_pad = 0;
  CHECK_FALSE(gnrt::kernels::arm::conv_sparse_supported(no_border));
  CHECK(std::string(select_conv_kernel(no_border, isa, false).name) == "f32_conv2d_sparse__scalar");

  ConvProblem grouped = p;
  grouped.geometry.groups = 2;
  CHECK_FALSE(gnrt::kernels::arm::conv_sparse_supported(grouped));
  ConvProblem dilated = p;
  dilated.geometry.dilation_w = 2;
  CHECK_FALSE(gnrt::kernels::arm::conv_sparse_supported(dilated));
  ConvProblem stride3 = p;
  stride3.geometry.stride_w = 3;
  stride3.geometry.out_width = 3;
  CHECK_FALSE(gnrt::kernels::arm::conv_sparse_supported(stride3));
  std::vector<std::uint32_t> bad_indices(csr.indices);
  bad_indices.back() = 36;  // one past the row space
  ConvProblem bad = p;
  bad.sparse.indices = bad_indices.data();
  CHECK_FALSE(gnrt::kernels::arm::conv_sparse_supported(bad));
}

#endif

// ------------------------------------------------------------------------------------------

namespace {

void run_fc_case(int in_features, int out_features, double density, bool relu, bool with_bias,
                 bool dense_weights, std::mt19937& rng) {
  INFO("fc " << in_features << " -> " << out_features << " density " << density
             << (relu ? " relu" : "") << (with_bias ? " bias" : "")
             << (dense_weights ? " dense-weights" : ""));
  const std::vector<float> dense =
      random_weights(rng, static_cast<std::size_t>(in_features) * out_features, density);
  const Csr csr = to_csr(dense, out_features, static_cast<std::size_t>(in_features));
  std::vector<float> bias(out_features), input(in_features);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (float& b : bias) b = value(rng);
  for (float& x : input) x = value(rng);
  const Activation activation = relu ? Activation::kRelu : Activation::kNone;

  std::vector<float> reference(out_features), bound(out_features);
  gnrt::kernels::f32_fc_sparse__scalar(in_features, out_features, input.data(), csr.view(),
                                       with_bias ? bias.data() : nullptr, reference.data(),
                                       activation, 0, out_features);
  {
    std::vector<float> abs_input(input), abs_bias(bias);
    for (float& v : abs_input) v = std::fabs(v);
    for (float& v : abs_bias) v = std::fabs(v);
    Csr abs_csr = csr;
    for (float& v : abs_csr.values) v = std::fabs(v);
    gnrt::kernels::f32_fc_sparse__scalar(in_features, out_features, abs_input.data(),
                                         abs_csr.view(), abs_bias.data(), bound.data(),
                                         Activation::kNone, 0, out_features);
  }

  FcProblem problem{};
  problem.in_features = in_features;
  problem.out_features = out_features;
  problem.activation = activation;
  if (dense_weights) {
    problem.dense_weights = dense.data();
    problem.nonzeros = dense.size();
  } else {
    problem.sparse = csr.view();
    problem.nonzeros = csr.values.size();
  }
  problem.bias = with_bias ? bias.data() : nullptr;

  const k::IsaKernels* kernels = family();
  if (kernels == nullptr) return;
  for (const k::FcKernelInfo& info : kernels->fc) {
    INFO(info.name);
    if (!runs_here(info)) continue;
#if defined(GNRT_TEST_ARM)
    REQUIRE((info.supports == nullptr || info.supports(problem)));
#endif
    if (info.supports != nullptr && !info.supports(problem)) continue;
    const FcKernel kernel = k::to_fc_kernel(info, problem);
    AlignedBytes packed(kernel.packed_bytes);
    kernel.pack(problem, packed.data);
    for (int layout = 0; layout < 2; ++layout) {
      GuardedFloats guarded(static_cast<std::size_t>(in_features), layout == 0);
      std::memcpy(guarded.data(), input.data(), sizeof(float) * in_features);
      std::vector<float> output(out_features, kSentinel);
      const int o_begin = layout == 0 ? 0 : static_cast<int>(rng() % out_features);
      const int o_end = layout == 0
                            ? out_features
                            : o_begin + 1 + static_cast<int>(rng() % (out_features - o_begin));
      kernel.run(problem, packed.data, guarded.data(), output.data(), o_begin, o_end);
      for (int o = 0; o < out_features; ++o) {
        INFO("output " << o << " range [" << o_begin << ", " << o_end << ")");
        if (o < o_begin || o >= o_end) {
          CHECK(output[o] == kSentinel);
        } else {
          CHECK(std::fabs(output[o] - reference[o]) <= 1e-5f * bound[o] + 1e-6f);
        }
      }
    }
  }
}

}  // namespace

TEST_CASE("fully connected kernels: random shapes and densities") {
  std::mt19937 rng(7);
  const double densities[] = {0.0, 0.01, 0.0625, 0.3, 1.0};
  for (int trial = 0; trial < 40; ++trial) {
    const int in_features = random_int(rng, 1, 300);
    const int out_features = random_int(rng, 1, 40);
    run_fc_case(in_features, out_features, densities[trial % 5], trial % 2 == 1, trial % 3 != 0,
                trial % 7 == 5, rng);
  }
  // GoogLeNet's classifier: 1024 -> 1000 at the pruned density, and the 10-class head.
  run_fc_case(1024, 1000, 0.0625, false, true, false, rng);
  run_fc_case(1024, 10, 0.0625, false, true, false, rng);
}

TEST_CASE("fully connected selection takes the optimized kernels") {
  std::vector<float> dense(8 * 4, 1.0f);
  FcProblem p{};
  p.in_features = 8;
  p.out_features = 4;
  p.dense_weights = dense.data();
  p.nonzeros = dense.size();
  const gnrt::kernels::Isa isa = gnrt::kernels::detect_isa();
  const std::string name = gnrt::kernels::select_fc_kernel(p, isa, false).name;
  if (family() != nullptr) CHECK(name.find("scalar") == std::string::npos);
#if defined(GNRT_TEST_ARM)
  CHECK(name.find("neon") != std::string::npos);
#endif
}

// ------------------------------------------------------------------------------------------

namespace {

using gnrt::kernels::PoolGeometry;
using gnrt::kernels::PoolKernel;
using gnrt::kernels::PoolProblem;

// Input planes with zero borders, a random nonnegative interior (the producer ends in ReLU) and
// NaN in gaps and slack, in a guarded region (see GuardedFloats).
void fill_nonnegative_input(const PlaneLayout& layout, std::mt19937& rng, float* region,
                            std::size_t floats) {
  fill_input(layout, rng, region, floats);
  for (std::size_t i = 0; i + kMaxUnderreadFloats < floats; ++i) {
    int channel = 0;
    if (layout.kind(static_cast<std::ptrdiff_t>(i), &channel) == PlaneLayout::kInterior)
      region[kMaxUnderreadFloats + i] = std::fabs(region[kMaxUnderreadFloats + i]);
  }
}

// The rows of the family's pooling list this CPU runs that support `p` (a skip message for
// those whose ISA it lacks).
std::vector<const k::PoolKernelInfo*> pool_rows(const PoolProblem& p) {
  std::vector<const k::PoolKernelInfo*> rows;
  const k::IsaKernels* kernels = family();
  if (kernels == nullptr) return rows;
  for (const k::PoolKernelInfo& info : kernels->pool) {
    if (!info.supports(p)) continue;
    if (!runs_here(info)) continue;
    rows.push_back(&info);
  }
  return rows;
}

}  // namespace

TEST_CASE("3x3 max pooling kernels: random shapes, strides 1 and 2, against the scalar reference") {
  int runs = 0;
  std::mt19937 rng(31);
  for (int trial = 0; trial < 120; ++trial) {
    const int stride = 1 + trial % 2;
    PoolGeometry g{};
    g.channels = random_int(rng, 1, 6);
    g.in_height = random_int(rng, 1, 20);
    g.in_width = random_int(rng, 1, 40);
    g.kernel_h = g.kernel_w = 3;
    g.stride_h = g.stride_w = stride;
    g.pad_top = random_int(rng, 0, 1);
    g.pad_left = random_int(rng, 0, 1);
    const int pad_bottom = random_int(rng, 0, 2);
    const int pad_right = random_int(rng, 0, 2);
    g.out_height = out_size(g.in_height, 3, stride, g.pad_top, pad_bottom);
    g.out_width = out_size(g.in_width, 3, stride, g.pad_left, pad_right);
    if (g.out_height < 1 || g.out_width < 1) continue;
    const int need_bottom = (g.out_height - 1) * stride + 3 - g.pad_top - g.in_height;
    const int need_right = (g.out_width - 1) * stride + 3 - g.pad_left - g.in_width;
    const int in_pad =
        std::max({g.pad_top, g.pad_left, need_bottom, need_right, 0}) + random_int(rng, 0, 1);
    const PlaneLayout in(g.channels, g.in_height, g.in_width, in_pad, random_int(rng, 0, 2),
                         random_int(rng, 0, 5));
    const int offset = random_int(rng, 0, 2);
    const PlaneLayout out(offset + g.channels + random_int(rng, 0, 2), g.out_height, g.out_width,
                          random_int(rng, 0, 1), random_int(rng, 0, 2), random_int(rng, 0, 5));
    INFO("maxpool " << g.channels << "x" << g.in_height << "x" << g.in_width << " -> "
                    << g.out_height << "x" << g.out_width << " s" << stride << " p" << g.pad_top
                    << "," << g.pad_left << " in_pad " << in_pad);

    const std::size_t in_floats = with_slack(in.planes_floats());
    std::vector<float> input(in_floats);
    fill_nonnegative_input(in, rng, input.data(), in_floats);
    const Activation activation = trial % 3 == 0 ? Activation::kRelu : Activation::kNone;
    std::vector<float> reference(static_cast<std::size_t>(g.channels) * g.out_height * g.out_width);
    gnrt::kernels::f32_maxpool2d__scalar(
        g,
        {input.data() + kMaxUnderreadFloats + in.origin_offset(), in.row_stride, in.channel_stride},
        {reference.data(), g.out_width, static_cast<std::ptrdiff_t>(g.out_height) * g.out_width},
        activation, 0, g.channels);

    PoolProblem p{};
    p.geometry = g;
    p.max = true;
    p.pad_bottom = pad_bottom;
    p.pad_right = pad_right;
    p.input_nonnegative = true;
    p.in_row_stride = in.row_stride;
    p.in_channel_stride = in.channel_stride;
    p.in_pad = in_pad;
    p.out_row_stride = out.row_stride;
    p.out_channel_stride = out.channel_stride;
    p.out_pad = out.pad;
    p.activation = activation;

    const std::vector<const k::PoolKernelInfo*> rows = pool_rows(p);
    const PoolKernel selected = gnrt::kernels::select_pool_kernel(p, k::detect_isa(), false);
#if defined(GNRT_TEST_ARM)
    REQUIRE(rows.size() == 1);
    CHECK(std::string(rows[0]->name) ==
          (stride == 1 ? "f32_maxpool2d_3x3s1__neon" : "f32_maxpool2d_3x3s2__neon"));
#endif
    bool selected_listed = rows.empty();
    for (const k::PoolKernelInfo* row : rows) {
      selected_listed = selected_listed || std::string(selected.name) == row->name;
      PoolProblem may_be_negative = p;  // border zeros could win: must not take the fast path
      may_be_negative.input_nonnegative = false;
      CHECK_FALSE(row->supports(may_be_negative));
    }
    CHECK_MESSAGE(selected_listed, "selected " << selected.name);

    for (const k::PoolKernelInfo* row : rows)
      for (int layout = 0; layout < 2; ++layout) {
        GuardedFloats guarded(in_floats, layout == 0);
        std::memcpy(guarded.data(), input.data(), in_floats * sizeof(float));
        std::vector<float> out_region(out.planes_floats(), kSentinel);
        const int c_begin = layout == 0 ? 0 : static_cast<int>(rng() % g.channels);
        const int c_end = layout == 0
                              ? g.channels
                              : c_begin + 1 + static_cast<int>(rng() % (g.channels - c_begin));
        INFO(row->name);
        ++runs;
        row->run(p, guarded.data() + kMaxUnderreadFloats + in.origin_offset(),
                 out_region.data() + out.origin_offset() + offset * out.channel_stride, c_begin,
                 c_end);
        bool ok = true;
        for (std::size_t i = 0; i < out_region.size() && ok; ++i) {
          int channel = 0;
          const PlaneLayout::Kind kind = out.kind(static_cast<std::ptrdiff_t>(i), &channel);
          const int c = channel - offset;
          if (kind == PlaneLayout::kInterior && c >= c_begin && c < c_end) {
            const std::ptrdiff_t in_plane = static_cast<std::ptrdiff_t>(i) % out.channel_stride;
            const int y = static_cast<int>(in_plane / out.row_stride) - out.pad;
            const int x = static_cast<int>(in_plane % out.row_stride) - out.pad;
            const float want =
                reference[(static_cast<std::size_t>(c) * g.out_height + y) * g.out_width + x];
            if (out_region[i] != want) {
              ok = false;
              FAIL_CHECK("output (" << c << "," << y << "," << x << ") = " << out_region[i]
                                    << ", reference " << want << ", layout " << layout);
            }
          } else if (row->zeroes_row_gaps && c >= c_begin && c < c_end &&
                     kind != PlaneLayout::kInterior) {
            const std::string problem = check_zeroed_gap(out, i, kind, out_region[i]);
            if (!problem.empty()) {
              ok = false;
              FAIL_CHECK(problem << ", layout " << layout);
            }
          } else if (out_region[i] != kSentinel) {
            ok = false;  // other pooling kernels write interiors only
            FAIL_CHECK("wrote " << out_region[i] << " outside the interior of channels [" << c_begin
                                << ", " << c_end << ") at flat " << i);
          }
        }
      }
  }
  if (family() != nullptr) CHECK(runs > 0);
}

TEST_CASE("global average pooling kernels against the scalar reference") {
  std::mt19937 rng(77);
  int runs = 0;
  for (int trial = 0; trial < 40; ++trial) {
    const int channels = random_int(rng, 1, 20);
    const int height = random_int(rng, 1, 9);
    const int width = random_int(rng, 1, 21);
    const PlaneLayout in(channels, height, width, random_int(rng, 0, 2), random_int(rng, 0, 3),
                         random_int(rng, 0, 5));
    INFO("global avgpool " << channels << "x" << height << "x" << width);
    const std::size_t in_floats = with_slack(in.planes_floats());
    std::vector<float> input(in_floats);
    fill_input(in, rng, input.data(), in_floats);
    std::vector<float> reference(channels);
    gnrt::kernels::f32_global_avgpool__scalar(
        channels, height, width,
        {input.data() + kMaxUnderreadFloats + in.origin_offset(), in.row_stride, in.channel_stride},
        reference.data(), 0, channels);

    PoolProblem p{};
    p.geometry.channels = channels;
    p.geometry.in_height = height;
    p.geometry.in_width = width;
    p.geometry.out_height = p.geometry.out_width = 1;
    p.geometry.kernel_h = height;
    p.geometry.kernel_w = width;
    p.geometry.stride_h = p.geometry.stride_w = 1;
    p.global = true;
    p.in_row_stride = in.row_stride;
    p.in_channel_stride = in.channel_stride;
    p.in_pad = in.pad;
    p.out_channel_stride = 1 + trial % 3;
    p.activation = trial % 4 == 1 ? Activation::kRelu : Activation::kNone;
    const std::vector<const k::PoolKernelInfo*> rows = pool_rows(p);
#if defined(GNRT_TEST_ARM)
    REQUIRE(rows.size() == 1);
    CHECK(std::string(rows[0]->name) == "f32_global_avgpool__neon");
    CHECK(std::string(gnrt::kernels::select_pool_kernel(p, k::Isa::kNeon, false).name) ==
          "f32_global_avgpool__neon");
#endif
    for (const k::PoolKernelInfo* row : rows) {
      INFO(row->name);
      ++runs;
      GuardedFloats guarded(in_floats, trial % 2 == 0);
      std::memcpy(guarded.data(), input.data(), in_floats * sizeof(float));
      std::vector<float> output(static_cast<std::size_t>(channels) * p.out_channel_stride,
                                kSentinel);
      row->run(p, guarded.data() + kMaxUnderreadFloats + in.origin_offset(), output.data(), 0,
               channels);
      for (std::size_t i = 0; i < output.size(); ++i) {
        if (i % p.out_channel_stride != 0) {
          CHECK(output[i] == kSentinel);
          continue;
        }
        float want = reference[i / p.out_channel_stride];
        if (p.activation == Activation::kRelu && want < 0.0f) want = 0.0f;
        // The interior's NaN-free values only: a read outside it would turn the mean into NaN.
        CHECK(std::fabs(output[i] - want) <= 1e-5f);
      }
    }
  }
  if (family() != nullptr) CHECK(runs > 0);
}
