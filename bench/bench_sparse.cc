// bench_sparse: libgnrt against XNNPACK dense on the same model and weights, in one process.
//
// Model mode (default):
//   bench_sparse [--model M.gnrt | --density D [--seed S] [--float16]] [--size 224] [--threads T]
//                [--runs N] [--warmup W] [--no-verify] [--json] [--reference] [--save-model P]
//                [--gap-ms 2]
// runs libgnrt and the XNNPACK dense baseline alternately, run by run, and prints median/min/max
// per engine, a per-layer breakdown for libgnrt (with XNNPACK's time for the same layer), the ISA
// and `speedup_vs_xnnpack_dense=X.XX` (ratio of the medians). --json prints one JSON object on
// stdout instead (the echoed parameters then go to stderr).
//
// Kernel mode:
//   bench_sparse --kernels [--kernel-densities 1,0.25,0.0625] [--size 224] [Google Benchmark flags]
// see kernel_mode.cc.
//
// Output format (stable; docs/benchmarks.md documents it): key=value summary lines, one table of
// layers with a header line, then the summary line `speedup_vs_xnnpack_dense=X.XX` last.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "bench_common.h"
#include "gnrt/gnrt.h"
#include "gnrt/gnrt_generated.h"
#include "gnrt/googlenet.h"
#include "gnrt/model_builder.h"
#include "xnnpack_googlenet.h"

namespace gnrt_bench {

int report_error(const std::string& message) {
  std::fprintf(stderr, "bench_sparse: error: %s\n", message.c_str());
  return 1;
}

std::vector<std::uint8_t> build_random_googlenet(const RandomGoogLeNet& spec) {
  gnrt::GoogLeNetConfig config;
  config.in_channels = spec.in_channels;
  config.num_classes = spec.num_classes;
  config.height = config.width = spec.size;
  gnrt::ModelMetadata metadata;
  char name[96];
  std::snprintf(name, sizeof name, "googlenet-random-d%g-s%u", spec.density, spec.seed);
  metadata.name = name;
  metadata.description =
      "GoogLeNet with seeded random He-normal weights, magnitude-pruned per layer (bench_sparse)";
  metadata.producer = "bench_sparse";
  gnrt::WeightOptions weight_options;
  weight_options.storage =
      spec.float16 ? gnrt::ValueStorage::kFloat16 : gnrt::ValueStorage::kFloat32;
  return gnrt::build_googlenet(config, gnrt::random_pruned_weights(spec.seed, spec.density),
                               metadata, weight_options);
}

namespace {

namespace fb = gnrt::fb;

struct Params {
  std::string model_path;
  double density = 0.0625;
  unsigned seed = 1;
  bool float16 = false;
  int size = 0;  // 0: the model's default (224 for the built GoogLeNet)
  int threads = 1;
  int runs = 20;
  int warmup = 2;
  bool verify = true;
  bool json = false;
  bool reference = false;
  int gap_ms = 2;  // with threads > 1: pause between runs so idle workers of both pools sleep
  std::string save_model;
};

struct Stats {
  double median = 0, min = 0, max = 0;
};

Stats stats_of(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s.min = v.front();
  s.max = v.back();
  return s;
}

double median_of(std::vector<double> v) { return stats_of(std::move(v)).median; }

// What bench_sparse knows about a weighted layer, read from the model file.
struct LayerFacts {
  double density = -1;                     // -1: not a weighted layer
  std::uint64_t dense_macs_per_pixel = 0;  // multiply-adds per output pixel if dense
};

std::map<std::string, LayerFacts> read_layer_facts(const std::vector<std::uint8_t>& bytes) {
  std::map<std::string, LayerFacts> facts;
  const fb::Model* model = fb::GetModel(bytes.data());
  if (model->operators() == nullptr) return facts;
  for (const fb::Operator* op : *model->operators()) {
    const fb::Weights* w = nullptr;
    if (op->options_type() == fb::OperatorOptions::Conv2DOptions)
      w = op->options_as_Conv2DOptions()->weights();
    if (op->options_type() == fb::OperatorOptions::FullyConnectedOptions)
      w = op->options_as_FullyConnectedOptions()->weights();
    if (w == nullptr || op->name() == nullptr) continue;
    DenseWeights dense;
    std::string error;
    if (!expand_weights(w, &dense, &error)) continue;
    LayerFacts f;
    f.density = dense.density();
    f.dense_macs_per_pixel = dense.values.size();
    facts[op->name()->str()] = f;
  }
  return facts;
}

// Relative error of `got` against `want`: max_i |got_i - want_i| / max(|want_i|, floor), where
// floor = 1e-3 * max_j |want_j|, so that outputs below 0.1% of the largest one (tiny softmax
// probabilities) are judged against that 0.1% instead of against themselves.
struct Comparison {
  double max_relative_error = 0;
  double max_abs_error = 0;
  int argmax_got = -1, argmax_want = -1;
  bool finite = true;
};

Comparison compare(const std::vector<float>& got, const std::vector<float>& want) {
  Comparison c;
  double peak = 0;
  for (float w : want) peak = std::max(peak, static_cast<double>(std::fabs(w)));
  const double floor = std::max(1e-3 * peak, 1e-30);
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i]) || !std::isfinite(want[i])) c.finite = false;
    const double diff = std::fabs(static_cast<double>(got[i]) - want[i]);
    c.max_abs_error = std::max(c.max_abs_error, diff);
    c.max_relative_error =
        std::max(c.max_relative_error, diff / std::max<double>(std::fabs(want[i]), floor));
  }
  c.argmax_got = static_cast<int>(std::max_element(got.begin(), got.end()) - got.begin());
  c.argmax_want = static_cast<int>(std::max_element(want.begin(), want.end()) - want.begin());
  return c;
}

constexpr double kVerifyTolerance = 1e-3;

struct GnrtHandles {
  gnrt_model* model = nullptr;
  gnrt_plan* plan = nullptr;
  ~GnrtHandles() {
    gnrt_plan_destroy(plan);
    gnrt_model_destroy(model);
  }
};

std::string gnrt_error(const char* what, gnrt_status status) {
  return std::string(what) + ": " + gnrt_status_string(status) + ": " + gnrt_last_error();
}

// The 1-minute load average: bench_sparse runs on shared machines, and a reader of its numbers
// should know how busy the machine was. "" when unavailable.
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one;
  if (!(in >> one)) return "";
  return one;
}

// CPU time of the whole process (all threads). With one thread it is the run's time without the
// intervals in which a shared machine descheduled us; with more it is the CPU cost, not latency.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

void echo_params(std::FILE* out, const Params& p, const std::string& model_description,
                 const std::string& load_before) {
  std::fprintf(out, "STARTING bench_sparse (libgnrt %s vs XNNPACK dense, one process)\n",
               gnrt_version());
  std::fprintf(out, "  model:     [%s]\n", model_description.c_str());
  if (p.size > 0)
    std::fprintf(out, "  size:      [%d]\n", p.size);
  else
    std::fprintf(out, "  size:      [model default]\n");
  std::fprintf(out, "  threads:   [%d]\n", p.threads);
  std::fprintf(out, "  runs:      [%d]\n", p.runs);
  std::fprintf(out, "  warmup:    [%d]\n", p.warmup);
  std::fprintf(out, "  verify:    [%d]\n", p.verify ? 1 : 0);
  std::fprintf(out, "  reference: [%d]\n", p.reference ? 1 : 0);
  std::fprintf(out, "  gap_ms:    [%d]%s\n", p.gap_ms,
               p.threads > 1 ? "" : " (unused with one thread)");
  std::fprintf(out, "  json:      [%d]\n", p.json ? 1 : 0);
  std::fprintf(out, "  loadavg:   [%s] (1 min, before the runs)\n", load_before.c_str());
  std::fflush(out);
}

int run_model_mode(const Params& p) {
  // The model bytes: read from a file or built in memory. libgnrt reads them in place, so they
  // outlive both engines.
  std::vector<std::uint8_t> bytes;
  std::string description;
  if (!p.model_path.empty()) {
    std::ifstream in(p.model_path, std::ios::binary);
    if (!in) return report_error("cannot open model file '" + p.model_path + "'");
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    description = p.model_path;
  } else {
    RandomGoogLeNet spec;
    spec.density = p.density;
    spec.seed = p.seed;
    spec.size = p.size > 0 ? p.size : 224;
    spec.float16 = p.float16;
    try {
      bytes = build_random_googlenet(spec);
    } catch (const std::exception& e) {
      return report_error(std::string("building the random GoogLeNet failed: ") + e.what());
    }
    char text[160];
    std::snprintf(text, sizeof text, "random GoogLeNet, density=%g seed=%u values=%s", p.density,
                  p.seed, p.float16 ? "float16" : "float32");
    description = text;
    if (!p.save_model.empty()) {
      try {
        gnrt::write_file_atomic(p.save_model, bytes);
      } catch (const std::exception& e) {
        return report_error(std::string("--save-model: ") + e.what());
      }
    }
  }
  std::FILE* log = p.json ? stderr : stdout;
  const std::string load_before = load_average();
  echo_params(log, p, description, load_before);

  // libgnrt.
  GnrtHandles g;
  gnrt_status status = gnrt_model_load_buffer(bytes.data(), bytes.size(), &g.model);
  if (status != GNRT_OK) return report_error(gnrt_error("loading the model", status));
  gnrt_model_info info{};
  gnrt_model_get_info(g.model, &info);
  gnrt_options options;
  gnrt_options_init(&options);
  options.num_threads = p.threads;
  options.input_height = p.size;
  options.input_width = p.size;
  options.force_reference = p.reference ? 1 : 0;
  status = gnrt_plan_create(g.model, &options, &g.plan);
  if (status != GNRT_OK) return report_error(gnrt_error("planning", status));
  int in_dims[4], out_dims[4];
  gnrt_plan_input_shape(g.plan, in_dims);
  gnrt_plan_output_shape(g.plan, out_dims);
  const std::size_t in_count = static_cast<std::size_t>(in_dims[1]) * in_dims[2] * in_dims[3];
  const std::size_t out_count = static_cast<std::size_t>(out_dims[1]) * out_dims[2] * out_dims[3];

  // XNNPACK dense, the same weights expanded.
  XnnpackBaselineOptions xo;
  xo.num_threads = p.threads;
  xo.input_height = p.size;
  xo.input_width = p.size;
  std::string error;
  std::unique_ptr<XnnpackBaseline> x =
      XnnpackBaseline::create(bytes.data(), bytes.size(), xo, &error);
  if (!x) return report_error(error);
  const auto xin = x->input_shape();
  const auto xout = x->output_shape();
  for (int k = 0; k < 4; ++k) {
    if (xin[k] != in_dims[k] || xout[k] != out_dims[k])
      return report_error("libgnrt and the XNNPACK baseline disagree on the input/output shapes");
  }

  // One random input (uniform in [-1, 1], seeded) for both engines.
  std::vector<float> input(in_count);
  std::mt19937 rng(p.seed + 12345u);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (float& v : input) v = uniform(rng);
  status = gnrt_plan_set_input(g.plan, input.data(), input.size());
  if (status != GNRT_OK) return report_error(gnrt_error("set_input", status));
  if (!x->set_input(input.data(), input.size()))
    return report_error("XNNPACK baseline: " + x->last_error());
  status = gnrt_plan_set_profiling(g.plan, 1);
  if (status != GNRT_OK) return report_error(gnrt_error("set_profiling", status));

  const char* isa = gnrt_plan_isa(g.plan);
  if (!p.json) {
    std::printf("isa=%s\n", isa);
    std::printf("model_name=%s\n", info.name);
    std::printf("input=%dx%dx%d output=%zu\n", in_dims[1], in_dims[2], in_dims[3], out_count);
    std::printf("params_dense=%llu nonzeros=%llu density=%.4f\n",
                static_cast<unsigned long long>(info.params_dense),
                static_cast<unsigned long long>(info.nonzeros),
                info.params_dense
                    ? static_cast<double>(info.nonzeros) / static_cast<double>(info.params_dense)
                    : 0.0);
    std::printf(
        "libgnrt_arena_mib=%.2f libgnrt_weight_mib=%.2f xnnpack_arena_mib=%.2f "
        "xnnpack_operators=%zu\n",
        gnrt_plan_arena_bytes(g.plan) / 1048576.0, gnrt_plan_weight_bytes(g.plan) / 1048576.0,
        x->arena_bytes() / 1048576.0, x->operator_names().size());
    std::fflush(stdout);
  }

  // Verification: same input, both engines, before any timing.
  Comparison cmp;
  bool verified = false;
  if (p.verify) {
    std::vector<float> got(out_count), want(out_count);
    status = gnrt_plan_run(g.plan);
    if (status != GNRT_OK) return report_error(gnrt_error("run", status));
    status = gnrt_plan_get_output(g.plan, got.data(), got.size());
    if (status != GNRT_OK) return report_error(gnrt_error("get_output", status));
    if (!x->run() || !x->get_output(want.data(), want.size()))
      return report_error("XNNPACK baseline: " + x->last_error());
    cmp = compare(got, want);
    verified = cmp.finite && cmp.max_relative_error <= kVerifyTolerance;
    if (!p.json) {
      std::printf(
          "verify: max_rel_error=%.3e max_abs_error=%.3e argmax libgnrt=%d xnnpack=%d "
          "tolerance=%.0e %s\n",
          cmp.max_relative_error, cmp.max_abs_error, cmp.argmax_got, cmp.argmax_want,
          kVerifyTolerance, verified ? "OK" : "FAILED");
      std::fflush(stdout);
    }
    if (!verified) {
      char text[200];
      std::snprintf(text, sizeof text,
                    "verification FAILED: libgnrt and XNNPACK dense disagree (max relative error "
                    "%.3e > %.0e%s)",
                    cmp.max_relative_error, kVerifyTolerance,
                    cmp.finite ? "" : ", non-finite outputs");
      return report_error(text);
    }
  }

  // Warm-up, then timed runs alternating the engines (and which one goes first), so that both see
  // the same machine state on a shared, noisy host.
  for (int i = 0; i < p.warmup; ++i) {
    if (gnrt_plan_run(g.plan) != GNRT_OK) return report_error(gnrt_error("run", GNRT_INTERNAL));
    if (!x->run()) return report_error("XNNPACK baseline: " + x->last_error());
  }
  if (p.threads > 1) x->release_workers();
  const int gnrt_ops = gnrt_plan_num_operators(g.plan);
  const std::size_t xnn_ops = x->operator_names().size();
  std::vector<double> gnrt_ms, xnn_ms, gnrt_cpu_ms, xnn_cpu_ms;
  std::vector<std::vector<double>> gnrt_op_ms(static_cast<std::size_t>(gnrt_ops)),
      xnn_op_ms(xnn_ops);
  std::vector<std::uint64_t> xnn_op_ns;
  // With several threads both engines' pools spin-wait after a job (pthreadpool for up to ~1M
  // polls, libgnrt's pool for 64K); on a machine with as many cores as threads a spinning idle
  // worker of one engine steals a core from the other. So between runs: XNNPACK's workers are
  // told to sleep and the benchmark pauses `gap_ms`, long enough for libgnrt's workers to sleep.
  auto settle = [&](bool after_xnnpack) {
    if (p.threads <= 1) return;
    if (after_xnnpack) x->release_workers();
    if (p.gap_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(p.gap_ms));
  };
  for (int r = 0; r < p.runs; ++r) {
    for (int turn = 0; turn < 2; ++turn) {
      const bool gnrt_turn = (turn == 0) == (r % 2 == 0);
      if (gnrt_turn) {
        const double c0 = cpu_seconds();
        const double t0 = now_seconds();
        status = gnrt_plan_run(g.plan);
        const double t1 = now_seconds();
        const double c1 = cpu_seconds();
        if (status != GNRT_OK) return report_error(gnrt_error("run", status));
        gnrt_ms.push_back((t1 - t0) * 1e3);
        gnrt_cpu_ms.push_back((c1 - c0) * 1e3);
        settle(false);
        for (int k = 0; k < gnrt_ops; ++k)
          gnrt_op_ms[static_cast<std::size_t>(k)].push_back(
              gnrt_plan_operator_nanoseconds(g.plan, k) * 1e-6);
      } else {
        const double c0 = cpu_seconds();
        const double t0 = now_seconds();
        const bool ok = x->run(&xnn_op_ns);
        const double t1 = now_seconds();
        const double c1 = cpu_seconds();
        if (!ok) return report_error("XNNPACK baseline: " + x->last_error());
        xnn_ms.push_back((t1 - t0) * 1e3);
        xnn_cpu_ms.push_back((c1 - c0) * 1e3);
        settle(true);
        for (std::size_t k = 0; k < xnn_ops; ++k) xnn_op_ms[k].push_back(xnn_op_ns[k] * 1e-6);
      }
    }
  }
  const Stats gs = stats_of(gnrt_ms);
  const Stats xs = stats_of(xnn_ms);
  const Stats gc = stats_of(gnrt_cpu_ms);
  const Stats xc = stats_of(xnn_cpu_ms);
  const double speedup_cpu = gc.median > 0 ? xc.median / gc.median : 0.0;
  const double speedup = gs.median > 0 ? xs.median / gs.median : 0.0;
  // The ratio of the fastest runs: less sensitive to a busy machine than the medians.
  const double speedup_of_minimums = gs.min > 0 ? xs.min / gs.min : 0.0;

  // Per-layer breakdown: libgnrt's operators with XNNPACK's time for the same operator name.
  const std::map<std::string, LayerFacts> facts = read_layer_facts(bytes);
  std::map<std::string, double> xnn_layer_ms;
  for (std::size_t k = 0; k < xnn_ops; ++k)
    xnn_layer_ms[x->operator_names()[k]] = median_of(xnn_op_ms[k]);
  double gnrt_layer_sum = 0;
  std::vector<double> gnrt_layer_ms(static_cast<std::size_t>(gnrt_ops));
  for (int k = 0; k < gnrt_ops; ++k) {
    gnrt_layer_ms[static_cast<std::size_t>(k)] = median_of(gnrt_op_ms[static_cast<std::size_t>(k)]);
    gnrt_layer_sum += gnrt_layer_ms[static_cast<std::size_t>(k)];
  }

  nlohmann::json layers = nlohmann::json::array();
  if (!p.json) {
    std::printf(
        "\nper-layer (libgnrt, median of %d profiled runs; xnnpack_ms: the same layer in the "
        "baseline)\n",
        p.runs);
    std::printf("%3s %-26s %-36s %8s %10s %7s %10s %8s\n", "#", "layer", "kernel", "density",
                "gnrt_ms", "share%", "xnnpack_ms", "speedup");
  }
  for (int k = 0; k < gnrt_ops; ++k) {
    const std::string name =
        gnrt_plan_operator_name(g.plan, k) ? gnrt_plan_operator_name(g.plan, k) : "";
    const char* kernel =
        gnrt_plan_operator_kernel(g.plan, k) ? gnrt_plan_operator_kernel(g.plan, k) : "";
    const double ms = gnrt_layer_ms[static_cast<std::size_t>(k)];
    const double share = gnrt_layer_sum > 0 ? 100.0 * ms / gnrt_layer_sum : 0.0;
    const auto f = facts.find(name);
    const double density = f == facts.end() ? -1.0 : f->second.density;
    const auto xl = xnn_layer_ms.find(name);
    const double xms = xl == xnn_layer_ms.end() ? -1.0 : xl->second;
    nlohmann::json layer = {{"index", k},
                            {"name", name},
                            {"kernel", kernel},
                            {"gnrt_ms", ms},
                            {"share", share / 100.0}};
    layer["density"] = density >= 0 ? nlohmann::json(density) : nlohmann::json(nullptr);
    layer["xnnpack_ms"] = xms >= 0 ? nlohmann::json(xms) : nlohmann::json(nullptr);
    layers.push_back(layer);
    if (!p.json) {
      char dens[16] = "-", xtext[16] = "-", ratio[16] = "-";
      if (density >= 0) std::snprintf(dens, sizeof dens, "%.4f", density);
      if (xms >= 0) std::snprintf(xtext, sizeof xtext, "%.3f", xms);
      if (xms >= 0 && ms > 0) std::snprintf(ratio, sizeof ratio, "%.2f", xms / ms);
      std::printf("%3d %-26s %-36s %8s %10.3f %7.1f %10s %8s\n", k, name.c_str(), kernel, dens, ms,
                  share, xtext, ratio);
    }
  }

  if (!p.json) {
    std::printf("\n%-14s %10s %10s %10s %6s %14s\n", "engine", "median_ms", "min_ms", "max_ms",
                "runs", "cpu_median_ms");
    std::printf("%-14s %10.3f %10.3f %10.3f %6d %14.3f\n", "libgnrt", gs.median, gs.min, gs.max,
                p.runs, gc.median);
    std::printf("%-14s %10.3f %10.3f %10.3f %6d %14.3f\n", "xnnpack_dense", xs.median, xs.min,
                xs.max, p.runs, xc.median);
    std::printf("isa=%s threads=%d size=%dx%d loadavg_after=%s\n", isa, p.threads, in_dims[2],
                in_dims[3], load_average().c_str());
    std::printf("speedup_of_minimums=%.2f\n", speedup_of_minimums);
    if (p.threads == 1) std::printf("speedup_cpu_time=%.2f\n", speedup_cpu);
    std::printf("speedup_vs_xnnpack_dense=%.2f\n", speedup);
    return 0;
  }

  nlohmann::json out;
  out["tool"] = "bench_sparse";
  out["gnrt_version"] = gnrt_version();
  out["params"] = {{"model", description},     {"size", in_dims[2]}, {"threads", p.threads},
                   {"runs", p.runs},           {"warmup", p.warmup}, {"verify", p.verify},
                   {"reference", p.reference}, {"gap_ms", p.gap_ms}};
  out["isa"] = isa;
  out["loadavg_before"] = load_before;
  out["loadavg_after"] = load_average();
  out["input_shape"] = {in_dims[0], in_dims[1], in_dims[2], in_dims[3]};
  out["params_dense"] = info.params_dense;
  out["nonzeros"] = info.nonzeros;
  out["arena_bytes"] = {{"libgnrt", gnrt_plan_arena_bytes(g.plan)},
                        {"xnnpack_dense", x->arena_bytes()}};
  auto engine = [](const Stats& s, const std::vector<double>& all, const Stats& cpu) {
    return nlohmann::json{{"median_ms", s.median},
                          {"min_ms", s.min},
                          {"max_ms", s.max},
                          {"runs_ms", all},
                          {"cpu_median_ms", cpu.median}};
  };
  out["engines"] = {{"libgnrt", engine(gs, gnrt_ms, gc)},
                    {"xnnpack_dense", engine(xs, xnn_ms, xc)}};
  out["speedup_cpu_time"] = speedup_cpu;
  out["speedup_vs_xnnpack_dense"] = speedup;
  out["speedup_of_minimums"] = speedup_of_minimums;
  if (p.verify) {
    out["verify"] = {{"max_relative_error", cmp.max_relative_error},
                     {"max_abs_error", cmp.max_abs_error},
                     {"argmax_libgnrt", cmp.argmax_got},
                     {"argmax_xnnpack", cmp.argmax_want},
                     {"tolerance", kVerifyTolerance},
                     {"ok", verified}};
  }
  out["layers"] = layers;
  std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace
}  // namespace gnrt_bench

int main(int argc, char** argv) {
  using gnrt_bench::report_error;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--kernels") == 0) return gnrt_bench::kernel_mode_main(argc, argv);
  }
  gnrt_bench::Params p;
  CLI::App app{
      "bench_sparse: libgnrt vs XNNPACK dense on the same model, in one process "
      "(see docs/benchmarks.md). Kernel mode: bench_sparse --kernels --help"};
  auto* model =
      app.add_option("--model", p.model_path, "a .gnrt model file")->check(CLI::ExistingFile);
  auto* density =
      app.add_option(
             "--density", p.density,
             "without --model: random GoogLeNet, magnitude-pruned to this density (default 0.0625)")
          ->check(CLI::Range(1e-6, 1.0));
  model->excludes(density);
  app.add_option("--seed", p.seed, "seed of the random weights and of the input (default 1)");
  auto* fp16 = app.add_flag("--float16", p.float16, "random model: store weight values as float16");
  auto* save =
      app.add_option("--save-model", p.save_model, "random model: also write it to this file");
  model->excludes(fp16);
  model->excludes(save);
  app.add_option("--size", p.size,
                 "input height = width (default: the model's, 224 for the random model)")
      ->check(CLI::Range(8, 4096));
  app.add_option("--threads", p.threads, "threads for both engines (default 1)")
      ->check(CLI::Range(1, 256));
  app.add_option("--runs", p.runs, "timed runs per engine (default 20)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--warmup", p.warmup, "warm-up runs per engine (default 2)")
      ->check(CLI::Range(0, 1000000));
  app.add_flag("--verify,!--no-verify", p.verify,
               "compare the two engines' outputs first (default on)");
  app.add_flag("--json", p.json, "print one JSON object on stdout");
  app.add_flag("--reference", p.reference, "libgnrt: scalar reference kernels only");
  app.add_option(
         "--gap-ms", p.gap_ms,
         "threads > 1: pause between timed runs so both pools' idle workers sleep (default 2)")
      ->check(CLI::Range(0, 10000));
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return report_error(e.what());
  }
  return gnrt_bench::run_model_mode(p);
}
