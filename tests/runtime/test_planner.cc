// Planner internals on real plans: arena placement and lifetimes, in-place concatenation, shared
// borders, resource limits, zero_border, conv + max pool fusion, border re-zeroing.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <random>

#include "aligned_bytes.h"
#include "model.h"
#include "plan.h"
#include "small_models.h"
#include "test_graph.h"

namespace {

struct Loaded {
  gnrt::testing::AlignedBytes bytes;
  gnrt::Model model;
  explicit Loaded(const std::vector<std::uint8_t>& serialized) : bytes(serialized) {
    gnrt::Status s = gnrt::load_model(bytes.data(), bytes.size(), &model);
    REQUIRE_MESSAGE(s.ok(), s.message);
  }
};

std::vector<std::uint8_t> googlenet_bytes() {
  gnrt::testing::SmallGoogLeNet spec;
  spec.classes = 1000;
  spec.size = 224;
  spec.seed = 3;
  spec.density = 0.1;
  return gnrt::testing::small_googlenet(spec);
}

}  // namespace

TEST_CASE("arena: live buffers never overlap and the arena is no larger than needed") {
  Loaded loaded(googlenet_bytes());
  for (int size : {32, 64, 224}) {
    CAPTURE(size);
    gnrt::PlanConfig config;
    config.height = config.width = size;
    std::unique_ptr<gnrt::Plan> plan;
    gnrt::Status s = gnrt::Plan::create(loaded.model, config, &plan);
    REQUIRE_MESSAGE(s.ok(), s.message);
    const auto& buffers = plan->buffers();
    std::size_t sum = 0, end = 0;
    for (std::size_t i = 0; i < buffers.size(); ++i) {
      sum += buffers[i].bytes;
      end = std::max(end, buffers[i].offset + buffers[i].bytes);
      CHECK(buffers[i].offset % 64 == 0);
      for (std::size_t j = i + 1; j < buffers.size(); ++j) {
        const auto& a = buffers[i];
        const auto& b = buffers[j];
        const bool live_together = a.first <= b.last && b.first <= a.last;
        const bool overlap = a.offset < b.offset + b.bytes && b.offset < a.offset + a.bytes;
        if (live_together && overlap)
          FAIL_CHECK(a.what << " and " << b.what << " overlap while both live");
      }
    }
    // Lower bound: the most bytes live at any one step.
    std::size_t peak = 0;
    const int steps = static_cast<int>(plan->ops().size());
    for (int step = -1; step <= steps; ++step) {
      std::size_t live = 0;
      for (const auto& b : buffers)
        if (b.first <= step && step <= b.last) live += b.bytes;
      peak = std::max(peak, live);
    }
    CHECK(end >= peak);
    CHECK(end < sum);               // reuse happened
    CHECK(end <= peak + peak / 4);  // greedy placement stays close to the bound
    CHECK(plan->arena_bytes() >= end);
    CHECK(plan->arena_bytes() <= end + 4096);
    MESSAGE("GoogLeNet " << size << "x" << size << ": arena " << plan->arena_bytes()
                         << " bytes, peak live " << peak << ", no reuse " << sum);
  }
}

TEST_CASE("inception concatenations cost nothing: branches write their channel slices") {
  Loaded loaded(googlenet_bytes());
  gnrt::PlanConfig config;
  std::unique_ptr<gnrt::Plan> plan;
  REQUIRE(gnrt::Plan::create(loaded.model, config, &plan).ok());
  int concats = 0;
  for (const auto& op : plan->ops()) {
    if (op.desc->type != gnrt::OpType::kConcat) continue;
    ++concats;
    CHECK(std::string(op.kernel_name) == "concat_in_place");
    const auto& out = plan->layout(op.desc->output);
    int channel = 0;
    for (int t : op.desc->inputs) {
      const auto& in = plan->layout(t);
      CHECK(in.buffer == out.buffer);
      CHECK(in.offset == out.offset + channel * out.channel_stride);
      CHECK(in.channel_stride == out.channel_stride);
      channel += in.channels;
    }
  }
  CHECK(concats == 9);
}

TEST_CASE("tensors of one spatial size share one zero border (stride-1 convs see equal strides)") {
  Loaded loaded(googlenet_bytes());
  gnrt::PlanConfig config;
  std::unique_ptr<gnrt::Plan> plan;
  REQUIRE(gnrt::Plan::create(loaded.model, config, &plan).ok());
  for (const auto& op : plan->ops()) {
    if (op.desc->type != gnrt::OpType::kConv2D || op.desc->stride_h != 1) continue;
    const auto& in = plan->layout(op.desc->inputs[0]);
    const auto& out = plan->layout(op.desc->output);
    CHECK(in.row_stride == out.row_stride);
    CHECK(in.pad >= op.desc->pad_top);
  }
  // Inception resolutions need the 5x5 border of 2; the input needs the stem's 3.
  CHECK(plan->layout(plan->input_tensor()).pad == 3);
}

TEST_CASE("max_arena_bytes refuses a plan before allocating") {
  Loaded loaded(googlenet_bytes());
  gnrt::PlanConfig config;
  config.max_arena_bytes = 1 << 20;
  std::unique_ptr<gnrt::Plan> plan;
  gnrt::Status s = gnrt::Plan::create(loaded.model, config, &plan);
  CHECK(s.code == GNRT_RESOURCE_LIMIT);
  CHECK(s.message.find("max_arena_bytes") != std::string::npos);
  CHECK(plan == nullptr);
}

TEST_CASE("max_macs refuses a plan whose run would do too much work, before allocating") {
  Loaded loaded(googlenet_bytes());
  gnrt::PlanConfig config;
  config.height = config.width = 224;
  std::unique_ptr<gnrt::Plan> plan;
  REQUIRE(gnrt::Plan::create(loaded.model, config, &plan).ok());  // 1.6e9 < default cap
  plan.reset();
  config.max_macs = 1000000000;  // GoogLeNet at 224x224 needs about 1.6e9
  gnrt::Status s = gnrt::Plan::create(loaded.model, config, &plan);
  CHECK(s.code == GNRT_RESOURCE_LIMIT);
  CHECK(s.message.find("max_macs") != std::string::npos);
  CHECK(s.message.find("224x224") != std::string::npos);
  CHECK(plan == nullptr);
  // The same cap admits a smaller input of the same model.
  config.height = config.width = 96;
  CHECK(gnrt::Plan::create(loaded.model, config, &plan).ok());
}

TEST_CASE("zero_border clears exactly the border") {
  gnrt::TensorLayout l;
  l.channels = 2;
  l.height = 3;
  l.width = 4;
  l.pad = 2;
  l.row_stride = 8;
  l.channel_stride = 7 * 8 + 8;
  std::vector<float> mem(static_cast<std::size_t>(l.channels * l.channel_stride), 1.0f);
  float* data = mem.data() + l.pad * l.row_stride + l.pad;
  gnrt::zero_border(data, l, 0, 2);
  for (int c = 0; c < 2; ++c)
    for (int y = -2; y < 5; ++y)
      for (int x = -2; x < 6; ++x) {
        const bool interior = y >= 0 && y < 3 && x >= 0 && x < 4;
        CHECK(data[c * l.channel_stride + y * l.row_stride + x] == (interior ? 1.0f : 0.0f));
      }
}

TEST_CASE("a light convolution and its max pool fused in row bands match naive loops") {
  // Stems of a few shapes (stride 2 and 1, odd sizes, ceil-mode and padded pools), at density
  // 0.05 (a handful of multiply-adds per output, so the planner fuses), bands from one pool row
  // (fusion_band_bytes = 1) to several, one and two threads.
  struct Case {
    int channels, height, width, kernel, stride, pool_k, pool_s, pool_pad;
    bool ceil;
    double density;
  };
  const Case cases[] = {{3, 37, 29, 7, 2, 3, 2, 1, false, 0.05},
                        {3, 40, 40, 7, 2, 3, 2, 0, true, 0.05},
                        {2, 23, 31, 3, 1, 3, 2, 0, true, 0.05},
                        {4, 19, 22, 5, 1, 3, 1, 1, false, 0.05},
                        {3, 30, 18, 3, 2, 2, 2, 0, false, 0.05},
                        // Dense weights, 8 multiply-adds per output: the dense kernels in bands.
                        {8, 21, 26, 1, 1, 3, 2, 1, false, 1.0}};
  std::mt19937 rng(5);
  int fused_plans = 0;
  for (const Case& c : cases) {
    testing_graph::GraphMaker g(c.channels, c.height, c.width, 3, c.density);
    int x = g.conv(-1, 24, c.kernel, c.stride, c.kernel / 2);
    x = g.pool(x, true, c.pool_k, c.pool_s, c.pool_pad, c.ceil);
    x = g.conv(x, 5, 1, 1, 0);
    const std::vector<std::uint8_t> bytes = g.graph.build();
    Loaded loaded(bytes);
    naive::Tensor input = naive::make(c.channels, c.height, c.width);
    input.data = naive::random_vector(rng, input.data.size());
    const naive::Tensor want = g.graph.evaluate(input);
    float scale = 1e-3f;
    for (float v : want.data) scale = std::max(scale, std::fabs(v));
    for (std::size_t band_bytes : {std::size_t{1}, std::size_t{20000}, std::size_t{384 * 1024}}) {
      for (int threads : {1, 2}) {
        CAPTURE(c.height);
        CAPTURE(c.width);
        CAPTURE(c.kernel);
        CAPTURE(band_bytes);
        CAPTURE(threads);
        gnrt::PlanConfig config;
        config.threads = threads;
        config.fusion_band_bytes = band_bytes;
        std::unique_ptr<gnrt::Plan> plan;
        gnrt::Status s = gnrt::Plan::create(loaded.model, config, &plan);
        REQUIRE_MESSAGE(s.ok(), s.message);
        const bool fused = plan->ops()[0].fusion.pool == 1 && plan->ops()[1].fusion.conv == 0;
        // Fused whenever a vectorized pool kernel runs the pool (scalar pools are never fused).
        const bool vector_pool =
            std::string(plan->ops()[1].kernel_name).find("__scalar") == std::string::npos;
        if (band_bytes == 1) CHECK(fused == vector_pool);
        if (fused) ++fused_plans;
        for (int run = 0; run < 2; ++run) {  // a second run sees the bands' leftovers
          REQUIRE(plan->set_input(input.data.data(), input.data.size()).ok());
          REQUIRE(plan->run().ok());
          std::vector<float> got(want.data.size());
          REQUIRE(plan->get_output(got.data(), got.size()).ok());
          std::size_t bad = 0;
          for (std::size_t i = 0; i < got.size(); ++i)
            if (!(std::fabs(got[i] - want.data[i]) <= 2e-4f * scale)) ++bad;
          CHECK(bad == 0);
        }
      }
    }
  }
  // Four of the cases have 3x3 pools the vector kernels take (stride 2 and 1), fused with
  // 1-byte bands (and some with 20000-byte ones) and 1 and 2 threads; none on a scalar-only build.
  if (gnrt::kernels::detect_isa() != gnrt::kernels::Isa::kScalar) CHECK(fused_plans >= 8);
}

TEST_CASE("output borders are re-zeroed only where a consumer reads them, and runs stay exact") {
  // GoogLeNet at 96x96: the inception branches write the module outputs, which only 1x1
  // convolutions and max pools read; on x86 those pools take rows outside the input as zeros
  // (PoolKernel::reads_border_rows == false), so the branches' kernels leave the border rows
  // alone. The reduce layers feed padded 3x3 / 5x5 convolutions, so theirs are re-zeroed. Three
  // runs with different inputs against the scalar reference: stale rows in the arena (other
  // tensors' data) must never reach an output.
  gnrt::testing::SmallGoogLeNet spec;
  spec.size = 96;
  spec.seed = 9;
  spec.density = 0.08;
  Loaded loaded(gnrt::testing::small_googlenet(spec));
  gnrt::PlanConfig fast_config, reference_config;
  reference_config.force_reference = true;
  std::unique_ptr<gnrt::Plan> fast, reference;
  REQUIRE(gnrt::Plan::create(loaded.model, fast_config, &fast).ok());
  REQUIRE(gnrt::Plan::create(loaded.model, reference_config, &reference).ok());
  const bool x86 =
      fast->isa() == gnrt::kernels::Isa::kAvx2 || fast->isa() == gnrt::kernels::Isa::kAvx512;
  int branches = 0, reduces = 0;
  for (const auto* plan : {fast.get(), reference.get()}) {
    for (const auto& op : plan->ops()) {
      const std::string& name = op.desc->name;
      if (name.rfind("inception", 0) != 0 || op.desc->type == gnrt::OpType::kConcat) continue;
      CAPTURE(name);
      const bool reduce = name.find("_reduce") != std::string::npos;
      const bool pool_input =
          name.find("_pool") != std::string::npos;  // b4_pool: read by the 1x1 b4
      if (reduce) {
        CHECK(op.out_border_read);
        ++reduces;
      } else if (!pool_input) {
        // Module outputs: read by the next module's 1x1 convolutions and its (or the stride-2)
        // max pool, or by the global average pool.
        CHECK(op.out_border_read == (plan == reference.get() || !x86));
        ++branches;
      }
    }
  }
  CHECK(branches == 2 * 9 * 4);
  CHECK(reduces == 2 * 9 * 2);
  std::mt19937 rng(17);
  std::vector<float> input(3 * 96 * 96), got(10), want(10);
  for (int run = 0; run < 3; ++run) {
    std::uniform_real_distribution<float> u(run == 1 ? 0.0f : -2.0f, 2.0f);
    for (float& v : input) v = u(rng);
    for (auto* plan : {fast.get(), reference.get()}) {
      REQUIRE(plan->set_input(input.data(), input.size()).ok());
      REQUIRE(plan->run().ok());
    }
    REQUIRE(fast->get_output(got.data(), got.size()).ok());
    REQUIRE(reference->get_output(want.data(), want.size()).ok());
    for (int i = 0; i < 10; ++i) CHECK(got[i] == doctest::Approx(want[i]).epsilon(1e-4));
  }
}
