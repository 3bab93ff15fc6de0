// bench_kernels_timed: every kernel of this build's ISA family (the kernel lists of
// kernel_registry.h) on every convolution, fully connected layer and pool of a real plan of the
// random GoogLeNet (plan_layers.h), self-timed: no Google Benchmark, so that it builds for ARM
// and runs under qemu (tests/cross registers a smoke run). On x86 bench_kernels (Google Benchmark,
// against XNNPACK) is the fuller tool.
//
//   bench_kernels_timed [--size 224] [--density 0.0625] [--runs 20] [--filter SUBSTRING]
//
// Prints one line per layer and kernel: the minimum time over the runs, '*' on the kernel the
// selector picks for the layer, then the per-kernel sums over the layers each one supports.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "gnrt/kernels.h"
#include "kernel_registry.h"
#include "plan_layers.h"

namespace {

namespace k = gnrt::kernels;

struct Options {
  int size = 224;
  double density = 0.0625;
  int runs = 20;
  std::string filter;
};

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using Buffer = std::unique_ptr<float, FreeDeleter>;

// Zeroed, 64-byte aligned floats.
Buffer floats(std::size_t count) {
  const std::size_t bytes = (count * sizeof(float) + 63) / 64 * 64 + 64;
  void* p = std::aligned_alloc(64, bytes);
  if (p == nullptr) std::abort();
  std::memset(p, 0, bytes);
  return Buffer(static_cast<float*>(p));
}

// Planes of `channels` x `channel_stride` floats between the slack the kernels may read, the
// interior origin `origin` floats into them (the plan's alignment), the interior random
// (nonnegative for pools), the borders zero. Returns the interior origin.
float* fill_planes(Buffer* buffer, int channels, int height, int width, std::ptrdiff_t origin,
                   std::ptrdiff_t row_stride, std::ptrdiff_t channel_stride, bool nonnegative) {
  *buffer = floats(gnrt_bench::kFrontSlackFloats +
                   static_cast<std::size_t>(channels) * channel_stride + k::kMaxOverreadFloats);
  float* at = buffer->get() + gnrt_bench::kFrontSlackFloats + origin;
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(nonnegative ? 0.0f : -1.0f, 1.0f);
  for (int c = 0; c < channels; ++c)
    for (int y = 0; y < height; ++y)
      for (int x = 0; x < width; ++x) at[c * channel_stride + y * row_stride + x] = value(rng);
  return at;
}

template <typename Run>
double min_ms(int runs, Run run) {
  run();  // warm-up
  double best = 1e30;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    run();
    const std::chrono::duration<double, std::milli> elapsed =
        std::chrono::steady_clock::now() - start;
    best = std::min(best, elapsed.count());
  }
  return best;
}

std::map<std::string, double> g_totals;

void report(const gnrt_bench::PlanLayer& layer, const char* kernel, const char* selected,
            double ms) {
  std::printf("%-24s %-44s %c %9.4f ms\n", layer.name.c_str(), kernel,
              std::strcmp(kernel, selected) == 0 ? '*' : ' ', ms);
  g_totals[kernel] += ms;
}

// Packs a convolution or fully connected kernel and reports the best of `runs` runs over all
// `count` output channels.
template <typename Kernel, typename Problem>
void bench_packed(const gnrt_bench::PlanLayer& layer, const char* selected, const Kernel& kernel,
                  const Problem& p, const float* input, float* output, int count, int runs) {
  Buffer packed = floats(kernel.packed_bytes / sizeof(float) + 1);
  kernel.pack(p, packed.get());
  report(layer, kernel.name, selected,
         min_ms(runs, [&] { kernel.run(p, packed.get(), input, output, 0, count); }));
}

void bench_conv(const k::IsaKernels& family, const gnrt_bench::PlanLayer& layer, int runs) {
  const k::ConvProblem& p = layer.conv;
  const k::ConvGeometry& g = p.geometry;
  Buffer in, out;
  const float* input = fill_planes(&in, g.in_channels, g.in_height, g.in_width, layer.in_origin,
                                   p.in_row_stride, p.in_channel_stride, false);
  float* output = fill_planes(&out, g.out_channels, 0, 0, layer.out_origin, p.out_row_stride,
                              p.out_channel_stride, false);
  const char* selected = k::select_conv_kernel(p, k::detect_isa(), false).name;
  for (const k::ConvKernelInfo& info : family.conv) {
    if (!k::row_allowed(info, k::detect_isa()) || !info.supports(p)) continue;
    bench_packed(layer, selected, k::to_conv_kernel(info, p), p, input, output, g.out_channels,
                 runs);
  }
}

void bench_fc(const k::IsaKernels& family, const gnrt_bench::PlanLayer& layer, int runs) {
  const k::FcProblem& p = layer.fc;
  Buffer in = floats(static_cast<std::size_t>(p.in_features) + k::kMaxOverreadFloats);
  Buffer out = floats(static_cast<std::size_t>(p.out_features));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> value(-1.0f, 1.0f);
  for (int i = 0; i < p.in_features; ++i) in.get()[i] = value(rng);
  const char* selected = k::select_fc_kernel(p, k::detect_isa(), false).name;
  for (const k::FcKernelInfo& info : family.fc) {
    if (!k::row_allowed(info, k::detect_isa())) continue;
    if (info.supports != nullptr && !info.supports(p)) continue;
    bench_packed(layer, selected, k::to_fc_kernel(info, p), p, in.get(), out.get(), p.out_features,
                 runs);
  }
}

void bench_pool(const k::IsaKernels& family, const gnrt_bench::PlanLayer& layer, int runs) {
  const k::PoolProblem& p = layer.pool;
  const k::PoolGeometry& g = p.geometry;
  Buffer in, out;
  const float* input = fill_planes(&in, g.channels, g.in_height, g.in_width, layer.in_origin,
                                   p.in_row_stride, p.in_channel_stride, true);
  float* output = fill_planes(&out, g.channels, 0, 0, layer.out_origin, p.out_row_stride,
                              std::max<std::ptrdiff_t>(p.out_channel_stride, 1), false);
  const char* selected = k::select_pool_kernel(p, k::detect_isa(), false).name;
  for (const k::PoolKernelInfo& info : family.pool) {
    if (!k::row_allowed(info, k::detect_isa()) || !info.supports(p)) continue;
    report(layer, info.name, selected,
           min_ms(runs, [&] { info.run(p, input, output, 0, g.channels); }));
  }
}

bool parse(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (i + 1 >= argc) return false;
    const char* value = argv[++i];
    if (arg == "--size") {
      o->size = std::atoi(value);
    } else if (arg == "--density") {
      o->density = std::atof(value);
    } else if (arg == "--runs") {
      o->runs = std::atoi(value);
    } else if (arg == "--filter") {
      o->filter = value;
    } else {
      return false;
    }
  }
  return o->size >= 16 && o->runs >= 1 && o->density >= 0.0 && o->density <= 1.0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  if (!parse(argc, argv, &o)) {
    std::fprintf(stderr,
                 "usage: bench_kernels_timed [--size N>=16] [--density 0..1] [--runs N>=1] "
                 "[--filter SUBSTRING]\n");
    return 2;
  }
  const k::IsaKernels* family = k::kernels_for(k::detect_isa());
  if (family == nullptr) {
    std::printf("# isa=%s: no optimized kernels compiled in for this CPU\n",
                k::isa_name(k::detect_isa()));
    return 0;
  }
  std::vector<std::unique_ptr<gnrt_bench::PlanLayer>> layers;
  std::string error;
  if (!gnrt_bench::plan_layers(gnrt_bench::random_googlenet(o.density, 1, o.size), o.size, &layers,
                               &error)) {
    std::fprintf(stderr, "bench_kernels_timed: error: %s\n", error.c_str());
    return 1;
  }
  std::printf("# isa=%s size=%d density=%g runs=%d (min ms per run; * = selected)\n",
              k::isa_name(k::detect_isa()), o.size, o.density, o.runs);
  for (const auto& layer : layers) {
    if (layer->name.find(o.filter) == std::string::npos) continue;
    switch (layer->kind) {
      case gnrt_bench::LayerKind::kConv:
        bench_conv(*family, *layer, o.runs);
        break;
      case gnrt_bench::LayerKind::kFc:
        bench_fc(*family, *layer, o.runs);
        break;
      case gnrt_bench::LayerKind::kPool:
        bench_pool(*family, *layer, o.runs);
        break;
    }
  }
  std::printf("# totals over the layers each kernel supports\n");
  for (const auto& [name, ms] : g_totals) std::printf("%-44s %9.4f ms\n", name.c_str(), ms);
  return 0;
}
