// Kernel benchmarks on the layers of a real plan of GoogLeNet (plan_layers.h: 224x224, batch 1,
// one thread; the plan's borders, strides and aligned origins).
//
//   bench_kernels --table [--density D] [--runs N] [--json]
//       one line per layer: gnrt's selected kernel, the best sparse and dense gnrt kernels,
//       XNNPACK dense (NHWC, same weights expanded) and, for 1x1 layers, XNNPACK's sparse NCHW
//       operator; then totals and `speedup_vs_xnnpack_dense=X.XX` (sum over all convolutions).
//   bench_kernels --compare KERNEL,KERNEL,... [--density D] [--runs N] [--layer NAME]
//       the named x86 kernels timed in alternation on every layer (median and min ms).
//   bench_kernels --pools [--runs N]
//       GoogLeNet's pooling layers: x86 pooling kernels, scalar reference, XNNPACK NHWC max pool.
//   bench_kernels --crossover [--runs N]
//       sparse vs dense gnrt kernels over a density sweep on representative layers.
//   --isa avx2 runs the AVX2 kernels on an AVX-512 machine; --layer NAME filters layers;
//   --kernel TEXT restricts the `sparse` / `dense` columns to kernels whose name contains TEXT
//   (e.g. --kernel avx512 times the 512-bit sparse kernels although the selector prefers AVX2).
//   bench_kernels [--density D] [Google Benchmark flags]
//       the same layers as Google Benchmark cases (time, dense-equivalent and actual GFLOP/s).
#include <benchmark/benchmark.h>
#include <xnnpack.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gnrt/kernels.h"
#include "aligned_buffer.h"
#include "plan_layers.h"
#include "x86/kernel_list.h"

namespace k = gnrt::kernels;
namespace {

k::Isa g_isa = k::Isa::kScalar;  // the ISA the benchmark runs with (detected or --isa)
// --kernel: the sparse / dense columns use only kernels whose name contains this.
std::string g_kernel_filter;

using Buffer = gnrt_bench::AlignedFloats;
using gnrt_bench::aligned_floats;

// The layers of a real plan of GoogLeNet at 224x224 (plan_layers.h), kept for the process.
const std::vector<std::unique_ptr<gnrt_bench::PlanLayer>>& plan_224() {
  static const auto layers = [] {
    std::vector<std::unique_ptr<gnrt_bench::PlanLayer>> result;
    std::string error;
    if (!gnrt_bench::plan_layers(gnrt_bench::random_googlenet(0.0625, 1, 224), 224, &result,
                                 &error)) {
      std::fprintf(stderr, "bench_kernels: error: %s\n", error.c_str());
      std::exit(1);
    }
    return result;
  }();
  return layers;
}

// A convolution of that plan: its shape for XNNPACK (square kernels and symmetric padding in this
// graph) and the plan's problem (layout only: the weights are the benchmark's own) and origins.
struct ConvLayer {
  std::string name;
  int in_channels, out_channels, size, kernel, stride, pad;
  k::ConvProblem problem;
  std::ptrdiff_t in_origin, out_origin;
};

const std::vector<ConvLayer>& googlenet_convs() {
  static const std::vector<ConvLayer> convs = [] {
    std::vector<ConvLayer> result;
    for (const auto& l : plan_224()) {
      if (l->kind != gnrt_bench::LayerKind::kConv) continue;
      const k::ConvGeometry& g = l->conv.geometry;
      result.push_back({l->name, g.in_channels, g.out_channels, g.in_height, g.kernel_h, g.stride_h,
                        g.pad_top, l->conv, l->in_origin, l->out_origin});
    }
    return result;
  }();
  return convs;
}

const ConvLayer* find_conv(const std::string& name) {
  for (const ConvLayer& l : googlenet_convs())
    if (l.name == name) return &l;
  return nullptr;
}

// One layer with its weights, activations laid out as the plan does, and XNNPACK's copies.
struct LayerSetup {
  ConvLayer layer;
  int out_size = 0;
  double density = 0;
  std::vector<float> dense;  // OIHW
  std::vector<std::uint32_t> row_begin, indices;
  std::vector<float> values, bias;
  k::ConvProblem problem{};
  Buffer input, output;

  LayerSetup(const ConvLayer& l, double d, std::uint32_t seed) : layer(l), density(d) {
    out_size = l.problem.geometry.out_height;
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    std::uniform_real_distribution<double> keep(0.0, 1.0);
    const std::size_t row = static_cast<std::size_t>(l.in_channels) * l.kernel * l.kernel;
    dense.assign(row * l.out_channels, 0.0f);
    row_begin.push_back(0);
    for (int o = 0; o < l.out_channels; ++o) {
      for (std::size_t i = 0; i < row; ++i) {
        if (keep(rng) < d) {
          float v = value(rng);
          if (v == 0.0f) v = 0.5f;
          dense[o * row + i] = v;
          indices.push_back(static_cast<std::uint32_t>(i));
          values.push_back(v);
        }
      }
      row_begin.push_back(static_cast<std::uint32_t>(values.size()));
    }
    bias.resize(l.out_channels);
    for (auto& b : bias) b = value(rng) * 0.1f;

    problem = l.problem;
    problem.activation = k::Activation::kRelu;
    problem.sparse = {row_begin.data(), indices.data(), values.data()};
    problem.bias = bias.data();
    problem.nonzeros = values.size();

    input = aligned_floats(gnrt_bench::kFrontSlackFloats +
                           l.in_channels * problem.in_channel_stride + k::kMaxOverreadFloats);
    output = aligned_floats(gnrt_bench::kFrontSlackFloats +
                            l.out_channels * problem.out_channel_stride + 64);
    float* in0 = input.get() + gnrt_bench::kFrontSlackFloats + l.in_origin;
    for (int c = 0; c < l.in_channels; ++c)
      for (int y = 0; y < l.size; ++y)
        for (int x = 0; x < l.size; ++x)
          in0[c * problem.in_channel_stride + y * problem.in_row_stride + x] = value(rng);
  }

  const float* input_origin() const {
    return input.get() + gnrt_bench::kFrontSlackFloats + layer.in_origin;
  }
  float* output_origin() { return output.get() + gnrt_bench::kFrontSlackFloats + layer.out_origin; }
  double dense_flops() const {
    return 2.0 * layer.out_channels * out_size * out_size * layer.in_channels * layer.kernel *
           layer.kernel;
  }
};

// A packed gnrt kernel ready to run.
struct GnrtRunner {
  k::ConvKernel kernel{};
  Buffer packed;
  GnrtRunner(const k::ConvKernel& kk, const k::ConvProblem& p) : kernel(kk) {
    packed = aligned_floats(kernel.packed_bytes / sizeof(float) + 16);
    kernel.pack(p, packed.get());
  }
  void run(LayerSetup& s) {
    kernel.run(s.problem, packed.get(), s.input_origin(), s.output_origin(), 0,
               s.layer.out_channels);
  }
};

// The first kernel of the list of one form that this CPU runs and that supports the problem.
bool pick_kernel(const k::ConvProblem& p, bool sparse, k::ConvKernel* out) {
  const k::Isa isa = g_isa;
  for (int i = 0; i < k::x86::kConvKernelCount; ++i) {
    const auto& info = k::x86::kConvKernels[i];
    if (info.sparse != sparse || static_cast<int>(info.isa) > static_cast<int>(isa)) continue;
    if (!g_kernel_filter.empty() &&
        std::string(info.name).find(g_kernel_filter) == std::string::npos) {
      continue;
    }
    if (!info.supports(p)) continue;
    *out = k::x86::to_conv_kernel(info, p);
    return true;
  }
  return false;
}

struct XnnRunner {
  xnn_operator_t op = nullptr;
  Buffer input, output;
  ~XnnRunner() {
    if (op != nullptr) xnn_delete_operator(op);
  }
  void run() { xnn_run_operator(op, nullptr); }
};

void init_xnnpack() {
  static bool done = false;
  if (!done) {
    if (xnn_initialize(nullptr) != xnn_status_success) {
      std::fprintf(stderr, "xnn_initialize failed\n");
      std::exit(1);
    }
    done = true;
  }
}

// XNNPACK dense NHWC convolution on the same weights (OIHW -> OHWI).
std::unique_ptr<XnnRunner> make_xnn_dense(const LayerSetup& s) {
  init_xnnpack();
  const ConvLayer& l = s.layer;
  std::vector<float> ohwi(s.dense.size());
  for (int o = 0; o < l.out_channels; ++o)
    for (int i = 0; i < l.in_channels; ++i)
      for (int y = 0; y < l.kernel; ++y)
        for (int x = 0; x < l.kernel; ++x)
          ohwi[((o * l.kernel + y) * l.kernel + x) * l.in_channels + i] =
              s.dense[((o * l.in_channels + i) * l.kernel + y) * l.kernel + x];
  auto r = std::make_unique<XnnRunner>();
  if (xnn_create_convolution2d_nhwc_f32(l.pad, l.pad, l.pad, l.pad, l.kernel, l.kernel, l.stride,
                                        l.stride, 1, 1, 1, l.in_channels, l.out_channels,
                                        l.in_channels, l.out_channels, ohwi.data(), s.bias.data(),
                                        0.0f, INFINITY, 0, &r->op) != xnn_status_success) {
    return nullptr;
  }
  r->input = aligned_floats(static_cast<std::size_t>(l.size) * l.size * l.in_channels + 64);
  r->output = aligned_floats(static_cast<std::size_t>(s.out_size) * s.out_size * l.out_channels);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (std::size_t i = 0; i < static_cast<std::size_t>(l.size) * l.size * l.in_channels; ++i)
    r->input.get()[i] = value(rng);
  if (xnn_setup_convolution2d_nhwc_f32(r->op, 1, l.size, l.size, r->input.get(), r->output.get(),
                                       nullptr) != xnn_status_success) {
    return nullptr;
  }
  return r;
}

// XNNPACK's sparse NCHW 1x1 convolution (its f32-spmm) on the same weights.
std::unique_ptr<XnnRunner> make_xnn_sparse(const LayerSetup& s) {
  init_xnnpack();
  const ConvLayer& l = s.layer;
  if (l.kernel != 1 || l.stride != 1) return nullptr;
  auto r = std::make_unique<XnnRunner>();
  if (xnn_create_convolution2d_nchw_f32(0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, l.in_channels,
                                        l.out_channels, l.in_channels, l.out_channels,
                                        s.dense.data(), s.bias.data(), 0.0f, INFINITY, 0,
                                        &r->op) != xnn_status_success) {
    return nullptr;
  }
  const std::size_t plane = static_cast<std::size_t>(l.size) * l.size;
  r->input = aligned_floats(plane * l.in_channels + 64);
  r->output = aligned_floats(plane * l.out_channels + 64);
  for (std::size_t i = 0; i < plane * l.in_channels; ++i) r->input.get()[i] = 0.25f;
  if (xnn_setup_convolution2d_nchw_f32(r->op, 1, l.size, l.size, r->input.get(), r->output.get(),
                                       nullptr) != xnn_status_success) {
    return nullptr;
  }
  return r;
}

double min_seconds(const std::function<void()>& fn, int runs) {
  for (int i = 0; i < 3; ++i) fn();  // warm-up
  std::vector<double> times;
  for (int i = 0; i < runs; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    const auto t1 = std::chrono::steady_clock::now();
    times.push_back(std::chrono::duration<double>(t1 - t0).count());
  }
  // The minimum: the machine is shared, and the fastest run is the one least disturbed.
  return *std::min_element(times.begin(), times.end());
}

struct Options {
  bool table = false, crossover = false, json = false, pools = false;
  double density = 0.0625;
  int runs = 30;
  std::string only;     // substring filter on layer names
  std::string isa;      // "avx2" to force the AVX2 kernels on an AVX-512 machine
  std::string compare;  // --compare: comma-separated kernel names
};

int run_table(const Options& o) {
  const auto& layers = googlenet_convs();
  double sum_selected = 0, sum_xnn = 0, sum_sparse = 0, sum_dense = 0;
  if (!o.json) {
    std::printf("# isa=%s density=%.4f runs=%d threads=1 (times: min ms over runs)\n",
                k::isa_name(g_isa), o.density, o.runs);
    std::printf("%-21s %-22s %9s %9s %9s %9s %9s %7s  %s\n", "layer", "shape", "selected", "sparse",
                "dense", "xnn_dense", "xnn_spmm", "speedup", "kernel");
  } else {
    std::printf("{\"isa\":\"%s\",\"density\":%.6f,\"runs\":%d,\"layers\":[", k::isa_name(g_isa),
                o.density, o.runs);
  }
  bool first = true;
  std::uint32_t seed = 100;
  for (const ConvLayer& l : layers) {
    ++seed;
    if (!o.only.empty() && l.name.find(o.only) == std::string::npos) continue;
    LayerSetup s(l, o.density, seed);
    const k::ConvKernel selected = k::select_conv_kernel(s.problem, g_isa, false);
    GnrtRunner sel(selected, s.problem);
    const double t_sel = min_seconds([&] { sel.run(s); }, o.runs);
    double t_sparse = NAN, t_dense = NAN, t_xnn = NAN, t_spmm = NAN;
    k::ConvKernel kk{};
    if (pick_kernel(s.problem, true, &kk)) {
      GnrtRunner r(kk, s.problem);
      t_sparse = min_seconds([&] { r.run(s); }, o.runs);
    }
    if (pick_kernel(s.problem, false, &kk)) {
      GnrtRunner r(kk, s.problem);
      t_dense = min_seconds([&] { r.run(s); }, o.runs);
    }
    if (auto x = make_xnn_dense(s)) t_xnn = min_seconds([&] { x->run(); }, o.runs);
    if (auto x = make_xnn_sparse(s)) t_spmm = min_seconds([&] { x->run(); }, o.runs);
    sum_selected += t_sel;
    sum_xnn += t_xnn;
    if (!std::isnan(t_sparse)) sum_sparse += t_sparse;
    if (!std::isnan(t_dense)) sum_dense += t_dense;
    char shape[64];
    std::snprintf(shape, sizeof shape, "%dx%d->%d k%ds%d", l.in_channels, l.size, l.out_channels,
                  l.kernel, l.stride);
    if (!o.json) {
      std::printf("%-21s %-22s %9.4f %9.4f %9.4f %9.4f %9.4f %7.2f  %s\n", l.name.c_str(), shape,
                  t_sel * 1e3, t_sparse * 1e3, t_dense * 1e3, t_xnn * 1e3, t_spmm * 1e3,
                  t_xnn / t_sel, selected.name);
    } else {
      std::printf(
          "%s{\"layer\":\"%s\",\"shape\":\"%s\",\"kernel\":\"%s\",\"selected_ms\":%.6f,"
          "\"sparse_ms\":%.6f,\"dense_ms\":%.6f,\"xnnpack_dense_ms\":%.6f,\"xnnpack_spmm_ms\":%s,"
          "\"gflops_dense_equivalent\":%.3f}",
          first ? "" : ",", l.name.c_str(), shape, selected.name, t_sel * 1e3,
          std::isnan(t_sparse) ? -1.0 : t_sparse * 1e3, std::isnan(t_dense) ? -1.0 : t_dense * 1e3,
          t_xnn * 1e3, std::isnan(t_spmm) ? "null" : std::to_string(t_spmm * 1e3).c_str(),
          s.dense_flops() / t_sel * 1e-9);
    }
    first = false;
  }
  if (!o.json) {
    std::printf("%-21s %-22s %9.4f %9.4f %9.4f %9.4f\n", "total", "", sum_selected * 1e3,
                sum_sparse * 1e3, sum_dense * 1e3, sum_xnn * 1e3);
    std::printf("speedup_vs_xnnpack_dense=%.2f\n", sum_xnn / sum_selected);
  } else {
    std::printf(
        "],\"total_selected_ms\":%.6f,\"total_xnnpack_dense_ms\":%.6f,"
        "\"speedup_vs_xnnpack_dense\":%.4f}\n",
        sum_selected * 1e3, sum_xnn * 1e3, sum_xnn / sum_selected);
  }
  return 0;
}

// --compare A,B,...: the named kernels (exact names from the kernel list) on every layer they
// support, timed in alternation (one run of each in turn, so that load changes on the shared
// machine hit all alike); median and min per kernel, and the sums over the layers all support.
int run_compare(const Options& o) {
  std::vector<std::string> names;
  for (std::size_t start = 0; start <= o.compare.size();) {
    const std::size_t comma = std::min(o.compare.find(',', start), o.compare.size());
    if (comma > start) names.push_back(o.compare.substr(start, comma - start));
    start = comma + 1;
  }
  std::vector<const k::x86::ConvKernelInfo*> infos;
  for (const std::string& n : names) {
    const k::x86::ConvKernelInfo* found = nullptr;
    for (int i = 0; i < k::x86::kConvKernelCount; ++i)
      if (n == k::x86::kConvKernels[i].name) found = &k::x86::kConvKernels[i];
    if (found == nullptr) {
      std::fprintf(stderr, "unknown kernel %s\n", n.c_str());
      return 1;
    }
    infos.push_back(found);
  }
  std::printf("# density=%.4f runs=%d (alternating; median ms, min in brackets)\n", o.density,
              o.runs);
  std::printf("%-21s", "layer");
  for (const auto& n : names) std::printf(" %30s", n.c_str());
  std::printf("\n");
  std::vector<double> sum_median(infos.size(), 0.0), sum_min(infos.size(), 0.0);
  std::uint32_t seed = 100;
  for (const ConvLayer& l : googlenet_convs()) {
    ++seed;
    if (!o.only.empty() && l.name.find(o.only) == std::string::npos) continue;
    LayerSetup s(l, o.density, seed);
    std::vector<std::unique_ptr<GnrtRunner>> runners;
    bool all = true;
    for (const auto* info : infos) {
      if (!info->supports(s.problem)) {
        all = false;
        runners.emplace_back();
        continue;
      }
      runners.emplace_back(new GnrtRunner(k::x86::to_conv_kernel(*info, s.problem), s.problem));
    }
    std::vector<std::vector<double>> times(infos.size());
    for (int r = 0; r < o.runs + 3; ++r) {
      for (std::size_t i = 0; i < runners.size(); ++i) {
        if (!runners[i]) continue;
        const auto t0 = std::chrono::steady_clock::now();
        runners[i]->run(s);
        const auto t1 = std::chrono::steady_clock::now();
        if (r >= 3) times[i].push_back(std::chrono::duration<double>(t1 - t0).count() * 1e3);
      }
    }
    std::printf("%-21s", l.name.c_str());
    for (std::size_t i = 0; i < runners.size(); ++i) {
      if (!runners[i]) {
        std::printf(" %30s", "-");
        continue;
      }
      std::sort(times[i].begin(), times[i].end());
      const double median = times[i][times[i].size() / 2], best = times[i].front();
      if (all) {
        sum_median[i] += median;
        sum_min[i] += best;
      }
      std::printf(" %19.4f [%8.4f]", median, best);
    }
    std::printf("\n");
  }
  std::printf("%-21s", "total(common)");
  for (std::size_t i = 0; i < infos.size(); ++i)
    std::printf(" %19.4f [%8.4f]", sum_median[i], sum_min[i]);
  std::printf("\n");
  return 0;
}

// --pools: the pooling layers of a real plan of GoogLeNet at 224x224 (3x3 max pools, stride 2
// between stages and stride 1 in every inception block; the global average pool) with
// every x86 pooling kernel that supports them, the scalar reference and XNNPACK's NHWC max
// pooling, timed in alternation (median ms).
int run_pools(const Options& o) {
  std::vector<const k::x86::PoolKernelInfo*> kernels;
  for (int i = 0; i < k::x86::kPoolKernelCount; ++i)
    if (static_cast<int>(k::x86::kPoolKernels[i].isa) <= static_cast<int>(g_isa))
      kernels.push_back(&k::x86::kPoolKernels[i]);
  std::printf(
      "# pooling, runs=%d, median ms (alternating); avx2 / avx512 = the x86 kernel of that ISA\n",
      o.runs);
  std::printf("%-19s %-16s %9s %9s %9s %9s  %s\n", "layer", "shape", "avx2", "avx512", "scalar",
              "xnn_nhwc", "selected");
  double sums[4] = {0, 0, 0, 0};
  init_xnnpack();
  for (const auto& layer : plan_224()) {
    if (layer->kind != gnrt_bench::LayerKind::kPool) continue;
    if (!o.only.empty() && layer->name.find(o.only) == std::string::npos) continue;
    const k::PoolProblem& p = layer->pool;
    const k::PoolGeometry& g = p.geometry;
    struct {
      const char* name;
      int channels, size, stride;
      bool global;
    } const l{layer->name.c_str(), g.channels, g.in_height, g.stride_h, p.global};
    const int out = g.out_height;
    Buffer input = aligned_floats(gnrt_bench::kFrontSlackFloats + l.channels * p.in_channel_stride +
                                  k::kMaxOverreadFloats);
    Buffer output =
        aligned_floats(gnrt_bench::kFrontSlackFloats +
                       l.channels * std::max<std::ptrdiff_t>(p.out_channel_stride, 1) + 64);
    float* in0 = input.get() + gnrt_bench::kFrontSlackFloats + layer->in_origin;
    float* out0 = output.get() + gnrt_bench::kFrontSlackFloats + layer->out_origin;
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> value(0.0f, 1.0f);
    for (int c = 0; c < l.channels; ++c)
      for (int y = 0; y < l.size; ++y)
        for (int x = 0; x < l.size; ++x)
          in0[c * p.in_channel_stride + y * p.in_row_stride + x] = value(rng);
    std::vector<std::function<void()>> fns(4);
    for (const auto* info : kernels) {
      if (!info->supports(p)) continue;
      const int slot = info->isa == k::Isa::kAvx512 ? 1 : 0;
      if (fns[slot]) continue;
      fns[slot] = [info, p, in0, out0, l] { info->run(p, in0, out0, 0, l.channels); };
    }
    const k::PoolKernel scalar = k::select_pool_kernel(p, k::Isa::kScalar, true);
    fns[2] = [scalar, p, in0, out0, l] { scalar.run(p, in0, out0, 0, l.channels); };
    std::unique_ptr<XnnRunner> xnn;
    if (!l.global) {
      xnn = std::make_unique<XnnRunner>();
      if (xnn_create_max_pooling2d_nhwc_f32(g.pad_top, p.pad_right, p.pad_bottom, g.pad_left,
                                            g.kernel_h, g.kernel_w, l.stride, l.stride, 1, 1,
                                            l.channels, l.channels, l.channels, -INFINITY, INFINITY,
                                            0, &xnn->op) == xnn_status_success) {
        xnn->input = aligned_floats(static_cast<std::size_t>(l.size) * l.size * l.channels + 64);
        xnn->output = aligned_floats(static_cast<std::size_t>(out) * out * l.channels + 64);
        if (xnn_setup_max_pooling2d_nhwc_f32(xnn->op, 1, l.size, l.size, xnn->input.get(),
                                             xnn->output.get(), nullptr) == xnn_status_success) {
          XnnRunner* x = xnn.get();
          fns[3] = [x] { x->run(); };
        }
      }
    }
    std::vector<std::vector<double>> times(4);
    for (int r = 0; r < o.runs + 3; ++r)
      for (int i = 0; i < 4; ++i) {
        if (!fns[i]) continue;
        const auto t0 = std::chrono::steady_clock::now();
        fns[i]();
        const auto t1 = std::chrono::steady_clock::now();
        if (r >= 3) times[i].push_back(std::chrono::duration<double>(t1 - t0).count() * 1e3);
      }
    double med[4];
    for (int i = 0; i < 4; ++i) {
      if (times[i].empty()) {
        med[i] = NAN;
        continue;
      }
      std::sort(times[i].begin(), times[i].end());
      med[i] = times[i][times[i].size() / 2];
      sums[i] += med[i];
    }
    char shape[48];
    std::snprintf(shape, sizeof shape, "%dx%d k%ds%d", l.channels, l.size, l.global ? l.size : 3,
                  l.stride);
    std::printf("%-19s %-16s %9.4f %9.4f %9.4f %9.4f  %s\n", l.name, shape, med[0], med[1], med[2],
                med[3], k::select_pool_kernel(p, g_isa, false).name);
  }
  std::printf("%-19s %-16s %9.4f %9.4f %9.4f %9.4f\n", "total", "", sums[0], sums[1], sums[2],
              sums[3]);
  return 0;
}

// The density at which the sparse/dense time ratio of a layer first reaches 1, interpolated
// linearly between the densities around it (the first density when it already does there); NAN
// when it never does. Fed the densities in increasing order.
struct Crossover {
  double density = NAN;
  double previous_ratio = 0, previous_density = 0;
  void add(double d, double ratio) {
    if (std::isnan(density) && ratio >= 1.0) {
      density = previous_ratio > 0
                    ? previous_density +
                          (d - previous_density) * (1.0 - previous_ratio) / (ratio - previous_ratio)
                    : d;
    }
    previous_ratio = ratio;
    previous_density = d;
  }
};

int run_crossover(const Options& o) {
  std::vector<ConvLayer> probes;
  for (const char* name : {"inception3a.b1", "inception3b.b2", "inception4c.b2", "inception4e.b3",
                           "inception5b.b1", "conv3", "conv1"})
    if (const ConvLayer* l = find_conv(name)) probes.push_back(*l);

  const double densities[] = {0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0};
  std::printf("# isa=%s runs=%d: sparse_ms/dense_ms per density (<1: sparse wins)\n",
              k::isa_name(g_isa), o.runs);
  std::printf("%-16s", "layer");
  for (double d : densities) std::printf(" %6.2f", d);
  std::printf("  crossover\n");
  for (const ConvLayer& l : probes) {
    std::printf("%-16s", l.name.c_str());
    Crossover crossover;
    for (double d : densities) {
      LayerSetup s(l, d, 7);
      k::ConvKernel sk{}, dk{};
      if (!pick_kernel(s.problem, true, &sk) || !pick_kernel(s.problem, false, &dk)) {
        std::printf("   n/a");
        continue;
      }
      GnrtRunner sr(sk, s.problem), dr(dk, s.problem);
      const double ratio =
          min_seconds([&] { sr.run(s); }, o.runs) / min_seconds([&] { dr.run(s); }, o.runs);
      std::printf(" %6.2f", ratio);
      crossover.add(d, ratio);
    }
    std::printf("  %.3f\n", crossover.density);
  }
  // GoogLeNet's classifier, 1024 -> 1000.
  std::printf("%-16s", "fc_1024x1000");
  Crossover crossover;
  for (double d : densities) {
    std::mt19937 rng(9);
    std::uniform_real_distribution<float> value(-1.0f, 1.0f);
    std::uniform_real_distribution<double> keep(0.0, 1.0);
    const int in = 1024, out = 1000;
    std::vector<float> w(static_cast<std::size_t>(in) * out, 0.0f), x(in), y(out), bias(out, 0.1f);
    for (auto& v : w) v = keep(rng) < d ? value(rng) : 0.0f;
    for (auto& v : x) v = value(rng);
    k::FcProblem p{};
    p.in_features = in;
    p.out_features = out;
    p.dense_weights = w.data();
    p.bias = bias.data();
    double times[2] = {NAN, NAN};
    for (int i = 0; i < k::x86::kFcKernelCount; ++i) {
      const auto& info = k::x86::kFcKernels[i];
      if (static_cast<int>(info.isa) > static_cast<int>(g_isa)) continue;
      double& t = times[info.sparse ? 0 : 1];
      if (!std::isnan(t)) continue;
      Buffer packed = aligned_floats(info.packed_bytes(p) / sizeof(float) + 16);
      info.pack(p, packed.get());
      t = min_seconds([&] { info.run(p, packed.get(), x.data(), y.data(), 0, out); }, o.runs);
    }
    const double ratio = times[0] / times[1];
    std::printf(" %6.2f", ratio);
    crossover.add(d, ratio);
  }
  std::printf("  %.3f\n", crossover.density);
  return 0;
}

void register_benchmarks(const Options& o) {
  for (const ConvLayer& l : googlenet_convs()) {
    if (!o.only.empty() && l.name.find(o.only) == std::string::npos) continue;
    const double density = o.density;
    benchmark::RegisterBenchmark(("gnrt/" + l.name).c_str(), [l, density](benchmark::State& st) {
      LayerSetup s(l, density, 3);
      GnrtRunner r(k::select_conv_kernel(s.problem, g_isa, false), s.problem);
      for (auto _ : st) r.run(s);
      st.SetLabel(r.kernel.name);
      st.counters["dense_GFLOPs"] =
          benchmark::Counter(s.dense_flops() * 1e-9 * static_cast<double>(st.iterations()),
                             benchmark::Counter::kIsRate);
      st.counters["actual_GFLOPs"] =
          benchmark::Counter(2.0 * static_cast<double>(s.values.size()) * s.out_size * s.out_size *
                                 1e-9 * static_cast<double>(st.iterations()),
                             benchmark::Counter::kIsRate);
    })->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("xnnpack_dense/" + l.name).c_str(), [l, density](
                                                                          benchmark::State& st) {
      LayerSetup s(l, density, 3);
      auto x = make_xnn_dense(s);
      for (auto _ : st) x->run();
      st.counters["dense_GFLOPs"] =
          benchmark::Counter(s.dense_flops() * 1e-9 * static_cast<double>(st.iterations()),
                             benchmark::Counter::kIsRate);
    })->Unit(benchmark::kMicrosecond);
    if (l.kernel == 1) {
      benchmark::RegisterBenchmark(("xnnpack_spmm/" + l.name).c_str(), [l, density](
                                                                           benchmark::State& st) {
        LayerSetup s(l, density, 3);
        auto x = make_xnn_sparse(s);
        if (!x) {
          st.SkipWithError("xnn_create_convolution2d_nchw_f32 failed");
          return;
        }
        for (auto _ : st) x->run();
      })->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const char* flag) -> const char* {
      const std::string f = flag;
      if (a.rfind(f + "=", 0) == 0) return argv[i] + f.size() + 1;
      if (a == f && i + 1 < argc) return argv[++i];
      return nullptr;
    };
    const char* v = nullptr;
    if (a == "--table") {
      o.table = true;
    } else if (a == "--pools") {
      o.pools = true;
    } else if (a == "--crossover") {
      o.crossover = true;
    } else if (a == "--json") {
      o.json = true;
    } else if ((v = value("--density")) != nullptr) {
      o.density = std::atof(v);
    } else if ((v = value("--runs")) != nullptr) {
      o.runs = std::max(1, std::atoi(v));
    } else if ((v = value("--isa")) != nullptr) {
      o.isa = v;
    } else if ((v = value("--layer")) != nullptr) {
      o.only = v;
    } else if ((v = value("--compare")) != nullptr) {
      o.compare = v;
    } else if ((v = value("--kernel")) != nullptr) {
      g_kernel_filter = v;
    } else {
      rest.push_back(argv[i]);
    }
  }
  g_isa = k::detect_isa();
  if (o.isa == "avx2" && g_isa == k::Isa::kAvx512) g_isa = k::Isa::kAvx2;
  if (o.isa == "scalar") g_isa = k::Isa::kScalar;
  if (!o.compare.empty()) return run_compare(o);
  if (o.pools) return run_pools(o);
  if (o.table) return run_table(o);
  if (o.crossover) return run_crossover(o);
  int rest_argc = static_cast<int>(rest.size());
  benchmark::Initialize(&rest_argc, rest.data());
  register_benchmarks(o);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
