// Whole models built in code (an inception-style graph with every operator and option, GoogLeNet),
// run through the C API and checked against naive loops, at several input sizes.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "aligned_bytes.h"
#include "gnrt/gnrt.h"
#include "gnrt/half.h"
#include "small_models.h"
#include "test_graph.h"

using gnrt::testing::AlignedBytes;
using testing_graph::GraphMaker;

namespace {

struct ModelHandle {
  gnrt_model* model = nullptr;
  ~ModelHandle() { gnrt_model_destroy(model); }
};
struct PlanHandle {
  gnrt_plan* plan = nullptr;
  ~PlanHandle() { gnrt_plan_destroy(plan); }
};

std::vector<float> run_model(const gnrt_model* model, int height, int width,
                             const std::vector<float>& input, int threads, bool reference) {
  gnrt_options options;
  gnrt_options_init(&options);
  options.input_height = height;
  options.input_width = width;
  options.num_threads = threads;
  options.force_reference = reference;
  PlanHandle plan;
  REQUIRE_MESSAGE(gnrt_plan_create(model, &options, &plan.plan) == GNRT_OK,
                  std::string(gnrt_last_error()));
  REQUIRE(gnrt_plan_set_input(plan.plan, input.data(), input.size()) == GNRT_OK);
  REQUIRE(gnrt_plan_run(plan.plan) == GNRT_OK);
  int dims[4];
  REQUIRE(gnrt_plan_output_shape(plan.plan, dims) == GNRT_OK);
  std::vector<float> out(static_cast<std::size_t>(dims[1]) * dims[2] * dims[3]);
  REQUIRE(gnrt_plan_get_output(plan.plan, out.data(), out.size()) == GNRT_OK);
  return out;
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, float tolerance) {
  REQUIRE(got.size() == want.size());
  float scale = 1e-3f;
  for (float v : want) scale = std::max(scale, std::fabs(v));
  std::size_t bad = 0;
  float worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const float err = std::fabs(got[i] - want[i]);
    worst = std::max(worst, err);
    if (!(err <= tolerance * scale)) ++bad;
  }
  INFO("worst abs error " << worst << " (scale " << scale << ")");
  CHECK(bad == 0);
}

// An inception-style graph exercising every operator and option the format has.
testing_graph::Graph mini_inception(unsigned seed, double density) {
  GraphMaker g(3, 19, 23, seed, density);
  int x = g.conv(-1, 8, 7, 2, 3);               // stem 7x7/2
  x = g.pool(x, true, 3, 2, 0, /*ceil*/ true);  // ceil-mode max pool
  int b1 = g.conv(x, 6, 1, 1, 0);
  int b2 = g.conv(g.conv(x, 4, 1, 1, 0), 7, 3, 1, 1);
  int b3 = g.conv(g.conv(x, 4, 1, 1, 0), 5, 5, 1, 2);
  int b4 = g.conv(g.pool(x, true, 3, 1, 1), 3, 1, 1, 0);
  int cat = g.concat({b1, b2, b3, b4});  // 21 channels
  // dilation, groups, asymmetric padding (2x2 kernel, pad 0 before / 1 after)
  int inner = g.concat({g.conv(cat, 4, 3, 1, 2, false, 1, 2), g.conv(cat, 6, 1, 1, 0, true, 3),
                        g.conv(cat, 3, 2, 1, 0, true, 1, 1, 1)});
  int outer =
      g.concat({inner, g.pool(cat, false, 3, 1, 1, false, true)});  // nested concat, avg incl. pad
  x = g.pool(outer, false, 2, 2, 0, true);                          // avg pool, ceil mode
  x = g.conv(x, 10, 3, 2, 1, false);                                // stride 2, no relu
  x = g.global_pool(x);
  x = g.fc(x, 10, 12, true);
  x = g.fc(x, 12, 5);
  g.softmax(x);
  return g.graph;
}

}  // namespace

TEST_CASE("every operator matches naive loops at several input sizes") {
  for (double density : {1.0, 0.3, 0.05}) {
    for (gnrt::WeightEncoding encoding :
         {gnrt::WeightEncoding::kDense, gnrt::WeightEncoding::kSparse}) {
      testing_graph::Graph graph = mini_inception(7, density);
      graph.weight_options.encoding = encoding;
      const std::vector<std::uint8_t> bytes = graph.build();
      AlignedBytes aligned(bytes);
      ModelHandle model;
      REQUIRE_MESSAGE(
          gnrt_model_load_buffer(aligned.data(), aligned.size(), &model.model) == GNRT_OK,
          std::string(gnrt_last_error()));
      std::mt19937 rng(11);
      for (auto size : {std::pair<int, int>{19, 23}, {32, 32}, {13, 17}}) {
        CAPTURE(density);
        CAPTURE(size.first);
        CAPTURE(size.second);
        naive::Tensor input = naive::make(3, size.first, size.second);
        input.data = naive::random_vector(rng, input.data.size());
        const naive::Tensor want = graph.evaluate(input);
        for (bool reference : {true, false})
          for (int threads : {1, 2}) {
            CAPTURE(reference);
            CAPTURE(threads);
            check_close(
                run_model(model.model, size.first, size.second, input.data, threads, reference),
                want.data, 2e-4f);
          }
      }
    }
  }
}

TEST_CASE("float16 weights load and match the same weights rounded to half precision") {
  testing_graph::Graph graph = mini_inception(3, 0.2);
  for (auto& s : graph.steps)
    for (float& w : s.weights) w = gnrt::half_to_float(gnrt::float_to_half(w));
  graph.weight_options.storage = gnrt::ValueStorage::kFloat16;
  AlignedBytes aligned(graph.build());
  ModelHandle model;
  REQUIRE_MESSAGE(gnrt_model_load_buffer(aligned.data(), aligned.size(), &model.model) == GNRT_OK,
                  std::string(gnrt_last_error()));
  std::mt19937 rng(5);
  naive::Tensor input = naive::make(3, 19, 23);
  input.data = naive::random_vector(rng, input.data.size());
  check_close(run_model(model.model, 0, 0, input.data, 1, false), graph.evaluate(input).data,
              2e-4f);
}

TEST_CASE("GoogLeNet from one file runs at 32x32, 64x64 and 224x224") {
  gnrt::testing::SmallGoogLeNet spec;
  spec.size = 64;
  spec.metadata.name = "googlenet-random";
  AlignedBytes aligned(gnrt::testing::small_googlenet(spec));
  ModelHandle model;
  REQUIRE_MESSAGE(gnrt_model_load_buffer(aligned.data(), aligned.size(), &model.model) == GNRT_OK,
                  std::string(gnrt_last_error()));
  gnrt_model_info info;
  REQUIRE(gnrt_model_get_info(model.model, &info) == GNRT_OK);
  CHECK(info.num_classes == 10);
  CHECK(info.default_height == 64);
  // 57 convolutions + fc of the deployed graph; density 1/16 per layer.
  CHECK(info.params_dense > 5800000);
  CHECK(info.nonzeros == doctest::Approx(info.params_dense / 16.0).epsilon(0.01));
  std::mt19937 rng(2);
  for (int size : {32, 64, 224}) {
    CAPTURE(size);
    const std::vector<float> input = naive::random_vector(rng, 3 * size * size);
    const std::vector<float> fast = run_model(model.model, size, size, input, 2, false);
    REQUIRE(fast.size() == 10);
    double sum = 0;
    for (float p : fast) sum += p;
    CHECK(sum == doctest::Approx(1.0).epsilon(1e-4));
    if (size <= 64) check_close(fast, run_model(model.model, size, size, input, 1, true), 1e-3f);
  }
}

TEST_CASE("an input too small for a window is refused at plan time with the operator named") {
  AlignedBytes aligned(mini_inception(1, 0.5).build());
  ModelHandle model;
  REQUIRE(gnrt_model_load_buffer(aligned.data(), aligned.size(), &model.model) == GNRT_OK);
  gnrt_options options;
  gnrt_options_init(&options);
  options.input_height = options.input_width = 1;
  PlanHandle plan;
  CHECK(gnrt_plan_create(model.model, &options, &plan.plan) == GNRT_INVALID_ARGUMENT);
  CHECK(plan.plan == nullptr);
  CHECK(std::string(gnrt_last_error()).find("too small") != std::string::npos);
  CHECK(std::string(gnrt_last_error()).find("pool1") != std::string::npos);
}
