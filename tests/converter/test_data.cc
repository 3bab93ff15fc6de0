// Dataset readers and recipes: no LibTorch.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <set>

#include "data.h"
#include "recipe.h"
#include "results.h"
#include "test_util.h"

using namespace gnconvert;
using namespace gnconvert_test;

namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

std::vector<std::uint8_t> sample_pixels(int n, int h, int w) {
  std::vector<std::uint8_t> p(static_cast<std::size_t>(n) * h * w);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return p;
}

}  // namespace

TEST_CASE("IDX images and labels read back, raw and gzipped") {
  TempDir dir;
  auto pixels = sample_pixels(5, 4, 3);
  std::vector<std::uint8_t> labels = {0, 9, 3, 3, 1};
  write_bytes(dir / "img", idx_images(pixels, 5, 4, 3));
  write_bytes(dir / "lab", idx_labels(labels));
  write_gz(dir / "img.gz", idx_images(pixels, 5, 4, 3));
  write_gz(dir / "lab.gz", idx_labels(labels));
  for (auto names : {std::make_pair("img", "lab"), std::make_pair("img.gz", "lab.gz")}) {
    ImageSet set = read_idx(dir / names.first, dir / names.second, 10);
    CHECK(set.size() == 5);
    CHECK(set.channels == 1);
    CHECK(set.height == 4);
    CHECK(set.width == 3);
    CHECK(set.pixels == pixels);
    CHECK(set.labels == labels);
    CHECK(set.image(2)[0] == pixels[24]);
  }
}

TEST_CASE("corrupt or wrong IDX files give clean errors") {
  TempDir dir;
  auto good = idx_images(sample_pixels(2, 3, 3), 2, 3, 3);
  write_bytes(dir / "lab", idx_labels({1, 2}));

  auto bad_magic = good;
  bad_magic[0] = 0x42;
  write_bytes(dir / "magic", bad_magic);
  CHECK(contains(error_of([&] { read_idx(dir / "magic", dir / "lab", 10); }), "bad magic"));

  auto truncated = good;
  truncated.resize(truncated.size() - 5);
  write_bytes(dir / "trunc", truncated);
  CHECK(contains(error_of([&] { read_idx(dir / "trunc", dir / "lab", 10); }), "payload"));

  auto header_only = std::vector<std::uint8_t>(good.begin(), good.begin() + 9);
  write_bytes(dir / "hdr", header_only);
  CHECK(
      contains(error_of([&] { read_idx(dir / "hdr", dir / "lab", 10); }), "truncated IDX header"));

  auto float_type = good;
  float_type[2] = 0x0D;
  write_bytes(dir / "float", float_type);
  CHECK(contains(error_of([&] { read_idx(dir / "float", dir / "lab", 10); }), "unsigned byte"));

  // Labels passed as images and the other way round: wrong rank.
  write_bytes(dir / "img", good);
  CHECK(contains(error_of([&] { read_idx(dir / "lab", dir / "img", 10); }), "dimensions"));

  // Count mismatch and label range.
  write_bytes(dir / "lab3", idx_labels({1, 2, 3}));
  CHECK(contains(error_of([&] { read_idx(dir / "img", dir / "lab3", 10); }),
                 "3 labels for 2 images"));
  write_bytes(dir / "lab_big", idx_labels({1, 12}));
  CHECK(contains(error_of([&] { read_idx(dir / "img", dir / "lab_big", 10); }), "out of range"));

  // Huge declared dimensions must not allocate.
  std::vector<std::uint8_t> huge = {0,    0,    8,    3,    0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0,    0,    0,    1};
  write_bytes(dir / "huge", huge);
  CHECK_THROWS_AS(read_idx(dir / "huge", dir / "lab", 10), DataError);

  // Corrupt and truncated gzip streams.
  write_gz(dir / "img.gz", good);
  auto gz = read_maybe_gzipped(dir / "img.gz");
  CHECK(gz == good);
  std::ifstream in(dir / "img.gz", std::ios::binary);
  std::vector<std::uint8_t> packed((std::istreambuf_iterator<char>(in)), {});
  auto cut = std::vector<std::uint8_t>(packed.begin(), packed.begin() + packed.size() / 2);
  write_bytes(dir / "cut.gz", cut);
  CHECK(contains(error_of([&] { read_maybe_gzipped(dir / "cut.gz"); }), "corrupt gzip"));
  auto flipped = packed;
  for (std::size_t i = 12; i < flipped.size() - 8; ++i) flipped[i] ^= 0x5A;
  write_bytes(dir / "flip.gz", flipped);
  CHECK(contains(error_of([&] { read_maybe_gzipped(dir / "flip.gz"); }), "corrupt gzip"));

  CHECK(contains(error_of([&] { read_maybe_gzipped(dir / "missing"); }), "no such file"));
  CHECK(contains(error_of([&] { read_maybe_gzipped(dir.path); }), "not a regular file"));
}

TEST_CASE("load_dataset finds IDX files and reports missing ones") {
  TempDir dir;
  write_toy_mnist(dir.path, 30, 10);
  Dataset ds = load_dataset("mnist", dir.path);
  CHECK(ds.train.size() == 30);
  CHECK(ds.test.size() == 10);
  CHECK(ds.class_names.size() == 10);
  std::remove((dir / "t10k-labels-idx1-ubyte.gz").c_str());
  CHECK(contains(error_of([&] { load_dataset("mnist", dir.path); }), "missing dataset file"));
  CHECK(contains(error_of([&] { load_dataset("mnist", dir / "nope"); }), "does not exist"));
  CHECK(contains(error_of([&] { load_dataset("imagenet", dir.path); }), "unknown dataset"));
}

TEST_CASE("CIFAR-10 binary batches") {
  std::vector<std::uint8_t> data;
  for (int i = 0; i < 3; ++i) {
    data.push_back(static_cast<std::uint8_t>(i * 4));
    for (int p = 0; p < 3072; ++p) data.push_back(static_cast<std::uint8_t>(p + i));
  }
  ImageSet set = parse_cifar10(data, "batch");
  CHECK(set.size() == 3);
  CHECK(set.channels == 3);
  CHECK(set.labels == std::vector<std::uint8_t>{0, 4, 8});
  CHECK(set.image(1)[0] == 1);
  CHECK(set.image(2)[1024] == static_cast<std::uint8_t>(1024 + 2));  // green plane
  auto short_data = data;
  short_data.pop_back();
  CHECK(contains(error_of([&] { parse_cifar10(short_data, "b"); }), "multiple of 3073"));
  auto bad_label = data;
  bad_label[3073] = 10;
  CHECK(contains(error_of([&] { parse_cifar10(bad_label, "b"); }), "label 10"));
  CHECK_THROWS_AS(parse_cifar10({}, "empty"), DataError);
}

TEST_CASE("validation split is deterministic, disjoint and independent of the training seed") {
  Split a = make_split(1000, 100, 0);
  Split b = make_split(1000, 100, 0);
  Split c = make_split(1000, 100, 1);
  CHECK(a.validation == b.validation);
  CHECK(a.train == b.train);
  CHECK(a.validation != c.validation);
  CHECK(a.validation.size() == 100);
  CHECK(a.train.size() == 900);
  std::set<std::size_t> all(a.train.begin(), a.train.end());
  for (auto v : a.validation) CHECK(all.insert(v).second);
  CHECK(all.size() == 1000);
  CHECK_THROWS_AS(make_split(10, 10, 0), DataError);
}

TEST_CASE("channel statistics") {
  ImageSet set;
  set.channels = 1;
  set.height = 1;
  set.width = 2;
  set.pixels = {0, 255, 255, 255};
  set.labels = {0, 0};
  std::vector<float> mean, std_dev;
  channel_stats(set, {0, 1}, &mean, &std_dev);
  CHECK(mean[0] == doctest::Approx(0.75));
  CHECK(std_dev[0] == doctest::Approx(std::sqrt(0.75 * 0.25)));
}

TEST_CASE("recipes parse and reject mistakes") {
  auto r = parse_recipe(R"({"mode": "cost", "target": {"compression": 16, "scope": "deployed"},
                            "schedule": {"type": "iterative", "iterations": 4},
                            "retrain": {"epochs": 2, "lr": 0.02},
                            "cost": {"alpha": 1.0, "size": 224}})",
                        "r");
  CHECK(r.mode == "cost");
  CHECK(r.scope == "deployed");
  CHECK(r.target_density == doctest::Approx(1.0 / 16));
  CHECK(r.iterations == 4);
  CHECK(r.retrain.epochs == 2);
  CHECK(r.retrain.lr == doctest::Approx(0.02));
  CHECK(r.cost_height == 224);
  CHECK(r.final_retrain.epochs == 0);

  CHECK(contains(error_of([] { parse_recipe(R"({"mode": "global"})", "r"); }), "missing 'target'"));
  CHECK(contains(
      error_of([] { parse_recipe(R"({"mode": "magic", "target": {"density": 0.1}})", "r"); }),
      "mode must be"));
  CHECK(contains(
      error_of([] { parse_recipe(R"({"target": {"density": 0.1}, "retrian": {}})", "r"); }),
      "unknown key 'retrian'"));
  CHECK(contains(
      error_of([] { parse_recipe(R"({"target": {"density": 0.1, "nonzeros": 5}})", "r"); }),
      "exactly one"));
  CHECK(contains(error_of([] { parse_recipe(R"({"target": {"density": 1.5}})", "r"); }), "(0, 1]"));
  CHECK(contains(error_of([] { parse_recipe("{not json", "r"); }), "not valid JSON"));
  CHECK(contains(error_of([] {
                   parse_recipe(R"({"target": {"density": 0.1}, "layers": {"conv1": 0.5}})", "r");
                 }),
                 "only used by mode layer"));

  // Auxiliary heads as their own group, and per-iteration snapshots.
  auto a = parse_recipe(R"({"mode": "cost", "target": {"compression": 16, "scope": "deployed"},
                            "aux": {"mode": "std", "nonzeros": 40000}, "snapshots": true})",
                        "r");
  CHECK(a.aux_group);
  CHECK(a.aux_mode == "std");
  CHECK(a.aux_target_nonzeros == 40000);
  CHECK(a.snapshots);
  CHECK(parse_recipe(
            R"({"target": {"density": 0.1, "scope": "deployed"}, "aux": {"compression": 50}})", "r")
            .aux_target_density == doctest::Approx(0.02));
  CHECK(contains(error_of([] {
                   parse_recipe(R"({"target": {"density": 0.1}, "aux": {"nonzeros": 5}})", "r");
                 }),
                 "target.scope must be \"deployed\""));
  CHECK(contains(error_of([] {
                   parse_recipe(R"({"target": {"density": 0.1, "scope": "deployed"},
                                                "aux": {"mode": "cost", "nonzeros": 5}})",
                                "r");
                 }),
                 "aux.mode must be std or global"));
  CHECK(contains(error_of([] {
                   parse_recipe(R"({"target": {"density": 0.1, "scope": "deployed"},
                                                "aux": {"nonzeros": 5, "density": 0.1}})",
                                "r");
                 }),
                 "exactly one"));
  CHECK(contains(error_of([] {
                   parse_recipe(R"({"target": {"density": 0.1}, "schedule": {"type": "gradual"},
                                                "snapshots": true})",
                                "r");
                 }),
                 "snapshots are kept per iteration"));
}

TEST_CASE("iterative and gradual density schedules") {
  CHECK(iterative_density(1.0, 0.0625, 0, 4) == doctest::Approx(1.0));
  CHECK(iterative_density(1.0, 0.0625, 2, 4) == doctest::Approx(0.25));
  CHECK(iterative_density(1.0, 0.0625, 4, 4) == doctest::Approx(0.0625));
  CHECK(gradual_density(1.0, 0.1, 0.0) == doctest::Approx(1.0));
  CHECK(gradual_density(1.0, 0.1, 1.0) == doctest::Approx(0.1));
  // Cubic: half way, sparsity is s_f (1 - 1/8) = 0.9 * 0.875.
  CHECK(gradual_density(1.0, 0.1, 0.5) == doctest::Approx(1.0 - 0.9 * 0.875));
  // Pruning is front-loaded: the first half removes most of the weights.
  CHECK(gradual_density(1.0, 0.1, 0.25) < 0.5);
}

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
