// gnrt.h: "A gnrt_model is immutable after loading and may be shared by several plans and
// threads". Several threads, each with its own plans (one with 1 thread, one with 2: a worker
// pool of its own), run one shared model concurrently, many times, on different inputs; every
// output must be bitwise equal to the single-threaded reference run of the same input. Under the
// tsan preset this is also the data-race test of the loader, planner, executor and thread pool.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdint>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "aligned_bytes.h"
#include "gnrt/gnrt.h"
#include "small_models.h"

namespace {

constexpr int kSize = 40;
constexpr int kInputs = 3;
constexpr int kThreads = 4;
constexpr int kRunsPerThread = 12;

struct Plan {
  gnrt_plan* plan = nullptr;
  Plan(const gnrt_model* model, int threads) {
    gnrt_options options;
    gnrt_options_init(&options);
    options.num_threads = threads;
    options.input_height = options.input_width = kSize;
    if (gnrt_plan_create(model, &options, &plan) != GNRT_OK) plan = nullptr;
  }
  ~Plan() { gnrt_plan_destroy(plan); }
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;

  // The output for `input`, or an empty vector on any failure (checked by the caller; doctest's
  // assertions are not used off the main thread).
  std::vector<float> run(const std::vector<float>& input, int classes) const {
    std::vector<float> out(static_cast<std::size_t>(classes));
    if (!plan || gnrt_plan_set_input(plan, input.data(), input.size()) != GNRT_OK ||
        gnrt_plan_run(plan) != GNRT_OK ||
        gnrt_plan_get_output(plan, out.data(), out.size()) != GNRT_OK)
      return {};
    return out;
  }
};

bool bitwise_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST_CASE("threads with their own plans over one shared model match the single-thread run") {
  gnrt::testing::SmallGoogLeNet spec;
  spec.size = kSize;
  spec.seed = 21;
  spec.density = 0.1;
  const gnrt::testing::AlignedBytes bytes(gnrt::testing::small_googlenet(spec));
  gnrt_model* model = nullptr;
  REQUIRE_MESSAGE(gnrt_model_load_buffer(bytes.data(), bytes.size(), &model) == GNRT_OK,
                  std::string(gnrt_last_error()));
  gnrt_model_info info;
  REQUIRE(gnrt_model_get_info(model, &info) == GNRT_OK);

  std::mt19937 rng(3);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  std::vector<std::vector<float>> inputs(kInputs);
  std::vector<std::vector<float>> reference(kInputs);
  {
    const Plan single(model, 1);
    REQUIRE(single.plan != nullptr);
    for (int i = 0; i < kInputs; ++i) {
      inputs[i].resize(static_cast<std::size_t>(3) * kSize * kSize);
      for (float& v : inputs[i]) v = uniform(rng);
      reference[i] = single.run(inputs[i], info.num_classes);
      REQUIRE(reference[i].size() == static_cast<std::size_t>(info.num_classes));
    }
  }
  REQUIRE_FALSE(bitwise_equal(reference[0], reference[1]));  // the inputs matter

  std::atomic<int> runs{0}, mismatches{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      // Plans are made concurrently too: planning reads the shared model.
      const Plan one(model, 1);
      const Plan two(model, 2);
      for (int r = 0; r < kRunsPerThread; ++r) {
        const int i = (t + r) % kInputs;
        const Plan& plan = (r + t) % 2 == 0 ? one : two;
        const std::vector<float> out = plan.run(inputs[i], info.num_classes);
        if (out.empty())
          failures.fetch_add(1);
        else if (!bitwise_equal(out, reference[i]))
          mismatches.fetch_add(1);
        runs.fetch_add(1);
      }
    });
  }
  for (std::thread& th : threads) th.join();
  CHECK(runs.load() == kThreads * kRunsPerThread);
  CHECK(failures.load() == 0);
  CHECK(mismatches.load() == 0);
  gnrt_model_destroy(model);
}

TEST_CASE("a plan with worker threads gives the single-thread output at every thread count") {
  gnrt::testing::SmallGoogLeNet spec;
  spec.size = kSize;
  spec.seed = 8;
  spec.density = 0.3;
  spec.weights.encoding = gnrt::WeightEncoding::kDense;
  const gnrt::testing::AlignedBytes bytes(gnrt::testing::small_googlenet(spec));
  gnrt_model* model = nullptr;
  REQUIRE(gnrt_model_load_buffer(bytes.data(), bytes.size(), &model) == GNRT_OK);
  std::vector<float> input(static_cast<std::size_t>(3) * kSize * kSize);
  std::mt19937 rng(4);
  std::uniform_real_distribution<float> uniform(0.0f, 1.0f);
  for (float& v : input) v = uniform(rng);
  const std::vector<float> want = Plan(model, 1).run(input, 10);
  REQUIRE(want.size() == 10);
  for (int threads : {2, 3, 4}) {
    CAPTURE(threads);
    const Plan plan(model, threads);
    for (int run = 0; run < 3; ++run) CHECK(bitwise_equal(plan.run(input, 10), want));
  }
  gnrt_model_destroy(model);
}
