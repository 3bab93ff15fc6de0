// The kernel problems of a real plan: every convolution, fully connected layer and pool of a
// model as the planner hands it to the kernel selector (zero borders, row and channel strides,
// aligned plane origins, weights in the stored form), for the kernel benchmarks and the
// selection tests. Taken from gnrt::Plan, so no planner rule is restated here.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gnrt/kernels.h"

namespace gnrt_bench {

enum class LayerKind { kConv, kFc, kPool };

struct PlanLayer {
  std::string name;
  LayerKind kind = LayerKind::kConv;
  // The problem of `kind`, its weight pointers into the vectors below (valid while this lives).
  gnrt::kernels::ConvProblem conv{};
  gnrt::kernels::FcProblem fc{};
  gnrt::kernels::PoolProblem pool{};
  // Floats from the (64-byte aligned) start of the first plane to element (0, 0, 0) of the input
  // and the output, as the plan lays them out (its `lead` aligns the interior origins).
  std::ptrdiff_t in_origin = 0, out_origin = 0;
  // The kernel the plan chose (detected ISA; a pool fused into its convolution keeps the name of
  // the plan's kernel).
  std::string planned_kernel;
  std::vector<float> values, bias;
  std::vector<std::uint32_t> row_begin, indices;
};

// Floats of front slack before a stack of planes that keep 64-byte alignment and cover the
// kMaxUnderreadFloats the kernels may read.
constexpr std::ptrdiff_t kFrontSlackFloats = (gnrt::kernels::kMaxUnderreadFloats + 15) / 16 * 16;

// Plans `model` (a .gnrt file's bytes) at size x size (0: the model's default), one thread, and
// returns its layers in operator order; nullptr entries never. Returns false with `error` set when
// the model does not load or plan.
bool plan_layers(const std::vector<std::uint8_t>& model, int size,
                 std::vector<std::unique_ptr<PlanLayer>>* layers, std::string* error);

// The GoogLeNet of bench_sparse's model mode (gnrt::build_googlenet with random pruned weights of
// `density`, `seed`) as .gnrt bytes, default input size `size`.
std::vector<std::uint8_t> random_googlenet(double density, unsigned seed, int size);

}  // namespace gnrt_bench
