// The scalar reference kernels against independent naive loops (kernel_test_util.h), and the
// scalar ConvKernel/FcKernel wrappers returned by the selector.
#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

#include "gnrt/kernels.h"
#include "kernel_test_util.h"

namespace k = gnrt::kernels;
using gnrt_test::Planes;

namespace {

constexpr float kSentinel = 12345.0f;

struct ConvCase {
  k::ConvGeometry g;
  int pad_bottom, pad_right;
};

ConvCase random_conv_case(std::mt19937& rng) {
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (;;) {
    k::ConvGeometry g{};
    const int groups_choice[] = {1, 1, 1, 2, 3};
    g.groups = groups_choice[uniform(0, 4)];
    g.in_channels = g.groups * uniform(1, 4);
    g.out_channels = g.groups * uniform(1, 4);
    g.in_height = uniform(1, 11);
    g.in_width = uniform(1, 11);
    g.kernel_h = uniform(1, 7);
    g.kernel_w = uniform(1, 7);
    g.stride_h = uniform(1, 3);
    g.stride_w = uniform(1, 3);
    g.dilation_h = uniform(1, 3) == 3 ? 2 : 1;
    g.dilation_w = uniform(1, 3) == 3 ? 2 : 1;
    g.pad_top = uniform(0, 3);
    g.pad_left = uniform(0, 3);
    const int pad_bottom = uniform(0, 3), pad_right = uniform(0, 3);
    g.out_height = gnrt_test::conv_out_size(g.in_height, g.kernel_h, g.stride_h, g.pad_top,
                                            pad_bottom, g.dilation_h);
    g.out_width = gnrt_test::conv_out_size(g.in_width, g.kernel_w, g.stride_w, g.pad_left,
                                           pad_right, g.dilation_w);
    if (g.out_height >= 1 && g.out_width >= 1) return {g, pad_bottom, pad_right};
  }
}

std::string describe(const k::ConvGeometry& g) {
  char buffer[256];
  std::snprintf(buffer, sizeof buffer,
                "in %dx%dx%d out %dx%dx%d k %dx%d s %dx%d p %d,%d d %dx%d groups %d", g.in_channels,
                g.in_height, g.in_width, g.out_channels, g.out_height, g.out_width, g.kernel_h,
                g.kernel_w, g.stride_h, g.stride_w, g.pad_top, g.pad_left, g.dilation_h,
                g.dilation_w, g.groups);
  return buffer;
}

// Every output float outside the interior of channels [oc_begin, oc_end) still holds kSentinel.
void check_untouched(const Planes& out, int oc_begin, int oc_end) {
  int touched = 0;
  for (std::size_t i = 0; i < out.region_size(); ++i) {
    const int c = out.channel_of(static_cast<std::ptrdiff_t>(i));
    const bool written =
        out.is_interior(static_cast<std::ptrdiff_t>(i)) && c >= oc_begin && c < oc_end;
    if (!written && out.region()[i] != kSentinel) ++touched;
  }
  CHECK(touched == 0);
}

void check_close(const Planes& out, const std::vector<double>& expected, int oc_begin, int oc_end,
                 double tolerance) {
  int bad = 0;
  double worst = 0.0;
  for (int c = oc_begin; c < oc_end; ++c)
    for (int y = 0; y < out.height(); ++y)
      for (int x = 0; x < out.width(); ++x) {
        const double e =
            expected[(static_cast<std::size_t>(c) * out.height() + y) * out.width() + x];
        const double err = std::fabs(out.at(c, y, x) - e);
        if (!(err <= tolerance)) ++bad;  // also counts NaN
        if (err > worst || std::isnan(err)) worst = err;
      }
  INFO("worst error ", worst, " tolerance ", tolerance);
  CHECK(bad == 0);
}

}  // namespace

TEST_CASE("scalar dense and sparse conv match a naive convolution on random geometries") {
  std::mt19937 rng(1234);
  const double densities[] = {0.0, 0.05, 0.3, 1.0};
  for (int trial = 0; trial < 300; ++trial) {
    const ConvCase cc = random_conv_case(rng);
    const k::ConvGeometry& g = cc.g;
    const double density = densities[trial % 4];
    // Input with a border, strides larger than the width, and NaN everywhere outside the
    // interior: the reference kernels must never read there.
    Planes input(g.in_channels, g.in_height, g.in_width, trial % 3, trial % 5, (trial % 7) * 3);
    input.fill_all(gnrt_test::nan_value());
    input.fill_interior_random(rng);
    const std::size_t filter =
        static_cast<std::size_t>(g.in_channels / g.groups) * g.kernel_h * g.kernel_w;
    const auto weights = gnrt_test::random_sparse_weights(rng, filter * g.out_channels, density);
    const bool with_bias = trial % 2 == 0;
    const std::vector<float> bias =
        with_bias ? gnrt_test::random_vector(rng, g.out_channels) : std::vector<float>{};
    const bool relu = trial % 3 == 0;
    const auto activation = relu ? k::Activation::kRelu : k::Activation::kNone;
    const auto expected = gnrt_test::naive_conv(g, input, weights, bias, relu);
    const double tolerance = 1e-5 * gnrt_test::conv_magnitude_bound(g, weights);

    // A channel range strictly inside when possible.
    const int oc_begin = g.out_channels > 2 ? 1 : 0;
    const int oc_end = g.out_channels > 3 ? g.out_channels - 1 : g.out_channels;
    INFO(describe(g), " density ", density, " range ", oc_begin, "..", oc_end);

    Planes dense_out(g.out_channels, g.out_height, g.out_width, 1 + trial % 2, trial % 4, 5);
    dense_out.fill_all(kSentinel);
    k::f32_conv2d_dense__scalar(
        g, {input.origin(), input.row_stride(), input.channel_stride()}, weights.data(),
        with_bias ? bias.data() : nullptr,
        {dense_out.origin(), dense_out.row_stride(), dense_out.channel_stride()}, activation,
        oc_begin, oc_end);
    check_close(dense_out, expected, oc_begin, oc_end, tolerance);
    check_untouched(dense_out, oc_begin, oc_end);

    const auto csr = gnrt_test::to_csr(weights, g.out_channels, filter);
    Planes sparse_out(g.out_channels, g.out_height, g.out_width, 1 + trial % 2, trial % 4, 5);
    sparse_out.fill_all(kSentinel);
    k::f32_conv2d_sparse__scalar(
        g, {input.origin(), input.row_stride(), input.channel_stride()}, csr.view(),
        with_bias ? bias.data() : nullptr,
        {sparse_out.origin(), sparse_out.row_stride(), sparse_out.channel_stride()}, activation,
        oc_begin, oc_end);
    check_close(sparse_out, expected, oc_begin, oc_end, tolerance);
    check_untouched(sparse_out, oc_begin, oc_end);

    // Same weights, same summation order (skipped terms are exact zeros): identical results.
    int differ = 0;
    for (int c = oc_begin; c < oc_end; ++c)
      for (int y = 0; y < g.out_height; ++y)
        for (int x = 0; x < g.out_width; ++x)
          if (dense_out.at(c, y, x) != sparse_out.at(c, y, x)) ++differ;
    CHECK(differ == 0);
  }
}

TEST_CASE(
    "scalar conv: density 0 gives the bias, density 1 with a 1x1 kernel is a matrix product") {
  k::ConvGeometry g{};
  g.in_channels = 3;
  g.out_channels = 2;
  g.in_height = g.out_height = 2;
  g.in_width = g.out_width = 3;
  g.kernel_h = g.kernel_w = 1;
  g.stride_h = g.stride_w = 1;
  g.dilation_h = g.dilation_w = 1;
  g.groups = 1;
  Planes input(3, 2, 3, 0);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 2; ++y)
      for (int x = 0; x < 3; ++x) input.at(c, y, x) = static_cast<float>(c + 1) * (y * 3 + x);
  const float bias[2] = {0.5f, -100.0f};
  Planes out(2, 2, 3, 0);
  // All-zero weights: output is act(bias).
  const std::uint32_t empty_rows[3] = {0, 0, 0};
  k::f32_conv2d_sparse__scalar(g, {input.origin(), input.row_stride(), input.channel_stride()},
                               {empty_rows, nullptr, nullptr}, bias,
                               {out.origin(), out.row_stride(), out.channel_stride()},
                               k::Activation::kRelu, 0, 2);
  CHECK(out.at(0, 1, 2) == 0.5f);
  CHECK(out.at(1, 0, 0) == 0.0f);  // ReLU of -100
  // Dense 1x1: out[o] = sum_c w[o][c] * in[c]; in[c] = (c + 1) * p.
  const float w[6] = {1, 0, 0, 1, 1, 1};
  k::f32_conv2d_dense__scalar(g, {input.origin(), input.row_stride(), input.channel_stride()}, w,
                              nullptr, {out.origin(), out.row_stride(), out.channel_stride()},
                              k::Activation::kNone, 0, 2);
  CHECK(out.at(0, 1, 1) == 4.0f);         // 1 * 4
  CHECK(out.at(1, 1, 1) == 6.0f * 4.0f);  // (1 + 2 + 3) * 4
}

TEST_CASE("scalar conv kernels from the selector own their weights after pack") {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 60; ++trial) {
    const ConvCase cc = random_conv_case(rng);
    const k::ConvGeometry& g = cc.g;
    Planes input(g.in_channels, g.in_height, g.in_width, 2, 1, 0);
    input.fill_interior_random(rng);
    const std::size_t filter =
        static_cast<std::size_t>(g.in_channels / g.groups) * g.kernel_h * g.kernel_w;
    auto weights = gnrt_test::random_sparse_weights(rng, filter * g.out_channels, 0.4);
    auto bias = gnrt_test::random_vector(rng, g.out_channels);
    const auto expected = gnrt_test::naive_conv(g, input, weights, bias, true);
    auto csr = gnrt_test::to_csr(weights, g.out_channels, filter);
    INFO(describe(g));

    for (const bool sparse : {false, true}) {
      Planes out(g.out_channels, g.out_height, g.out_width, 2, 1, 0);
      out.fill_all(kSentinel);
      k::ConvProblem p{};
      p.geometry = g;
      gnrt_test::set_layout(&p, input, out);
      p.activation = k::Activation::kRelu;
      auto weights_copy = weights;
      auto csr_copy = csr;
      auto bias_copy = bias;
      if (sparse) {
        p.sparse = csr_copy.view();
        p.nonzeros = csr_copy.nonzeros();
      } else {
        p.dense_weights = weights_copy.data();
        p.nonzeros = weights_copy.size();
      }
      p.bias = bias_copy.data();
      const k::ConvKernel kernel = k::select_conv_kernel(p, k::detect_isa(), true);
      CHECK(kernel.sparse == sparse);
      CHECK(std::string(kernel.name) ==
            (sparse ? "f32_conv2d_sparse__scalar" : "f32_conv2d_dense__scalar"));
      std::vector<std::uint8_t> storage(kernel.packed_bytes + 64);
      void* packed = storage.data() + (64 - reinterpret_cast<std::uintptr_t>(storage.data()) % 64);
      kernel.pack(p, packed);
      // Plan-time weights are gone by run time.
      std::fill(weights_copy.begin(), weights_copy.end(), gnrt_test::nan_value());
      std::fill(bias_copy.begin(), bias_copy.end(), gnrt_test::nan_value());
      std::fill(csr_copy.values.begin(), csr_copy.values.end(), gnrt_test::nan_value());
      std::fill(csr_copy.row_begin.begin(), csr_copy.row_begin.end(), 0xFFFFFFFFu);
      p.dense_weights = nullptr;
      p.bias = nullptr;
      p.sparse = {};
      // Two channel ranges, as two threads would call it.
      const int split = g.out_channels / 2;
      kernel.run(p, packed, input.origin(), out.origin(), 0, split);
      kernel.run(p, packed, input.origin(), out.origin(), split, g.out_channels);
      check_close(out, expected, 0, g.out_channels,
                  1e-5 * gnrt_test::conv_magnitude_bound(g, weights));
      check_untouched(out, 0, g.out_channels);
    }
  }
}

namespace {

struct PoolCase {
  k::PoolGeometry g;
  int pad_bottom, pad_right;
};

int pool_out_size(int in, int kernel, int stride, int pad, bool ceil_mode) {
  const int span = in + 2 * pad - kernel;
  int out = (ceil_mode ? (span + stride - 1) / stride : span / stride) + 1;
  // PyTorch: the last window must start inside the input or the left padding.
  if (ceil_mode && (out - 1) * stride >= in + pad) --out;
  return out;
}

PoolCase random_pool_case(std::mt19937& rng) {
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (;;) {
    k::PoolGeometry g{};
    g.channels = uniform(1, 5);
    g.in_height = uniform(1, 12);
    g.in_width = uniform(1, 12);
    g.kernel_h = uniform(1, 5);
    g.kernel_w = uniform(1, 5);
    g.stride_h = uniform(1, 3);
    g.stride_w = uniform(1, 3);
    g.pad_top = uniform(0, g.kernel_h / 2);
    g.pad_left = uniform(0, g.kernel_w / 2);
    const bool ceil_mode = uniform(0, 1) == 1;
    if (g.in_height + 2 * g.pad_top < g.kernel_h || g.in_width + 2 * g.pad_left < g.kernel_w)
      continue;
    g.out_height = pool_out_size(g.in_height, g.kernel_h, g.stride_h, g.pad_top, ceil_mode);
    g.out_width = pool_out_size(g.in_width, g.kernel_w, g.stride_w, g.pad_left, ceil_mode);
    if (g.out_height >= 1 && g.out_width >= 1) return {g, g.pad_top, g.pad_left};
  }
}

// Naive pooling over an explicit buffer that marks each position as input / padding / outside.
enum class Cell { kInput, kPadding, kOutside };

std::vector<double> naive_pool(const k::PoolGeometry& g, const Planes& input, bool max,
                               bool count_include_pad, int pad_bottom, int pad_right) {
  std::vector<double> out(static_cast<std::size_t>(g.channels) * g.out_height * g.out_width);
  for (int c = 0; c < g.channels; ++c)
    for (int oy = 0; oy < g.out_height; ++oy)
      for (int ox = 0; ox < g.out_width; ++ox) {
        double best = -INFINITY, sum = 0.0;
        int inputs = 0, padded = 0;
        for (int ky = 0; ky < g.kernel_h; ++ky)
          for (int kx = 0; kx < g.kernel_w; ++kx) {
            const int y = oy * g.stride_h - g.pad_top + ky;
            const int x = ox * g.stride_w - g.pad_left + kx;
            Cell cell = Cell::kOutside;
            if (y >= 0 && y < g.in_height && x >= 0 && x < g.in_width) {
              cell = Cell::kInput;
            } else if (y >= -g.pad_top && y < g.in_height + pad_bottom && x >= -g.pad_left &&
                       x < g.in_width + pad_right) {
              cell = Cell::kPadding;
            }
            if (cell == Cell::kInput) {
              const double v = input.at(c, y, x);
              best = std::max(best, v);
              sum += v;
              ++inputs;
            }
            if (cell != Cell::kOutside) ++padded;
          }
        double v;
        if (max) {
          v = inputs > 0 ? best : 0.0;
        } else {
          const int divisor = count_include_pad ? padded : inputs;
          v = sum / divisor;
        }
        out[(static_cast<std::size_t>(c) * g.out_height + oy) * g.out_width + ox] = v;
      }
  return out;
}

}  // namespace

TEST_CASE("scalar max and average pooling match naive pooling (ceil mode, padding, strides)") {
  std::mt19937 rng(777);
  for (int trial = 0; trial < 300; ++trial) {
    const PoolCase pc = random_pool_case(rng);
    const k::PoolGeometry& g = pc.g;
    INFO("c ", g.channels, " in ", g.in_height, "x", g.in_width, " out ", g.out_height, "x",
         g.out_width, " k ", g.kernel_h, "x", g.kernel_w, " s ", g.stride_h, "x", g.stride_w, " p ",
         g.pad_top, ",", g.pad_left);
    Planes input(g.channels, g.in_height, g.in_width, trial % 3, trial % 4, trial % 5);
    // A huge value outside the interior: max pooling would pick it up if it read there, NaN
    // would silently lose in std::max.
    input.fill_all(1e30f);
    input.fill_interior_random(rng, -3.0f, 3.0f);
    const int c_begin = g.channels > 2 ? 1 : 0;
    const int c_end = g.channels;
    const auto view =
        k::ConstPlanarView{input.origin(), input.row_stride(), input.channel_stride()};
    {
      Planes out(g.channels, g.out_height, g.out_width, 1, 2, 1);
      out.fill_all(kSentinel);
      k::f32_maxpool2d__scalar(g, view, {out.origin(), out.row_stride(), out.channel_stride()},
                               k::Activation::kNone, c_begin, c_end);
      check_close(out, naive_pool(g, input, true, false, 0, 0), c_begin, c_end, 0.0);
      check_untouched(out, c_begin, c_end);
    }
    for (const bool include : {false, true}) {
      Planes out(g.channels, g.out_height, g.out_width, 0, 3, 0);
      out.fill_all(kSentinel);
      k::f32_avgpool2d__scalar(g, view, {out.origin(), out.row_stride(), out.channel_stride()},
                               include, pc.pad_bottom, pc.pad_right, k::Activation::kNone, c_begin,
                               c_end);
      check_close(out, naive_pool(g, input, false, include, pc.pad_bottom, pc.pad_right), c_begin,
                  c_end, 1e-5);
      check_untouched(out, c_begin, c_end);
    }
  }
}

TEST_CASE("average pooling divisors follow PyTorch's avg_pool2d") {
  // 2x2 input of ones, 3x3 window, stride 1, padding 1: the corner window covers 4 inputs out
  // of 9 padded positions.
  k::PoolGeometry g{1, 2, 2, 2, 2, 3, 3, 1, 1, 1, 1};
  Planes input(1, 2, 2, 0);
  input.fill_all(1.0f);
  Planes out(1, 2, 2, 0);
  const k::ConstPlanarView in{input.origin(), input.row_stride(), input.channel_stride()};
  const k::PlanarView o{out.origin(), out.row_stride(), out.channel_stride()};
  k::f32_avgpool2d__scalar(g, in, o, true, 1, 1, k::Activation::kNone, 0, 1);
  CHECK(out.at(0, 0, 0) == doctest::Approx(4.0 / 9.0));
  k::f32_avgpool2d__scalar(g, in, o, false, 1, 1, k::Activation::kNone, 0, 1);
  CHECK(out.at(0, 1, 1) == doctest::Approx(1.0));

  // Ceil mode, no padding: width 5, kernel 2, stride 2 gives 3 outputs; the last window holds
  // one column and PyTorch divides by 1 (the window clipped to the padded input), not by 2.
  k::PoolGeometry c{1, 1, 5, 1, 3, 1, 2, 1, 2, 0, 0};
  Planes row(1, 1, 5, 0);
  for (int x = 0; x < 5; ++x) row.at(0, 0, x) = static_cast<float>(x + 1);
  Planes pooled(1, 1, 3, 0);
  k::f32_avgpool2d__scalar(c, {row.origin(), row.row_stride(), row.channel_stride()},
                           {pooled.origin(), pooled.row_stride(), pooled.channel_stride()}, true, 0,
                           0, k::Activation::kNone, 0, 1);
  CHECK(pooled.at(0, 0, 0) == doctest::Approx(1.5));
  CHECK(pooled.at(0, 0, 2) == doctest::Approx(5.0));
  // Max pooling in the same ceil-mode window sees only the in-bounds tap; ReLU applies.
  for (int x = 0; x < 5; ++x) row.at(0, 0, x) = -static_cast<float>(x + 1);
  k::f32_maxpool2d__scalar(c, {row.origin(), row.row_stride(), row.channel_stride()},
                           {pooled.origin(), pooled.row_stride(), pooled.channel_stride()},
                           k::Activation::kNone, 0, 1);
  CHECK(pooled.at(0, 0, 0) == -1.0f);
  CHECK(pooled.at(0, 0, 2) == -5.0f);
  k::f32_maxpool2d__scalar(c, {row.origin(), row.row_stride(), row.channel_stride()},
                           {pooled.origin(), pooled.row_stride(), pooled.channel_stride()},
                           k::Activation::kRelu, 0, 1);
  CHECK(pooled.at(0, 0, 2) == 0.0f);
}

TEST_CASE("global average pooling") {
  std::mt19937 rng(5);
  Planes input(6, 7, 5, 2, 3, 4);
  input.fill_all(gnrt_test::nan_value());
  input.fill_interior_random(rng);
  std::vector<float> out(6, kSentinel);
  k::f32_global_avgpool__scalar(
      6, 7, 5, {input.origin(), input.row_stride(), input.channel_stride()}, out.data(), 1, 5);
  CHECK(out[0] == kSentinel);
  CHECK(out[5] == kSentinel);
  for (int c = 1; c < 5; ++c) {
    double sum = 0.0;
    for (int y = 0; y < 7; ++y)
      for (int x = 0; x < 5; ++x) sum += input.at(c, y, x);
    CHECK(out[c] == doctest::Approx(sum / 35.0).epsilon(1e-6));
  }
}

TEST_CASE("scalar fully connected: dense, sparse and the selector's kernels") {
  std::mt19937 rng(4242);
  for (int trial = 0; trial < 80; ++trial) {
    const int in = std::uniform_int_distribution<int>(1, 300)(rng);
    const int out = std::uniform_int_distribution<int>(1, 40)(rng);
    const double density = std::vector<double>{0.0, 0.02, 0.25, 1.0}[trial % 4];
    const auto w =
        gnrt_test::random_sparse_weights(rng, static_cast<std::size_t>(in) * out, density);
    const auto x = gnrt_test::random_vector(rng, in);
    const auto bias = gnrt_test::random_vector(rng, out);
    const bool relu = trial % 2 == 1;
    std::vector<double> expected(out);
    for (int o = 0; o < out; ++o) {
      double s = bias[o];
      for (int i = 0; i < in; ++i) s += static_cast<double>(w[o * in + i]) * x[i];
      expected[o] = relu ? std::max(s, 0.0) : s;
    }
    const auto csr = gnrt_test::to_csr(w, out, in);
    const auto activation = relu ? k::Activation::kRelu : k::Activation::kNone;
    const int o_begin = out > 1 ? 1 : 0;
    std::vector<float> dense_out(out, kSentinel), sparse_out(out, kSentinel);
    k::f32_fc_dense__scalar(in, out, x.data(), w.data(), bias.data(), dense_out.data(), activation,
                            o_begin, out);
    k::f32_fc_sparse__scalar(in, out, x.data(), csr.view(), bias.data(), sparse_out.data(),
                             activation, o_begin, out);
    if (o_begin == 1) {
      CHECK(dense_out[0] == kSentinel);
      CHECK(sparse_out[0] == kSentinel);
    }
    for (int o = o_begin; o < out; ++o) {
      CHECK(dense_out[o] == doctest::Approx(expected[o]).epsilon(1e-5).scale(in));
      CHECK(sparse_out[o] == dense_out[o]);  // same order, skipped terms are exact zeros
    }

    for (const bool sparse : {false, true}) {
      auto w_copy = w;
      auto csr_copy = csr;
      auto bias_copy = bias;
      k::FcProblem p{};
      p.in_features = in;
      p.out_features = out;
      p.activation = activation;
      if (sparse) {
        p.sparse = csr_copy.view();
        p.nonzeros = csr_copy.nonzeros();
      } else {
        p.dense_weights = w_copy.data();
        p.nonzeros = w_copy.size();
      }
      p.bias = bias_copy.data();
      const k::FcKernel kernel = k::select_fc_kernel(p, k::detect_isa(), true);
      CHECK(kernel.sparse == sparse);
      std::vector<std::uint8_t> storage(kernel.packed_bytes + 64);
      void* packed = storage.data() + (64 - reinterpret_cast<std::uintptr_t>(storage.data()) % 64);
      kernel.pack(p, packed);
      std::fill(w_copy.begin(), w_copy.end(), gnrt_test::nan_value());
      std::fill(bias_copy.begin(), bias_copy.end(), gnrt_test::nan_value());
      std::fill(csr_copy.values.begin(), csr_copy.values.end(), gnrt_test::nan_value());
      p.dense_weights = nullptr;
      p.bias = nullptr;
      p.sparse = {};
      std::vector<float> result(out, kSentinel);
      kernel.run(p, packed, x.data(), result.data(), 0, out);
      for (int o = 0; o < out; ++o)
        CHECK(result[o] == doctest::Approx(expected[o]).epsilon(1e-5).scale(in));
    }
  }
}

TEST_CASE("softmax is normalized, matches exp/sum and survives large inputs") {
  std::mt19937 rng(3);
  const auto x = gnrt_test::random_vector(rng, 1000, -5.0f, 5.0f);
  std::vector<float> y(1000);
  k::f32_softmax__scalar(1000, x.data(), y.data(), 1.0f);
  double total = 0.0, expected_total = 0.0;
  for (float v : x) expected_total += std::exp(static_cast<double>(v));
  for (int i = 0; i < 1000; ++i) {
    total += y[i];
    CHECK(y[i] ==
          doctest::Approx(std::exp(static_cast<double>(x[i])) / expected_total).epsilon(1e-5));
  }
  CHECK(total == doctest::Approx(1.0).epsilon(1e-5));

  // exp(1000) overflows float; the stable form must not.
  const float big[4] = {1000.0f, 999.0f, -1000.0f, 1000.0f};
  float p[4];
  k::f32_softmax__scalar(4, big, p, 1.0f);
  const double e1 = std::exp(-1.0);
  CHECK(p[0] == doctest::Approx(1.0 / (2.0 + e1)));
  CHECK(p[1] == doctest::Approx(e1 / (2.0 + e1)));
  CHECK(p[2] == 0.0f);
  CHECK(p[3] == p[0]);
  // Negative beta flips the order and must stay finite too.
  k::f32_softmax__scalar(4, big, p, -1.0f);
  CHECK(p[2] == doctest::Approx(1.0));
  CHECK(std::isfinite(p[0]));
  // beta scales the logits: beta = 0.5 on {0, 2} equals beta = 1 on {0, 1}.
  const float two[2] = {0.0f, 2.0f};
  k::f32_softmax__scalar(2, two, p, 0.5f);
  CHECK(p[1] == doctest::Approx(std::exp(1.0) / (1.0 + std::exp(1.0))));
}

TEST_CASE("ISA detection names the ISA and is stable") {
  const k::Isa isa = k::detect_isa();
  CHECK(isa == k::detect_isa());
  MESSAGE("detected ISA: ", k::isa_name(isa));
  CHECK(std::string(k::isa_name(k::Isa::kScalar)) == "scalar");
  CHECK(std::string(k::isa_name(k::Isa::kAvx512)) == "avx512");
#if defined(__x86_64__)
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
      __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) {
    CHECK(isa == k::Isa::kAvx512);
  }
#endif
}
