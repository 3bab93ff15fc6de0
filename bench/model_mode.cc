// bench_sparse model mode (the default):
//   bench_sparse [--model M.gnrt | --density D [--seed S] [--float16]] [--size 224] [--threads T]
//                [--runs N] [--warmup W] [--no-verify] [--json] [--reference] [--save-model P]
//                [--gap-ms 2] [--block 1] [--engines gnrt,xnnpack-f32[,xnnpack-qs8][,xnnpack-f16] | --peers]
//                [--int8-model INT8.gnrt]
//                [--calibration-images 64] [--accuracy [N]]
// runs libgnrt and the XNNPACK dense baseline alternately, run by run, and prints median/min/max
// per engine, a per-layer breakdown for libgnrt (with XNNPACK's time for the same layer), the ISA
// and `speedup_vs_xnnpack_dense=X.XX` (ratio of the medians). --json prints one JSON object on
// stdout instead (the echoed parameters then go to stderr).
// --engines adds XNNPACK's qs8 and f16 operators of the same graph (peer_engines.h), rotated run
// by run with the other two; qs8 is calibrated first. --accuracy [N] replaces the timing with each
// selected engine's top-1 accuracy on the first N Fashion-MNIST test images
// (`accuracy_<engine>=0.XXXX n=N` lines).
//
// Output format (stable; docs/benchmarks.md documents it): key=value summary lines, one table of
// layers with a header line, then the summary line `speedup_vs_xnnpack_dense=X.XX` last.
#include "model_mode.h"

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstdio>
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
#include "gnrt/model_builder.h"
#include "model.h"
#include "peer_engines.h"
#include "xnnpack_googlenet.h"

namespace gnrt_bench {
namespace {

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
  int block = 1;   // timed runs of one engine back to back (after `warmup` untimed ones) per turn
  std::string save_model;
  std::string engines_list = "gnrt,xnnpack-f32";
  std::vector<Engine> engines;  // parsed engines_list (--peers: all)
  int calibration_images = 64;
  bool accuracy = false;  // --accuracy [N]: Fashion-MNIST test-set accuracy instead of timing
  int accuracy_images = 10000;
  std::string int8_model_path;  // --int8-model: adds the gnrt-int8 engine
};

// The low-precision peers against XNNPACK f32 (verify): over kPeerVerifyInputs inputs (test
// images when the model came from a file and the dataset is there, else random inputs), the
// largest |difference| relative to the largest |f32 output|, and top-1 agreement.
constexpr int kPeerVerifyInputs = 8;
struct PeerTolerance {
  double max_normalized_error;
  int min_top1_agree;  // of kPeerVerifyInputs
};
constexpr PeerTolerance kF16Tolerance = {0.02, kPeerVerifyInputs - 1};
constexpr PeerTolerance kQS8Tolerance = {0.15, kPeerVerifyInputs - 2};

constexpr double kVerifyTolerance = 1e-3;

// Density of every weighted layer, by operator name, as the runtime's loader decodes the file.
std::map<std::string, double> layer_densities(const std::vector<std::uint8_t>& bytes) {
  std::map<std::string, double> densities;
  gnrt::Model model;
  if (!gnrt::load_model(bytes.data(), bytes.size(), &model).ok()) return densities;
  for (const gnrt::OpDesc& op : model.ops) {
    if (op.type != gnrt::OpType::kConv2D && op.type != gnrt::OpType::kFullyConnected) continue;
    const std::uint64_t dense = static_cast<std::uint64_t>(op.weights.rows) * op.weights.row_length;
    densities[op.name] =
        dense ? static_cast<double>(op.weights.nonzeros) / static_cast<double>(dense) : 0.0;
  }
  return densities;
}

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
  std::fprintf(out, "  block:     [%d]%s\n", p.block,
               p.block > 1 ? " (runs per engine turn)" : " (engines alternate run by run)");
  std::fprintf(out, "  json:      [%d]\n", p.json ? 1 : 0);
  std::fprintf(out, "  loadavg:   [%s] (1 min, before the runs)\n", load_before.c_str());
  std::fflush(out);
}

// The model bytes, read from a file or built in memory (and saved with --save-model). Returns ""
// or an error message.
std::string model_bytes(const Params& p, std::vector<std::uint8_t>* bytes,
                        std::string* description) {
  if (!p.model_path.empty()) {
    std::ifstream in(p.model_path, std::ios::binary);
    if (!in) return "cannot open model file '" + p.model_path + "'";
    bytes->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    *description = p.model_path;
    return "";
  }
  RandomGoogLeNet spec;
  spec.density = p.density;
  spec.seed = p.seed;
  spec.size = p.size > 0 ? p.size : 224;
  spec.float16 = p.float16;
  try {
    *bytes = build_random_googlenet(spec);
  } catch (const std::exception& e) {
    return std::string("building the random GoogLeNet failed: ") + e.what();
  }
  char text[160];
  std::snprintf(text, sizeof text, "random GoogLeNet, density=%g seed=%u values=%s", p.density,
                p.seed, p.float16 ? "float16" : "float32");
  *description = text;
  if (!p.save_model.empty()) {
    try {
      gnrt::write_file_atomic(p.save_model, *bytes);
    } catch (const std::exception& e) {
      return std::string("--save-model: ") + e.what();
    }
  }
  return "";
}

// Both engines on the same model bytes (which outlive them: libgnrt reads them in place), with
// the same random input set.
struct Peer {
  Engine id = Engine::kXnnpackQS8;
  std::unique_ptr<XnnpackBaseline> x;  // null when unsupported
  std::string unsupported;             // XNNPACK's reason, when it has no kernels for this CPU
  // kGnrtInt8: libgnrt on the int8 file (its bytes, which the model reads in place).
  std::unique_ptr<GnrtHandles> g;
  std::vector<std::uint8_t> bytes;
  bool usable() const { return x != nullptr || (g && g->plan); }
  bool run() { return x ? x->run() : gnrt_plan_run(g->plan) == GNRT_OK; }
  bool set_input(const std::vector<float>& in) {
    return x ? x->set_input(in.data(), in.size())
             : gnrt_plan_set_input(g->plan, in.data(), in.size()) == GNRT_OK;
  }
  bool get_output(std::vector<float>* out) {
    return x ? x->get_output(out->data(), out->size())
             : gnrt_plan_get_output(g->plan, out->data(), out->size()) == GNRT_OK;
  }
  std::string last_error() const { return x ? x->last_error() : gnrt_last_error(); }
  void release_workers() {
    if (x) x->release_workers();
  }
};

struct Engines {
  GnrtHandles g;
  std::unique_ptr<XnnpackBaseline> x;
  std::vector<Peer> peers;  // the selected qs8 / f16 engines, in that order
  Calibration calibration;  // qs8
  std::vector<float> input;
  gnrt_model_info info{};
  int in_dims[4] = {}, out_dims[4] = {};
  std::size_t out_count = 0;
};

// The selected low-precision engines (qs8 calibrated first). Unsupported hardware is not an
// error: the peer is kept with its reason and not run.
std::string create_peers(const Params& p, const std::vector<std::uint8_t>& bytes, Engines* e) {
  for (Engine id : {Engine::kXnnpackQS8, Engine::kXnnpackF16}) {
    if (!has_engine(p.engines, id)) continue;
    XnnpackBaselineOptions xo;
    xo.num_threads = p.threads;
    xo.input_height = xo.input_width = p.size;
    xo.datatype = id == Engine::kXnnpackQS8 ? XnnDatatype::kQS8 : XnnDatatype::kF16;
    if (id == Engine::kXnnpackQS8) {
      CalibrationSpec spec;
      spec.images = p.calibration_images;
      spec.size = p.size;
      spec.threads = p.threads;
      spec.use_dataset = !p.model_path.empty();
      spec.seed = p.seed;
      const std::string error = calibrate_qs8(bytes, spec, &e->calibration);
      if (!error.empty()) return error;
      if (!e->calibration.warning.empty())
        std::fprintf(stderr, "bench_sparse: warning: %s\n", e->calibration.warning.c_str());
      xo.ranges = e->calibration.ranges;
    }
    Peer peer;
    peer.id = id;
    std::string error;
    bool unsupported = false;
    peer.x = XnnpackBaseline::create(bytes.data(), bytes.size(), xo, &error, &unsupported);
    if (!peer.x && !unsupported) return error;
    if (!peer.x) peer.unsupported = error;
    e->peers.push_back(std::move(peer));
  }
  if (has_engine(p.engines, Engine::kGnrtInt8)) {
    Peer peer;
    peer.id = Engine::kGnrtInt8;
    peer.g.reset(new GnrtHandles());
    std::ifstream file(p.int8_model_path, std::ios::binary);
    if (!file) return "cannot open --int8-model file '" + p.int8_model_path + "'";
    peer.bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    gnrt_status status =
        gnrt_model_load_buffer(peer.bytes.data(), peer.bytes.size(), &peer.g->model);
    if (status != GNRT_OK) return gnrt_error("loading the --int8-model file", status);
    gnrt_options options;
    gnrt_options_init(&options);
    options.num_threads = p.threads;
    options.input_height = options.input_width = p.size;
    options.force_reference = p.reference ? 1 : 0;
    status = gnrt_plan_create(peer.g->model, &options, &peer.g->plan);
    if (status != GNRT_OK) return gnrt_error("planning the --int8-model file", status);
    int in[4], out[4];
    gnrt_plan_input_shape(peer.g->plan, in);
    gnrt_plan_output_shape(peer.g->plan, out);
    for (int k = 0; k < 4; ++k)
      if (in[k] != e->in_dims[k] || out[k] != e->out_dims[k])
        return "--int8-model: its input/output shapes differ from --model's";
    e->peers.push_back(std::move(peer));
  }
  return "";
}

// The benchmark input on every XNNPACK engine (after verification used others).
std::string set_xnnpack_inputs(Engines* e) {
  if (!e->x->set_input(e->input.data(), e->input.size()))
    return "XNNPACK baseline: " + e->x->last_error();
  for (Peer& peer : e->peers) {
    if (peer.usable() && !peer.set_input(e->input))
      return std::string(engine_label(peer.id)) + ": " + peer.last_error();
  }
  return "";
}

std::string create_engines(const Params& p, const std::vector<std::uint8_t>& bytes, Engines* e) {
  // libgnrt.
  gnrt_status status = gnrt_model_load_buffer(bytes.data(), bytes.size(), &e->g.model);
  if (status != GNRT_OK) return gnrt_error("loading the model", status);
  gnrt_model_get_info(e->g.model, &e->info);
  gnrt_options options;
  gnrt_options_init(&options);
  options.num_threads = p.threads;
  options.input_height = p.size;
  options.input_width = p.size;
  options.force_reference = p.reference ? 1 : 0;
  status = gnrt_plan_create(e->g.model, &options, &e->g.plan);
  if (status != GNRT_OK) return gnrt_error("planning", status);
  gnrt_plan_input_shape(e->g.plan, e->in_dims);
  gnrt_plan_output_shape(e->g.plan, e->out_dims);
  const std::size_t in_count =
      static_cast<std::size_t>(e->in_dims[1]) * e->in_dims[2] * e->in_dims[3];
  e->out_count = static_cast<std::size_t>(e->out_dims[1]) * e->out_dims[2] * e->out_dims[3];

  // XNNPACK dense, the same weights expanded.
  XnnpackBaselineOptions xo;
  xo.num_threads = p.threads;
  xo.input_height = p.size;
  xo.input_width = p.size;
  std::string error;
  e->x = XnnpackBaseline::create(bytes.data(), bytes.size(), xo, &error);
  if (!e->x) return error;
  const auto xin = e->x->input_shape();
  const auto xout = e->x->output_shape();
  for (int k = 0; k < 4; ++k) {
    if (xin[k] != e->in_dims[k] || xout[k] != e->out_dims[k])
      return "libgnrt and the XNNPACK baseline disagree on the input/output shapes";
  }

  error = create_peers(p, bytes, e);
  if (!error.empty()) return error;

  // One random input (uniform in [-1, 1], seeded) for all engines.
  e->input = random_input(in_count, p.seed + 12345u);
  status = gnrt_plan_set_input(e->g.plan, e->input.data(), e->input.size());
  if (status != GNRT_OK) return gnrt_error("set_input", status);
  error = set_xnnpack_inputs(e);
  if (!error.empty()) return error;
  status = gnrt_plan_set_profiling(e->g.plan, 1);
  if (status != GNRT_OK) return gnrt_error("set_profiling", status);
  return "";
}

void print_model_summary(const Engines& e) {
  const gnrt_model_info& info = e.info;
  std::printf("isa=%s\n", gnrt_plan_isa(e.g.plan));
  std::printf("model_name=%s\n", info.name);
  std::printf("input=%dx%dx%d output=%zu\n", e.in_dims[1], e.in_dims[2], e.in_dims[3], e.out_count);
  std::printf("params_dense=%llu nonzeros=%llu density=%.4f\n",
              static_cast<unsigned long long>(info.params_dense),
              static_cast<unsigned long long>(info.nonzeros),
              info.params_dense
                  ? static_cast<double>(info.nonzeros) / static_cast<double>(info.params_dense)
                  : 0.0);
  std::printf(
      "libgnrt_arena_mib=%.2f libgnrt_weight_mib=%.2f xnnpack_arena_mib=%.2f "
      "xnnpack_operators=%zu\n",
      gnrt_plan_arena_bytes(e.g.plan) / 1048576.0, gnrt_plan_weight_bytes(e.g.plan) / 1048576.0,
      e.x->arena_bytes() / 1048576.0, e.x->operator_names().size());
  std::fflush(stdout);
}

// Same input, both engines, before any timing. Returns "" or an error message.
std::string verify_engines(const Params& p, Engines& e, Comparison* cmp, bool* verified) {
  std::vector<float> got(e.out_count), want(e.out_count);
  gnrt_status status = gnrt_plan_run(e.g.plan);
  if (status != GNRT_OK) return gnrt_error("run", status);
  status = gnrt_plan_get_output(e.g.plan, got.data(), got.size());
  if (status != GNRT_OK) return gnrt_error("get_output", status);
  if (!e.x->run() || !e.x->get_output(want.data(), want.size()))
    return "XNNPACK baseline: " + e.x->last_error();
  *cmp = compare(got, want);
  *verified = cmp->finite && cmp->max_relative_error <= kVerifyTolerance;
  if (!p.json) {
    std::printf(
        "verify: max_rel_error=%.3e max_abs_error=%.3e argmax libgnrt=%d xnnpack=%d "
        "tolerance=%.0e %s\n",
        cmp->max_relative_error, cmp->max_abs_error, cmp->argmax_got, cmp->argmax_want,
        kVerifyTolerance, *verified ? "OK" : "FAILED");
    std::fflush(stdout);
  }
  if (*verified) return "";
  char text[200];
  std::snprintf(text, sizeof text,
                "verification FAILED: libgnrt and XNNPACK dense disagree (max relative error "
                "%.3e > %.0e%s)",
                cmp->max_relative_error, kVerifyTolerance,
                cmp->finite ? "" : ", non-finite outputs");
  return text;
}

struct PeerCheck {
  Engine id = Engine::kXnnpackQS8;
  PeerTolerance tolerance{};
  double max_normalized_error = 0;
  int top1_agree = 0;
  int inputs = 0;
  bool finite = true;
  bool ok = false;
};

// The peers' verification inputs: the first Fashion-MNIST test images when the model came from a
// file and the dataset is readable, else random inputs.
std::string peer_verify_inputs(const Params& p, const std::vector<std::uint8_t>& bytes,
                               const Engines& e, std::vector<std::vector<float>>* inputs,
                               std::string* source) {
  if (!p.model_path.empty()) {
    gnrt::tools::IdxImages images;
    gnrt::tools::IdxLabels labels;
    ImagePreprocessor pre;
    std::string error = load_fashion_mnist(false, &images, &labels);
    if (error.empty()) error = pre.init(bytes, p.size);
    if (error.empty()) {
      for (int i = 0; i < std::min(kPeerVerifyInputs, images.count); ++i) {
        inputs->emplace_back();
        error = pre.to_nchw(images.image(i), images.height, images.width, &inputs->back());
        if (!error.empty()) return error;
      }
      *source = "Fashion-MNIST test images";
      return "";
    }
  }
  for (int i = 0; i < kPeerVerifyInputs; ++i)
    inputs->push_back(random_input(e.input.size(), p.seed + 5000u + static_cast<unsigned>(i)));
  *source = "random inputs";
  return "";
}

bool run_xnnpack(XnnpackBaseline& x, const std::vector<float>& input, std::vector<float>* out) {
  return x.set_input(input.data(), input.size()) && x.run() &&
         x.get_output(out->data(), out->size());
}

// qs8 / f16 against XNNPACK f32 on the same inputs (not exact: PeerTolerance). Returns "" or an
// error message; a peer outside its tolerance fails the benchmark, like libgnrt's check.
std::string verify_peers(const Params& p, const std::vector<std::uint8_t>& bytes, Engines& e,
                         std::vector<PeerCheck>* checks) {
  bool any = false;
  for (const Peer& peer : e.peers) any = any || peer.usable();
  if (!any) return "";
  std::vector<std::vector<float>> inputs;
  std::string source;
  std::string error = peer_verify_inputs(p, bytes, e, &inputs, &source);
  if (!error.empty()) return error;
  for (const Peer& peer : e.peers) {
    if (!peer.usable()) continue;
    PeerCheck c;
    c.id = peer.id;
    c.tolerance = peer.id == Engine::kXnnpackF16 ? kF16Tolerance : kQS8Tolerance;
    checks->push_back(c);
  }
  std::vector<float> want(e.out_count), got(e.out_count);
  for (const std::vector<float>& input : inputs) {
    if (!run_xnnpack(*e.x, input, &want)) return "XNNPACK baseline: " + e.x->last_error();
    double peak = 0;
    for (float w : want) peak = std::max(peak, static_cast<double>(std::fabs(w)));
    std::size_t k = 0;
    for (Peer& peer : e.peers) {
      if (!peer.usable()) continue;
      if (!peer.set_input(input) || !peer.run() || !peer.get_output(&got))
        return std::string(engine_label(peer.id)) + ": " + peer.last_error();
      const Comparison cmp = compare(got, want);
      PeerCheck& c = (*checks)[k++];
      c.finite = c.finite && cmp.finite;
      c.max_normalized_error =
          std::max(c.max_normalized_error, peak > 0 ? cmp.max_abs_error / peak : cmp.max_abs_error);
      c.top1_agree += cmp.argmax_got == cmp.argmax_want ? 1 : 0;
      ++c.inputs;
    }
  }
  error = set_xnnpack_inputs(&e);
  if (!error.empty()) return error;
  std::string failed;
  for (PeerCheck& c : *checks) {
    const int need = std::min(c.tolerance.min_top1_agree, c.inputs);
    c.ok = c.finite && c.max_normalized_error <= c.tolerance.max_normalized_error &&
           c.top1_agree >= need;
    if (!p.json)
      std::printf(
          "verify_%s: vs xnnpack f32 on %d %s: max_normalized_error=%.3e top1_agree=%d/%d "
          "tolerance=%.2g,%d/%d %s\n",
          engine_key(c.id), c.inputs, source.c_str(), c.max_normalized_error, c.top1_agree,
          c.inputs, c.tolerance.max_normalized_error, need, c.inputs, c.ok ? "OK" : "FAILED");
    if (!c.ok) failed += std::string(failed.empty() ? "" : ", ") + engine_label(c.id);
  }
  std::fflush(stdout);
  if (failed.empty()) return "";
  return "verification FAILED: " + failed + " disagree(s) with XNNPACK f32 beyond tolerance";
}

// Wall and CPU milliseconds of every timed run, per engine and per operator.
struct Samples {
  std::vector<double> gnrt_ms, xnn_ms, gnrt_cpu_ms, xnn_cpu_ms;
  std::vector<std::vector<double>> gnrt_op_ms, xnn_op_ms;
  std::vector<std::vector<double>> peer_ms, peer_cpu_ms;  // per Engines::peers entry
};

// One timed run of peer `k`: wall and CPU milliseconds. Returns "" or an error message.
std::string time_peer(Peer& peer, std::size_t k, Samples* s) {
  const double c0 = cpu_seconds();
  const double t0 = now_seconds();
  const bool ok = peer.run();
  const double t1 = now_seconds();
  const double c1 = cpu_seconds();
  if (!ok) return std::string(engine_label(peer.id)) + ": " + peer.last_error();
  s->peer_ms[k].push_back((t1 - t0) * 1e3);
  s->peer_cpu_ms[k].push_back((c1 - c0) * 1e3);
  return "";
}

// Warm-up, then timed runs rotating the engines (and which one goes first: run r starts with
// engine r mod E, so with the default pair libgnrt and XNNPACK alternate), so that all see the
// same machine state on a shared, noisy host. Returns "" or an error message.
std::string timed_runs(const Params& p, Engines& e, Samples* s) {
  XnnpackBaseline& x = *e.x;
  std::vector<std::size_t> active;  // indices into e.peers of the supported peers
  for (std::size_t k = 0; k < e.peers.size(); ++k)
    if (e.peers[k].usable()) active.push_back(k);
  s->peer_ms.assign(e.peers.size(), {});
  s->peer_cpu_ms.assign(e.peers.size(), {});
  for (int i = 0; i < p.warmup; ++i) {
    if (gnrt_plan_run(e.g.plan) != GNRT_OK) return gnrt_error("run", GNRT_INTERNAL);
    if (!x.run()) return "XNNPACK baseline: " + x.last_error();
    for (std::size_t k : active)
      if (!e.peers[k].run()) return std::string(engine_label(e.peers[k].id)) + ": warm-up";
  }
  if (p.threads > 1) {
    x.release_workers();
    for (std::size_t k : active) e.peers[k].release_workers();
  }
  const int gnrt_ops = gnrt_plan_num_operators(e.g.plan);
  const std::size_t xnn_ops = x.operator_names().size();
  s->gnrt_op_ms.assign(static_cast<std::size_t>(gnrt_ops), {});
  s->xnn_op_ms.assign(xnn_ops, {});
  std::vector<std::uint64_t> xnn_op_ns;
  // With several threads every engine's pool spin-waits after a job (pthreadpool for up to ~1M
  // polls, libgnrt's pool for 64K); on a machine with as many cores as threads a spinning idle
  // worker of one engine steals a core from the other. So between runs: XNNPACK's workers are
  // told to sleep and the benchmark pauses `gap_ms`, long enough for libgnrt's workers to sleep.
  auto settle = [&](XnnpackBaseline* after) {
    if (p.threads <= 1) return;
    if (after != nullptr) after->release_workers();
    if (p.gap_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(p.gap_ms));
  };
  const std::size_t engines = 2 + active.size();
  // One run of engine `which` (0 libgnrt, 1 XNNPACK f32, 2.. the peers), recorded if `timed`.
  auto run_engine = [&](std::size_t which, bool timed) -> std::string {
    if (which == 0) {
      const double c0 = cpu_seconds();
      const double t0 = now_seconds();
      const gnrt_status status = gnrt_plan_run(e.g.plan);
      const double t1 = now_seconds();
      const double c1 = cpu_seconds();
      if (status != GNRT_OK) return gnrt_error("run", status);
      settle(nullptr);
      if (!timed) return "";
      s->gnrt_ms.push_back((t1 - t0) * 1e3);
      s->gnrt_cpu_ms.push_back((c1 - c0) * 1e3);
      for (int k = 0; k < gnrt_ops; ++k)
        s->gnrt_op_ms[static_cast<std::size_t>(k)].push_back(
            gnrt_plan_operator_nanoseconds(e.g.plan, k) * 1e-6);
    } else if (which == 1) {
      const double c0 = cpu_seconds();
      const double t0 = now_seconds();
      const bool ok = x.run(&xnn_op_ns);
      const double t1 = now_seconds();
      const double c1 = cpu_seconds();
      if (!ok) return "XNNPACK baseline: " + x.last_error();
      settle(&x);
      if (!timed) return "";
      s->xnn_ms.push_back((t1 - t0) * 1e3);
      s->xnn_cpu_ms.push_back((c1 - c0) * 1e3);
      for (std::size_t k = 0; k < xnn_ops; ++k) s->xnn_op_ms[k].push_back(xnn_op_ns[k] * 1e-6);
    } else {
      const std::size_t k = active[which - 2];
      if (timed) {
        const std::string error = time_peer(e.peers[k], k, s);
        if (!error.empty()) return error;
      } else if (!e.peers[k].run()) {
        return std::string(engine_label(e.peers[k].id)) + ": " + e.peers[k].last_error();
      }
      settle(e.peers[k].x.get());  // null for libgnrt int8: only the pause
    }
    return "";
  };
  // --block 1 (default): the engines alternate run by run, each run after the others' (caches
  // shared with them). --block B: B timed runs of one engine back to back, right after `warmup`
  // untimed ones, then the next engine (warm caches, as a separate process like ort.js sees).
  const int block = std::max(1, p.block);
  for (int r = 0, turn_round = 0; r < p.runs; r += block, ++turn_round) {
    const int n = std::min(block, p.runs - r);
    for (std::size_t turn = 0; turn < engines; ++turn) {
      const std::size_t which = (static_cast<std::size_t>(turn_round) + turn) % engines;
      if (block > 1) {
        for (int i = 0; i < p.warmup; ++i) {
          const std::string error = run_engine(which, false);
          if (!error.empty()) return error;
        }
      }
      for (int i = 0; i < n; ++i) {
        const std::string error = run_engine(which, true);
        if (!error.empty()) return error;
      }
    }
  }
  return "";
}

// Per-layer breakdown: libgnrt's operators with XNNPACK's time for the same operator name. Prints
// the table unless --json; returns the layers as JSON.
nlohmann::json report_layers(const Params& p, const Engines& e, const Samples& s,
                             const std::vector<std::uint8_t>& bytes) {
  const std::map<std::string, double> densities = layer_densities(bytes);
  std::map<std::string, double> xnn_layer_ms;
  for (std::size_t k = 0; k < s.xnn_op_ms.size(); ++k)
    xnn_layer_ms[e.x->operator_names()[k]] = median_of(s.xnn_op_ms[k]);
  const int gnrt_ops = static_cast<int>(s.gnrt_op_ms.size());
  double gnrt_layer_sum = 0;
  std::vector<double> gnrt_layer_ms(static_cast<std::size_t>(gnrt_ops));
  for (int k = 0; k < gnrt_ops; ++k) {
    gnrt_layer_ms[static_cast<std::size_t>(k)] =
        median_of(s.gnrt_op_ms[static_cast<std::size_t>(k)]);
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
        gnrt_plan_operator_name(e.g.plan, k) ? gnrt_plan_operator_name(e.g.plan, k) : "";
    const char* kernel =
        gnrt_plan_operator_kernel(e.g.plan, k) ? gnrt_plan_operator_kernel(e.g.plan, k) : "";
    const double ms = gnrt_layer_ms[static_cast<std::size_t>(k)];
    const double share = gnrt_layer_sum > 0 ? 100.0 * ms / gnrt_layer_sum : 0.0;
    const auto f = densities.find(name);
    const double density = f == densities.end() ? -1.0 : f->second;
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
  return layers;
}

// The engines' statistics and the speedups.
struct Summary {
  Stats gs, xs, gc, xc;
  double speedup = 0, speedup_cpu = 0, speedup_of_minimums = 0;
};

Summary summarize(const Samples& s) {
  Summary m;
  m.gs = stats_of(s.gnrt_ms);
  m.xs = stats_of(s.xnn_ms);
  m.gc = stats_of(s.gnrt_cpu_ms);
  m.xc = stats_of(s.xnn_cpu_ms);
  m.speedup_cpu = m.gc.median > 0 ? m.xc.median / m.gc.median : 0.0;
  m.speedup = m.gs.median > 0 ? m.xs.median / m.gs.median : 0.0;
  // The ratio of the fastest runs: less sensitive to a busy machine than the medians.
  m.speedup_of_minimums = m.gs.min > 0 ? m.xs.min / m.gs.min : 0.0;
  return m;
}

// One key=value line per engine (only printed when peers were selected, so that the default
// output is unchanged): median/min/max and the ratio of its median to libgnrt's.
void print_engine_lines(const Engines& e, const Samples& s, const Summary& m) {
  auto line = [&](const char* label, const Stats& st) {
    std::printf("engine=%s median_ms=%.3f min_ms=%.3f max_ms=%.3f ratio_to_gnrt=%.2f\n", label,
                st.median, st.min, st.max, m.gs.median > 0 ? st.median / m.gs.median : 0.0);
  };
  line("libgnrt", m.gs);
  line("xnnpack_dense", m.xs);
  for (std::size_t k = 0; k < e.peers.size(); ++k) {
    if (e.peers[k].usable())
      line(engine_label(e.peers[k].id), stats_of(s.peer_ms[k]));
    else
      std::printf("engine=%s unsupported reason=\"%s\"\n", engine_label(e.peers[k].id),
                  e.peers[k].unsupported.c_str());
  }
  if (!e.calibration.method.empty())
    std::printf("qs8_calibration=\"%s\"\n", e.calibration.method.c_str());
}

void print_text_summary(const Params& p, const Engines& e, const Samples& s, const Summary& m) {
  std::printf("\n%-14s %10s %10s %10s %6s %14s\n", "engine", "median_ms", "min_ms", "max_ms",
              "runs", "cpu_median_ms");
  std::printf("%-14s %10.3f %10.3f %10.3f %6d %14.3f\n", "libgnrt", m.gs.median, m.gs.min, m.gs.max,
              p.runs, m.gc.median);
  std::printf("%-14s %10.3f %10.3f %10.3f %6d %14.3f\n", "xnnpack_dense", m.xs.median, m.xs.min,
              m.xs.max, p.runs, m.xc.median);
  for (std::size_t k = 0; k < e.peers.size(); ++k) {
    if (!e.peers[k].usable()) {
      std::printf("%-14s %10s\n", engine_label(e.peers[k].id), "unsupported");
      continue;
    }
    const Stats st = stats_of(s.peer_ms[k]);
    std::printf("%-14s %10.3f %10.3f %10.3f %6d %14.3f\n", engine_label(e.peers[k].id), st.median,
                st.min, st.max, p.runs, median_of(s.peer_cpu_ms[k]));
  }
  if (!e.peers.empty()) print_engine_lines(e, s, m);
  std::printf("isa=%s threads=%d size=%dx%d loadavg_after=%s\n", gnrt_plan_isa(e.g.plan), p.threads,
              e.in_dims[2], e.in_dims[3], load_average().c_str());
  std::printf("speedup_of_minimums=%.2f\n", m.speedup_of_minimums);
  if (p.threads == 1) std::printf("speedup_cpu_time=%.2f\n", m.speedup_cpu);
  for (std::size_t k = 0; k < e.peers.size(); ++k) {
    if (!e.peers[k].usable()) continue;
    const double median = median_of(s.peer_ms[k]);
    std::printf("speedup_vs_%s=%.2f\n", engine_label(e.peers[k].id),
                m.gs.median > 0 ? median / m.gs.median : 0.0);
  }
  std::printf("speedup_vs_xnnpack_dense=%.2f\n", m.speedup);
}

void print_json(const Params& p, const Engines& e, const Samples& s, const Summary& m,
                const std::string& description, const std::string& load_before,
                const Comparison& cmp, bool verified, const std::vector<PeerCheck>& checks,
                nlohmann::json layers) {
  nlohmann::json out;
  out["tool"] = "bench_sparse";
  out["gnrt_version"] = gnrt_version();
  out["params"] = {{"model", description},     {"size", e.in_dims[2]}, {"threads", p.threads},
                   {"runs", p.runs},           {"warmup", p.warmup},   {"verify", p.verify},
                   {"reference", p.reference}, {"gap_ms", p.gap_ms},   {"block", p.block}};
  nlohmann::json engine_names = nlohmann::json::array();
  for (Engine id : p.engines) engine_names.push_back(engine_cli_name(id));
  out["params"]["engines"] = engine_names;
  out["isa"] = gnrt_plan_isa(e.g.plan);
  out["loadavg_before"] = load_before;
  out["loadavg_after"] = load_average();
  out["input_shape"] = {e.in_dims[0], e.in_dims[1], e.in_dims[2], e.in_dims[3]};
  out["params_dense"] = e.info.params_dense;
  out["nonzeros"] = e.info.nonzeros;
  out["arena_bytes"] = {{"libgnrt", gnrt_plan_arena_bytes(e.g.plan)},
                        {"xnnpack_dense", e.x->arena_bytes()}};
  auto engine = [](const Stats& st, const std::vector<double>& all, const Stats& cpu) {
    return nlohmann::json{{"median_ms", st.median},
                          {"min_ms", st.min},
                          {"max_ms", st.max},
                          {"runs_ms", all},
                          {"cpu_median_ms", cpu.median}};
  };
  out["engines"] = {{"libgnrt", engine(m.gs, s.gnrt_ms, m.gc)},
                    {"xnnpack_dense", engine(m.xs, s.xnn_ms, m.xc)}};
  for (std::size_t k = 0; k < e.peers.size(); ++k) {
    const char* label = engine_label(e.peers[k].id);
    if (!e.peers[k].usable()) {
      out["engines"][label] = {{"supported", false}, {"reason", e.peers[k].unsupported}};
      continue;
    }
    out["engines"][label] =
        engine(stats_of(s.peer_ms[k]), s.peer_ms[k], stats_of(s.peer_cpu_ms[k]));
  }
  for (auto& item : out["engines"].items()) {
    if (item.value().contains("median_ms")) {
      item.value()["supported"] = true;
      item.value()["ratio_to_gnrt"] =
          m.gs.median > 0 ? item.value()["median_ms"].get<double>() / m.gs.median : 0.0;
    }
  }
  if (!e.calibration.method.empty())
    out["qs8_calibration"] = {{"method", e.calibration.method},
                              {"from_dataset", e.calibration.from_dataset},
                              {"inputs", e.calibration.count}};
  if (!checks.empty()) {
    nlohmann::json v = nlohmann::json::array();
    for (const PeerCheck& c : checks)
      v.push_back({{"engine", engine_label(c.id)},
                   {"max_normalized_error", c.max_normalized_error},
                   {"top1_agree", c.top1_agree},
                   {"inputs", c.inputs},
                   {"tolerance_normalized_error", c.tolerance.max_normalized_error},
                   {"tolerance_top1_agree", c.tolerance.min_top1_agree},
                   {"ok", c.ok}});
    out["verify_peers"] = std::move(v);
  }
  out["speedup_cpu_time"] = m.speedup_cpu;
  out["speedup_vs_xnnpack_dense"] = m.speedup;
  out["speedup_of_minimums"] = m.speedup_of_minimums;
  if (p.verify) {
    out["verify"] = {{"max_relative_error", cmp.max_relative_error},
                     {"max_abs_error", cmp.max_abs_error},
                     {"argmax_libgnrt", cmp.argmax_got},
                     {"argmax_xnnpack", cmp.argmax_want},
                     {"tolerance", kVerifyTolerance},
                     {"ok", verified}};
  }
  out["layers"] = std::move(layers);
  std::printf("%s\n", out.dump().c_str());
}

int run_model_mode(const Params& p) {
  std::vector<std::uint8_t> bytes;
  std::string description;
  std::string error = model_bytes(p, &bytes, &description);
  if (!error.empty()) return report_error(error);
  std::FILE* log = p.json ? stderr : stdout;
  const std::string load_before = load_average();
  echo_params(log, p, description, load_before);

  Engines e;
  error = create_engines(p, bytes, &e);
  if (!error.empty()) return report_error(error);
  if (!p.json) print_model_summary(e);

  Comparison cmp;
  bool verified = false;
  std::vector<PeerCheck> checks;
  if (p.verify) {
    error = verify_engines(p, e, &cmp, &verified);
    if (!error.empty()) return report_error(error);
    error = verify_peers(p, bytes, e, &checks);
    if (!error.empty()) return report_error(error);
  }
  Samples samples;
  error = timed_runs(p, e, &samples);
  if (!error.empty()) return report_error(error);
  const Summary summary = summarize(samples);
  nlohmann::json layers = report_layers(p, e, samples, bytes);
  if (!p.json) {
    print_text_summary(p, e, samples, summary);
  } else {
    print_json(p, e, samples, summary, description, load_before, cmp, verified, checks,
               std::move(layers));
  }
  return 0;
}

// --accuracy: top-1 accuracy of every selected engine on the Fashion-MNIST test set, the same
// preprocessed image into each. Returns the exit code.
struct AccuracyCounter {
  Engine id;
  XnnpackBaseline* x = nullptr;  // null: libgnrt
  int correct = 0;
};

std::string evaluate_accuracy(const Params& p, const std::vector<std::uint8_t>& bytes, Engines& e,
                              std::vector<AccuracyCounter>* counters, int* n) {
  gnrt::tools::IdxImages images;
  gnrt::tools::IdxLabels labels;
  std::string error = load_fashion_mnist(false, &images, &labels);
  if (!error.empty()) return error;
  ImagePreprocessor pre;
  error = pre.init(bytes, p.size);
  if (!error.empty()) return error;
  *n = std::min(p.accuracy_images, images.count);
  for (int i = 0; i < *n; ++i) {
    if (labels.labels[static_cast<std::size_t>(i)] >= e.out_count)
      return "Fashion-MNIST label " + std::to_string(labels.labels[static_cast<std::size_t>(i)]) +
             " is out of range for a model with " + std::to_string(e.out_count) + " outputs";
  }
  std::vector<float> input, output(e.out_count);
  const int step = std::max(1, *n / 10);
  for (int i = 0; i < *n; ++i) {
    error = pre.to_nchw(images.image(i), images.height, images.width, &input);
    if (!error.empty()) return error;
    for (AccuracyCounter& c : *counters) {
      if (c.x == nullptr) {
        gnrt_status status = gnrt_plan_set_input(e.g.plan, input.data(), input.size());
        if (status == GNRT_OK) status = gnrt_plan_run(e.g.plan);
        if (status == GNRT_OK)
          status = gnrt_plan_get_output(e.g.plan, output.data(), output.size());
        if (status != GNRT_OK) return gnrt_error("accuracy run", status);
      } else if (!run_xnnpack(*c.x, input, &output)) {
        return std::string(engine_label(c.id)) + ": " + c.x->last_error();
      }
      const auto top = std::max_element(output.begin(), output.end()) - output.begin();
      if (top == labels.labels[static_cast<std::size_t>(i)]) ++c.correct;
    }
    if ((i + 1) % step == 0 || i + 1 == *n) {
      std::fprintf(stderr, "bench_sparse accuracy: %d/%d images", i + 1, *n);
      for (const AccuracyCounter& c : *counters)
        std::fprintf(stderr, " %s=%.4f", engine_key(c.id), double(c.correct) / (i + 1));
      std::fprintf(stderr, "\n");
    }
  }
  return "";
}

int run_accuracy_mode(const Params& p) {
  std::vector<std::uint8_t> bytes;
  std::string description;
  std::string error = model_bytes(p, &bytes, &description);
  if (!error.empty()) return report_error(error);
  std::fprintf(stderr, "bench_sparse accuracy: model %s, up to %d Fashion-MNIST test images\n",
               description.c_str(), p.accuracy_images);
  Engines e;
  error = create_engines(p, bytes, &e);
  if (!error.empty()) return report_error(error);
  gnrt_plan_set_profiling(e.g.plan, 0);
  std::vector<AccuracyCounter> counters;
  if (has_engine(p.engines, Engine::kGnrt)) counters.push_back({Engine::kGnrt, nullptr, 0});
  if (has_engine(p.engines, Engine::kXnnpackF32))
    counters.push_back({Engine::kXnnpackF32, e.x.get(), 0});
  for (Peer& peer : e.peers)
    if (peer.x) counters.push_back({peer.id, peer.x.get(), 0});
  int n = 0;
  error = evaluate_accuracy(p, bytes, e, &counters, &n);
  if (!error.empty()) return report_error(error);

  nlohmann::json out;
  out["tool"] = "bench_sparse";
  out["mode"] = "accuracy";
  out["model"] = description;
  out["size"] = e.in_dims[2];
  out["n"] = n;
  out["threads"] = p.threads;
  for (const AccuracyCounter& c : counters) {
    const double accuracy = n > 0 ? double(c.correct) / n : 0.0;
    out["accuracy"][engine_key(c.id)] = accuracy;
    if (!p.json) std::printf("accuracy_%s=%.4f n=%d\n", engine_key(c.id), accuracy, n);
  }
  for (const Peer& peer : e.peers) {
    if (peer.x) continue;
    out["unsupported"][engine_key(peer.id)] = peer.unsupported;
    if (!p.json)
      std::printf("unsupported_%s=\"%s\"\n", engine_key(peer.id), peer.unsupported.c_str());
  }
  if (!e.calibration.method.empty()) {
    out["qs8_calibration"] = {{"method", e.calibration.method},
                              {"from_dataset", e.calibration.from_dataset},
                              {"inputs", e.calibration.count}};
    if (!p.json) std::printf("qs8_calibration=\"%s\"\n", e.calibration.method.c_str());
  }
  if (p.json) std::printf("%s\n", out.dump().c_str());
  return 0;
}

}  // namespace

int model_mode_main(int argc, char** argv) {
  Params p;
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
  app.add_option("--block", p.block,
                 "timed runs of one engine back to back, after --warmup untimed ones, before the "
                 "next engine (default 1: the engines alternate run by run)")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--engines", p.engines_list,
                 "comma-separated: gnrt, xnnpack-f32, xnnpack-qs8, xnnpack-f16, or all (default "
                 "gnrt,xnnpack-f32; timing needs gnrt and xnnpack-f32)");
  bool peers = false;
  app.add_flag("--peers", peers, "shorthand for --engines all");
  app.add_option("--int8-model", p.int8_model_path,
                 "with --model: also time libgnrt on this format 1.1 int8 file of the same model "
                 "(engine gnrt-int8, verified against XNNPACK f32 like xnnpack-qs8)")
      ->check(CLI::ExistingFile);
  app.add_option("--calibration-images", p.calibration_images,
                 "qs8: Fashion-MNIST training images (or random inputs) to calibrate on (default "
                 "64)")
      ->check(CLI::Range(1, 60000));
  std::string accuracy;
  auto* accuracy_option =
      app.add_option("--accuracy", accuracy,
                     "[N] instead of timing: top-1 accuracy of each engine on the first N "
                     "Fashion-MNIST test images (default all 10000)")
          ->expected(0, 1);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return report_error(e.what());
  }
  const std::string error = parse_engines(peers ? std::string("all") : p.engines_list, &p.engines);
  if (!error.empty()) return report_error(error);
  if (!p.int8_model_path.empty()) {
    if (p.model_path.empty()) return report_error("--int8-model needs --model (the float model)");
    if (!has_engine(p.engines, Engine::kGnrtInt8)) p.engines.push_back(Engine::kGnrtInt8);
  }
  p.accuracy = accuracy_option->count() > 0;
  if (p.accuracy && !accuracy.empty()) {
    char* end = nullptr;
    const long n = std::strtol(accuracy.c_str(), &end, 10);
    if (*end != '\0' || n < 1 || n > 1000000)
      return report_error("--accuracy: expected an image count in [1, 1000000], got '" + accuracy +
                          "'");
    p.accuracy_images = static_cast<int>(n);
  }
  if (p.accuracy) return run_accuracy_mode(p);
  if (!has_engine(p.engines, Engine::kGnrt) || !has_engine(p.engines, Engine::kXnnpackF32))
    return report_error(
        "--engines: timing compares against gnrt and xnnpack-f32, keep both (any "
        "subset is fine with --accuracy)");
  return run_model_mode(p);
}

}  // namespace gnrt_bench
