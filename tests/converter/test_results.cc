// The results table of a pipeline run, rendered from its manifest (no LibTorch).
#include <doctest/doctest.h>

#include <functional>
#include <nlohmann/json.hpp>

#include "report/results.h"
#include "test_util.h"

using namespace gnconvert;
using namespace gnconvert_test;

TEST_CASE("results table renders a pipeline manifest and names missing keys") {
  auto graph = [](double params, double nonzeros, double macs, double macs224) {
    return nlohmann::json{{"params", params},
                          {"nonzeros", nonzeros},
                          {"compression", params / nonzeros},
                          {"macs_fraction", macs},
                          {"macs_fraction_224", macs224}};
  };
  auto bench = [](double gnrt_ms, double xnn_ms) {
    return nlohmann::json{
        {"engines",
         {{"libgnrt", {{"median_ms", gnrt_ms}}}, {"xnnpack_dense", {{"median_ms", xnn_ms}}}}},
        {"speedup_vs_xnnpack_dense", xnn_ms / gnrt_ms}};
  };
  nlohmann::json m = {{"dense_eval", {{"accuracy", 0.9321}}},
                      {"prune_report",
                       {{"training_graph", graph(10318144, 403000, 0.05, 0.04)},
                        {"deployed_graph", graph(5970240, 373000, 0.045, 0.0412)},
                        {"resolution", {48, 48}},
                        {"iterations", {{{"after_prune", 0.55}, {"after_retrain", 0.93}}}},
                        {"final", {{"test_accuracy", 0.9305}}}}},
                      {"gnrt_info", {{"file_bytes", 900000}}},
                      {"gnrt_eval_accuracy", 0.9306},
                      {"gnrt_eval_accuracy_fp16", 0.9304},
                      {"dense_gnrt_bytes", 24000000},
                      {"fp16_gnrt_bytes", 600000},
                      {"bench_224", bench(4.0, 30.0)},
                      {"tradeoff",
                       {{{"label", "std 16x"},
                         {"snapshot",
                          {{"deployed_graph", graph(5970240, 373000, 0.045, 0.0412)},
                           {"training_graph", graph(10318144, 403000, 0.05, 0.04)},
                           {"record", {{"test_accuracy", 0.9290}}}}},
                         {"bench_224", bench(4.0, 30.0)}},
                        // A whole run's report (no snapshots) as a row: its "final" accuracy.
                        {{"label", "global 16x, fine-tuned"},
                         {"snapshot",
                          {{"deployed_graph", graph(5970240, 373000, 0.09, 0.095)},
                           {"training_graph", graph(10318144, 403000, 0.1, 0.1)},
                           {"final", {{"test_accuracy", 0.9312}}}}}}}},
                      {"shipped_gnrt_eval", {{"file", "models/x.gnrt"}, {"accuracy", 0.9311}}}};
  std::string t = render_results(m);
  CHECK(!contains(t, "int8"));  // a manifest without int8 keys has no int8 rows
  nlohmann::json with_int8 = m;
  with_int8["gnrt_eval_accuracy_int8"] = 0.9291;
  with_int8["int8_gnrt_bytes"] = 450000;
  with_int8["bench_224"]["engines"]["libgnrt_int8"] = {{"median_ms", 2.5}};
  const std::string t8 = render_results(with_int8);
  CHECK(contains(
      t8, "| test accuracy of the int8 .gnrt (`gn-convert quantize`) in libgnrt | - | 92.91% |"));
  CHECK(contains(t8, "24.00 MB vs 900 KB (float16: 600 KB, int8: 450 KB)"));
  CHECK(contains(t8,
                 "| latency, 1 thread, libgnrt int8 vs libgnrt float32, 224x224 | - | 2.500 ms vs "
                 "4.000 ms (**1.60x**) |"));
  with_int8["bench_224"]["engines"]["libgnrt_int8"].erase("median_ms");
  CHECK(contains(error_of([&] { render_results(with_int8); }), "libgnrt_int8 lacks 'median_ms'"));
  CHECK(contains(t, "| 10.32 M |"));
  CHECK(contains(t, "403 K (25.6x)"));
  CHECK(contains(t, "373 K (16.0x)"));
  CHECK(contains(t, "4.50% / 4.12%"));
  CHECK(contains(t, "93.21%"));
  CHECK(contains(t, "93.05% (-0.16 points)"));
  CHECK(contains(t, "55.00% (validation, per pruning step)"));
  CHECK(contains(t, "93.06%"));
  CHECK(contains(t, "24.00 MB vs 900 KB (float16: 600 KB)"));
  CHECK(contains(t, "93.04%"));
  CHECK(contains(t, "4.000 ms vs 30.000 ms (**7.50x**)"));
  CHECK(contains(t, "| std 16x | 16.0x | 373 K | 403 K | 4.50% / 4.12% | 92.90% | -0.31 |"));
  CHECK(contains(
      t,
      "| global 16x, fine-tuned | 16.0x | 373 K | 403 K | 9.00% / 9.50% | 93.12% | -0.09 | - |"));
  CHECK(contains(t, "`models/x.gnrt`), test accuracy in libgnrt | - | 93.11% (-0.10 points) |"));
  nlohmann::json broken = m;
  broken["prune_report"].erase("deployed_graph");
  CHECK(contains(error_of([&] { render_results(broken); }), "prune_report lacks 'deployed_graph'"));
}
