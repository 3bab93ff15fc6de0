// bench_sparse --kernels: GoogLeNet's convolutions one by one, as Google Benchmark cases.
//
//   bench_sparse --kernels [--kernel-densities 1,0.25,0.0625] [--size 224] [--seed 1]
//                [--benchmark_filter=REGEX] [other --benchmark_* flags]
//
// For every density the random GoogLeNet of model mode is built (same seed, same weights), and
// every Conv2D layer of it becomes up to three cases, registered next to each other so that they
// run close together in time:
//   gnrt/d<density>/<layer>           libgnrt's kernel for the layer, chosen by
//                                     kernels::select_conv_kernel exactly as the planner does
//                                     (the ConvProblem of a real plan of the model: its zero
//                                     borders, row and channel strides and aligned plane origins;
//                                     sparse or dense weights as stored in the file), packed once,
//                                     run over all output channels on one thread. The kernel alone:
//                                     no border re-zeroing, no thread pool, no fusion.
//   xnnpack_dense/d<density>/<layer>  xnn_create_convolution2d_nhwc_f32, same weights expanded to
//                                     dense, NHWC, one thread.
//   xnnpack_spmm/d<density>/<layer>   1x1 layers only: xnn_create_convolution2d_nchw_f32 (XNNPACK's
//                                     sparse NCHW path, f32-spmm) on the same weights, one thread.
// Counters: dense_GFLOPs (2 * dense multiply-adds per second), actual_GFLOPs (2 * multiply-adds the
// engine performs: nonzeros for sparse kernels, all weights for dense ones), density.
// After the run (console format) a summary table gives, per layer, the three CPU times (median over
// --benchmark_repetitions) and the ratios measured in this process, and the sums over all
// convolutions.
#include <benchmark/benchmark.h>
#include <xnnpack.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "aligned_buffer.h"
#include "bench_common.h"
#include "gnrt/kernels.h"
#include "kernel_mode.h"
#include "model.h"
#include "dense_weights.h"
#include "plan.h"

namespace gnrt_bench {
namespace {

namespace k = gnrt::kernels;

using Floats = AlignedFloats;

// A built model as the runtime's loader decodes it; the bytes are read in place.
struct LoadedModel {
  std::vector<std::uint8_t> bytes;
  gnrt::Model model;
};

// A tensor's planes as the planner lays them out (gnrt::TensorLayout): the floats before the
// interior origin of the first plane, and the strides.
struct PlaneLayout {
  int pad = 0;
  std::ptrdiff_t row_stride = 0, channel_stride = 0;
  std::ptrdiff_t origin = 0;  // floats from the (64-byte aligned) plane start to element (0, 0)
};

// One convolution of the built model, with the activation layout of a real plan of it.
struct ConvCase {
  std::string layer;        // e.g. "inception3a.b2"
  std::string density_tag;  // e.g. "d0.0625"
  double requested_density = 0;
  std::shared_ptr<const LoadedModel> model;  // keeps the weights alive
  int op_index = 0;
  const gnrt::OpDesc& op() const { return model->model.ops[static_cast<std::size_t>(op_index)]; }
  k::ConvGeometry geometry{};
  PlaneLayout in, out;
  bool stored_sparse = false;
};

PlaneLayout plane_layout(const gnrt::TensorLayout& l) {
  PlaneLayout p;
  p.pad = l.pad;
  p.row_stride = l.row_stride;
  p.channel_stride = l.channel_stride;
  p.origin = l.lead + static_cast<std::ptrdiff_t>(l.pad) * l.row_stride + l.pad;
  return p;
}

// The weights of a case, expanded, plus the CSR form the runtime would hand to the kernel.
struct CaseWeights {
  gnrt::DenseWeights dense;
  std::vector<float> bias;
  std::vector<std::uint32_t> row_begin, indices;
  std::vector<float> values;
};

void load_weights(const ConvCase& c, CaseWeights* w) {
  w->dense = gnrt::dense_weights(c.op().weights);
  w->bias = gnrt::bias_or_zeros(c.op());
  const std::size_t row_length =
      w->dense.values.size() / static_cast<std::size_t>(c.geometry.out_channels);
  w->row_begin.assign(1, 0);
  for (int o = 0; o < c.geometry.out_channels; ++o) {
    for (std::size_t i = 0; i < row_length; ++i) {
      const float v = w->dense.values[static_cast<std::size_t>(o) * row_length + i];
      if (v == 0.0f) continue;
      w->indices.push_back(static_cast<std::uint32_t>(i));
      w->values.push_back(v);
    }
    w->row_begin.push_back(static_cast<std::uint32_t>(w->values.size()));
  }
}

double dense_macs(const k::ConvGeometry& g) {
  return static_cast<double>(g.out_channels) * g.out_height * g.out_width *
         (g.in_channels / g.groups) * g.kernel_h * g.kernel_w;
}

void set_counters(benchmark::State& state, const ConvCase& c, double actual_macs, double density) {
  const double iterations = static_cast<double>(state.iterations());
  state.counters["dense_GFLOPs"] =
      benchmark::Counter(2e-9 * dense_macs(c.geometry) * iterations, benchmark::Counter::kIsRate);
  state.counters["actual_GFLOPs"] =
      benchmark::Counter(2e-9 * actual_macs * iterations, benchmark::Counter::kIsRate);
  state.counters["density"] = density;
}

void random_fill(float* data, std::size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (std::size_t i = 0; i < count; ++i) data[i] = uniform(rng);
}

void bench_gnrt(benchmark::State& state, const ConvCase& c) {
  CaseWeights w;
  load_weights(c, &w);
  const k::ConvGeometry& g = c.geometry;
  k::ConvProblem p{};
  p.geometry = g;
  p.in_pad = c.in.pad;
  p.in_row_stride = c.in.row_stride;
  p.in_channel_stride = c.in.channel_stride;
  p.out_pad = c.out.pad;
  p.out_row_stride = c.out.row_stride;
  p.out_channel_stride = c.out.channel_stride;
  p.activation = k::Activation::kRelu;
  if (c.stored_sparse) {
    p.dense_weights = nullptr;
    p.sparse = {w.row_begin.data(), w.indices.data(), w.values.data()};
  } else {
    p.dense_weights = w.dense.values.data();
    p.sparse = {nullptr, nullptr, nullptr};
  }
  p.bias = w.bias.data();
  p.nonzeros = w.values.size();
  const k::ConvKernel kernel = k::select_conv_kernel(p, k::detect_isa(), false);
  Floats packed = aligned_floats(kernel.packed_bytes / sizeof(float) + 16);
  kernel.pack(p, packed.get());

  // The planes start 64-byte aligned after the arena's front slack, as in a plan.
  const std::ptrdiff_t front = k::kMaxUnderreadFloats;
  const std::size_t in_floats = static_cast<std::size_t>(g.in_channels) * p.in_channel_stride;
  Floats input = aligned_floats(front + in_floats + k::kMaxOverreadFloats);
  float* in_origin = input.get() + front + c.in.origin;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (int ch = 0; ch < g.in_channels; ++ch)
    for (int y = 0; y < g.in_height; ++y)
      for (int x = 0; x < g.in_width; ++x)
        in_origin[ch * p.in_channel_stride + y * p.in_row_stride + x] = uniform(rng);
  Floats output =
      aligned_floats(front + static_cast<std::size_t>(g.out_channels) * p.out_channel_stride);
  float* out_origin = output.get() + front + c.out.origin;

  for (auto _ : state) {
    kernel.run(p, packed.get(), in_origin, out_origin, 0, g.out_channels);
    benchmark::ClobberMemory();
  }
  state.SetLabel(kernel.name);
  const double pixels = static_cast<double>(g.out_height) * g.out_width;
  set_counters(state, c,
               kernel.sparse ? pixels * static_cast<double>(w.values.size()) : dense_macs(g),
               w.dense.density());
}

bool xnnpack_ready() {
  static const bool ok = xnn_initialize(nullptr) == xnn_status_success;
  return ok;
}

struct XnnOperator {
  xnn_operator_t op = nullptr;
  ~XnnOperator() {
    if (op != nullptr) xnn_delete_operator(op);
  }
};

// The weights of an XNNPACK case; false (and the case skipped) when XNNPACK cannot start.
bool xnnpack_weights(benchmark::State& state, const ConvCase& c, CaseWeights* w) {
  if (!xnnpack_ready()) {
    state.SkipWithError("xnn_initialize failed");
    return false;
  }
  load_weights(c, w);
  return true;
}

// The timed loop of an XNNPACK case: the operator is created and set up.
void run_operator(benchmark::State& state, xnn_operator_t op) {
  for (auto _ : state) {
    xnn_run_operator(op, nullptr);
    benchmark::ClobberMemory();
  }
}

void bench_xnnpack_dense(benchmark::State& state, const ConvCase& c) {
  CaseWeights w;
  if (!xnnpack_weights(state, c, &w)) return;
  const k::ConvGeometry& g = c.geometry;
  const int ig = g.in_channels / g.groups;
  std::vector<float> ohwi(w.dense.values.size());
  for (int o = 0; o < g.out_channels; ++o)
    for (int ic = 0; ic < ig; ++ic)
      for (int ky = 0; ky < g.kernel_h; ++ky)
        for (int kx = 0; kx < g.kernel_w; ++kx)
          ohwi[((static_cast<std::size_t>(o) * g.kernel_h + ky) * g.kernel_w + kx) * ig + ic] =
              w.dense
                  .values[((static_cast<std::size_t>(o) * ig + ic) * g.kernel_h + ky) * g.kernel_w +
                          kx];
  const gnrt::OpDesc& conv = c.op();
  XnnOperator x;
  xnn_status status = xnn_create_convolution2d_nhwc_f32(
      conv.pad_top, conv.pad_right, conv.pad_bottom, conv.pad_left, g.kernel_h, g.kernel_w,
      g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, g.groups, ig, g.out_channels / g.groups,
      g.in_channels, g.out_channels, ohwi.data(), w.bias.data(), 0.0f, INFINITY, 0, &x.op);
  if (status != xnn_status_success) {
    state.SkipWithError("xnn_create_convolution2d_nhwc_f32 failed");
    return;
  }
  const std::size_t in_count = static_cast<std::size_t>(g.in_height) * g.in_width * g.in_channels;
  Floats input = aligned_floats(in_count);
  random_fill(input.get(), in_count, 7);
  Floats output =
      aligned_floats(static_cast<std::size_t>(g.out_height) * g.out_width * g.out_channels);
  status = xnn_setup_convolution2d_nhwc_f32(x.op, 1, g.in_height, g.in_width, input.get(),
                                            output.get(), nullptr);
  if (status != xnn_status_success) {
    state.SkipWithError("xnn_setup_convolution2d_nhwc_f32 failed");
    return;
  }
  run_operator(state, x.op);
  set_counters(state, c, dense_macs(g), w.dense.density());
}

void bench_xnnpack_spmm(benchmark::State& state, const ConvCase& c) {
  CaseWeights w;
  if (!xnnpack_weights(state, c, &w)) return;
  const k::ConvGeometry& g = c.geometry;
  XnnOperator x;
  // 1x1, stride 1, no padding: XNNPACK's NCHW convolution takes its sparse path (f32-spmm), which
  // extracts the nonzeros of these (dense OIHW = [out][in]) weights itself.
  xnn_status status = xnn_create_convolution2d_nchw_f32(
      0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, g.in_channels, g.out_channels, g.in_channels, g.out_channels,
      w.dense.values.data(), w.bias.data(), 0.0f, INFINITY, 0, &x.op);
  if (status != xnn_status_success) {
    state.SkipWithError(("xnn_create_convolution2d_nchw_f32 refused the layer (status " +
                         std::to_string(static_cast<int>(status)) + ")")
                            .c_str());
    return;
  }
  const std::size_t plane = static_cast<std::size_t>(g.in_height) * g.in_width;
  Floats input = aligned_floats(plane * g.in_channels);
  random_fill(input.get(), plane * g.in_channels, 7);
  Floats output = aligned_floats(plane * g.out_channels);
  status = xnn_setup_convolution2d_nchw_f32(x.op, 1, g.in_height, g.in_width, input.get(),
                                            output.get(), nullptr);
  if (status != xnn_status_success) {
    state.SkipWithError("xnn_setup_convolution2d_nchw_f32 failed");
    return;
  }
  run_operator(state, x.op);
  set_counters(state, c, static_cast<double>(plane) * static_cast<double>(w.values.size()),
               w.dense.density());
}

// Every Conv2D of a built model, with the activation layout of a plan of it at its own input
// size (one thread). Empty with `error` set when the model cannot be loaded or planned.
std::vector<ConvCase> conv_cases(std::vector<std::uint8_t> bytes, double density,
                                 const std::string& tag, std::string* error) {
  auto loaded = std::make_shared<LoadedModel>();
  loaded->bytes = std::move(bytes);
  const gnrt::Model& model = loaded->model;
  gnrt::Status status =
      gnrt::load_model(loaded->bytes.data(), loaded->bytes.size(), &loaded->model);
  std::unique_ptr<gnrt::Plan> plan;
  if (status.ok()) status = gnrt::Plan::create(model, gnrt::PlanConfig{}, &plan);
  if (!status.ok()) {
    *error = status.message;
    return {};
  }
  std::vector<ConvCase> cases;
  for (std::size_t i = 0; i < model.ops.size(); ++i) {
    const gnrt::OpDesc& op = model.ops[i];
    if (op.type != gnrt::OpType::kConv2D) continue;
    const gnrt::TensorDesc& in = model.tensors[static_cast<std::size_t>(op.inputs[0])];
    const gnrt::TensorDesc& out = model.tensors[static_cast<std::size_t>(op.output)];
    ConvCase c;
    c.layer = op.name;
    c.density_tag = tag;
    c.requested_density = density;
    c.model = loaded;
    c.op_index = static_cast<int>(i);
    c.geometry = {in.channels,        in.default_height, in.default_width, out.channels,
                  out.default_height, out.default_width, op.kernel_h,      op.kernel_w,
                  op.stride_h,        op.stride_w,       op.pad_top,       op.pad_left,
                  op.dilation_h,      op.dilation_w,     op.groups};
    c.in = plane_layout(plan->layout(op.inputs[0]));
    c.out = plane_layout(plan->layout(op.output));
    c.stored_sparse = op.weights.sparse;
    cases.push_back(c);
  }
  return cases;
}

// Console output as usual, plus the per-iteration real time of every case for the summary.
class CapturingReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& run : runs) {
      if (run.run_type != Run::RT_Iteration || run.error_occurred) continue;
      // CPU time: every case runs on the benchmark's own thread, so CPU time is the kernel's time
      // without the intervals in which a shared machine descheduled it.
      seconds_[run.benchmark_name()].push_back(run.GetAdjustedCPUTime() /
                                               benchmark::GetTimeUnitMultiplier(run.time_unit));
      labels_[run.benchmark_name()] = run.report_label;
    }
    ConsoleReporter::ReportRuns(runs);
  }
  // Median over repetitions, or -1 when the case did not run.
  double seconds(const std::string& name) const {
    const auto it = seconds_.find(name);
    if (it == seconds_.end() || it->second.empty()) return -1;
    std::vector<double> v = it->second;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }
  std::string label(const std::string& name) const {
    const auto it = labels_.find(name);
    return it == labels_.end() ? std::string() : it->second;
  }

 private:
  std::map<std::string, std::vector<double>> seconds_;
  std::map<std::string, std::string> labels_;
};

void print_summary(const CapturingReporter& r, const std::vector<ConvCase>& cases) {
  std::printf(
      "\nsummary (CPU time in us per run, one thread, measured in this process; speedup = baseline "
      "/ gnrt)\n");
  std::printf("%-9s %-26s %-36s %10s %10s %8s %10s %8s\n", "density", "layer", "gnrt_kernel",
              "gnrt_us", "xnn_dense", "speedup", "xnn_spmm", "vs_spmm");
  std::map<std::string, std::pair<double, double>>
      totals;  // tag -> (gnrt, xnn dense) over layers with both
  std::vector<std::string> order;
  for (const ConvCase& c : cases) {
    const std::string suffix = "/" + c.density_tag + "/" + c.layer;
    const double gs = r.seconds("gnrt" + suffix);
    const double ds = r.seconds("xnnpack_dense" + suffix);
    const double ss = r.seconds("xnnpack_spmm" + suffix);
    if (gs < 0 && ds < 0 && ss < 0) continue;
    auto us = [](double s, char* buf, std::size_t n) {
      if (s < 0)
        std::snprintf(buf, n, "-");
      else
        std::snprintf(buf, n, "%.1f", s * 1e6);
      return buf;
    };
    auto ratio = [](double num, double den, char* buf, std::size_t n) {
      if (num < 0 || den <= 0)
        std::snprintf(buf, n, "-");
      else
        std::snprintf(buf, n, "%.2f", num / den);
      return buf;
    };
    char a[32], b[32], s1[32], d[32], s2[32];
    std::printf("%-9s %-26s %-36s %10s %10s %8s %10s %8s\n", c.density_tag.c_str(), c.layer.c_str(),
                r.label("gnrt" + suffix).c_str(), us(gs, a, sizeof a), us(ds, b, sizeof b),
                ratio(ds, gs, s1, sizeof s1), us(ss, d, sizeof d), ratio(ss, gs, s2, sizeof s2));
    if (gs > 0 && ds > 0) {
      if (!totals.count(c.density_tag)) order.push_back(c.density_tag);
      totals[c.density_tag].first += gs;
      totals[c.density_tag].second += ds;
    }
  }
  for (const std::string& tag : order) {
    const auto& t = totals[tag];
    std::printf(
        "total %-9s gnrt_ms=%.3f xnnpack_dense_ms=%.3f speedup_vs_xnnpack_dense=%.2f (sum over the "
        "convolutions that ran)\n",
        tag.c_str(), t.first * 1e3, t.second * 1e3, t.second / t.first);
  }
}

// Kernel mode's own flags; everything else goes to Google Benchmark.
struct KernelFlags {
  std::vector<double> densities = {1.0, 0.25, 0.0625};
  int size = 224;
  unsigned seed = 1;
  bool console = true;
  std::vector<char*> rest;  // argv[0] and the Google Benchmark flags
};

// Returns -1 when the flags are good, else the exit code (after the error line).
int parse_kernel_flags(int argc, char** argv, KernelFlags* f) {
  f->rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&](const std::string& flag, std::string* out) {
      if (a.rfind(flag + "=", 0) == 0) {
        *out = a.substr(flag.size() + 1);
        return true;
      }
      if (a == flag) {
        if (i + 1 >= argc) return false;
        *out = argv[++i];
        return true;
      }
      return false;
    };
    std::string v;
    try {
      if (a == "--kernels") continue;
      if (value("--kernel-densities", &v)) {
        f->densities.clear();
        std::stringstream list(v);
        std::string item;
        while (std::getline(list, item, ',')) {
          std::size_t used = 0;
          const double d = std::stod(item, &used);
          if (used != item.size() || !(d > 0.0 && d <= 1.0))
            return report_error("--kernel-densities: '" + item + "' is not a density in (0, 1]");
          f->densities.push_back(d);
        }
        if (f->densities.empty()) return report_error("--kernel-densities: empty list");
      } else if (value("--size", &v)) {
        std::size_t used = 0;
        f->size = std::stoi(v, &used);
        if (used != v.size() || f->size < 8 || f->size > 4096)
          return report_error("--size: expected 8..4096, got " + v);
      } else if (value("--seed", &v)) {
        f->seed = static_cast<unsigned>(std::stoul(v));
      } else if (a.rfind("--benchmark_", 0) == 0 || a == "--help" || a == "-h") {
        if (a.rfind("--benchmark_format=", 0) == 0 && a != "--benchmark_format=console")
          f->console = false;
        if (a == "--help" || a == "-h") {
          std::printf(
              "bench_sparse --kernels [--kernel-densities 1,0.25,0.0625] [--size 224] [--seed 1] "
              "[--benchmark_* flags]\n"
              "Cases: gnrt/d<density>/<layer>, xnnpack_dense/d<density>/<layer>, "
              "xnnpack_spmm/d<density>/<layer> (1x1 layers).\n"
              "Example: bench_sparse --kernels --kernel-densities 0.0625 "
              "--benchmark_filter='inception4'\n\n");
        }
        f->rest.push_back(argv[i]);
      } else {
        return report_error("kernel mode: unknown flag '" + a +
                            "' (see bench_sparse --kernels --help)");
      }
    } catch (const std::exception&) {
      return report_error("kernel mode: bad value for '" + a + "'");
    }
  }
  return -1;
}

void register_cases(const std::vector<ConvCase>& all) {
  for (const ConvCase& c : all) {
    const std::string suffix = "/" + c.density_tag + "/" + c.layer;
    benchmark::RegisterBenchmark(("gnrt" + suffix).c_str(), [c](benchmark::State& s) {
      bench_gnrt(s, c);
    })->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark(("xnnpack_dense" + suffix).c_str(), [c](benchmark::State& s) {
      bench_xnnpack_dense(s, c);
    })->Unit(benchmark::kMicrosecond);
    const k::ConvGeometry& g = c.geometry;
    if (g.kernel_h == 1 && g.kernel_w == 1 && g.stride_h == 1 && g.stride_w == 1 &&
        g.pad_top == 0 && g.pad_left == 0 && g.groups == 1) {
      benchmark::RegisterBenchmark(("xnnpack_spmm" + suffix).c_str(), [c](benchmark::State& s) {
        bench_xnnpack_spmm(s, c);
      })->Unit(benchmark::kMicrosecond);
    }
  }
}

}  // namespace

int kernel_mode_main(int argc, char** argv) {
  KernelFlags f;
  if (const int code = parse_kernel_flags(argc, argv, &f); code >= 0) return code;
  int rest_argc = static_cast<int>(f.rest.size());
  benchmark::Initialize(&rest_argc, f.rest.data());
  if (benchmark::ReportUnrecognizedArguments(rest_argc, f.rest.data())) return 1;

  std::printf("bench_sparse --kernels: isa=%s size=%d seed=%u densities=",
              k::isa_name(k::detect_isa()), f.size, f.seed);
  for (std::size_t i = 0; i < f.densities.size(); ++i)
    std::printf("%s%g", i ? "," : "", f.densities[i]);
  std::printf(" threads=1\n");
  std::fflush(stdout);

  std::vector<ConvCase> all;
  for (double d : f.densities) {
    RandomGoogLeNet spec;
    spec.density = d;
    spec.seed = f.seed;
    spec.size = f.size;
    std::vector<std::uint8_t> bytes;
    try {
      bytes = build_random_googlenet(spec);
    } catch (const std::exception& e) {
      return report_error(std::string("building the random GoogLeNet failed: ") + e.what());
    }
    char tag[32];
    std::snprintf(tag, sizeof tag, "d%g", d);
    std::string error;
    const std::vector<ConvCase> cases = conv_cases(std::move(bytes), d, tag, &error);
    if (cases.empty()) return report_error("planning the random GoogLeNet failed: " + error);
    all.insert(all.end(), cases.begin(), cases.end());
  }
  register_cases(all);
  if (f.console) {
    CapturingReporter reporter;
    benchmark::RunSpecifiedBenchmarks(&reporter);
    print_summary(reporter, all);
  } else {
    benchmark::RunSpecifiedBenchmarks();
  }
  benchmark::Shutdown();
  return 0;
}

}  // namespace gnrt_bench
