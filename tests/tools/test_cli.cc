// The gnrt CLI and the C example, end to end on the bundled demo model, driven from outside as
// separate processes. Checks output formats (docs/cli.md) and cross-checks the subcommands
// against each other: text vs JSON, eval vs run, every image encoding vs the others, raw
// float input vs image input, the C example vs the CLI.
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include "fileio.h"
#include "idx.h"
#include "imageio.h"
#include "subprocess.h"

using gnrt::testing::ProcessResult;
using gnrt::testing::split_lines;
using nlohmann::json;

namespace {

const std::string kGnrt = GNRT_TEST_CLI;
const std::string kClassify = GNRT_TEST_CLASSIFY;
const std::string kModel = GNRT_TEST_DEMO_MODEL;
const std::string kSample = GNRT_TEST_SAMPLE_IMAGE;
const std::string kData = GNRT_TEST_DATA_DIR;

const std::vector<std::string> kLabels = {"T-shirt/top", "Trouser",   "Pullover", "Dress",
                                          "Coat",        "Sandal",    "Shirt",    "Sneaker",
                                          "Bag",         "Ankle boot"};

ProcessResult run(std::vector<std::string> args, int expect_exit = 0) {
  args.insert(args.begin(), kGnrt);
  ProcessResult r = gnrt::testing::run_process(args, 300);
  INFO("command: " << gnrt::testing::command_line(args));
  INFO("stderr: " << r.err);
  REQUIRE(r.started);
  REQUIRE_FALSE(r.timed_out);
  REQUIRE_FALSE(r.signaled);
  REQUIRE(r.exit_code == expect_exit);
  return r;
}

json run_json(std::vector<std::string> args) {
  const ProcessResult r = run(std::move(args));
  json j = json::parse(r.out, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  REQUIRE(j.is_object());
  return j;
}

std::vector<std::string> fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

std::string scratch_dir() {
  const std::string dir = kData + "/cli-scratch";
  mkdir(dir.c_str(), 0755);
  return dir;
}

std::vector<float> probabilities(const json& run_output) {
  std::vector<float> p(kLabels.size(), -1.0f);
  for (const json& entry : run_output.at("top")) {
    p.at(entry.at("class").get<std::size_t>()) = entry.at("probability").get<float>();
  }
  return p;
}

void check_close(const std::vector<float>& a, const std::vector<float>& b, float tolerance) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(std::fabs(a[i] - b[i]) <= tolerance);
}

}  // namespace

TEST_CASE("info: JSON describes the demo model and agrees with itself") {
  const json j = run_json({"info", kModel, "--json"});
  for (const char* key : {"layers", "params_dense", "nonzeros", "file_bytes", "name", "labels",
                          "input", "normalization", "isa", "pruning", "arena_bytes"}) {
    INFO(key);
    CHECK(j.contains(key));
  }
  CHECK(j["name"] == "demo-googlenet-fmnist-random");
  CHECK(j["description"].get<std::string>().find("RANDOM, UNTRAINED") != std::string::npos);
  CHECK(j["labels"].get<std::vector<std::string>>() == kLabels);
  CHECK(j["num_classes"] == 10);
  CHECK(j["input"]["channels"] == 1);
  CHECK(j["input"]["height"] == 48);
  CHECK(j["input"]["width"] == 48);
  const std::set<std::string> isas = {"scalar", "avx2", "avx512", "neon"};
  CHECK(isas.count(j["isa"].get<std::string>()) == 1);

  const std::vector<std::uint8_t> bytes = gnrt::tools::read_file(kModel);
  CHECK(j["file_bytes"].get<std::uint64_t>() == bytes.size());

  // Per-layer sums (read by the CLI from the FlatBuffer) equal the runtime's model totals.
  std::uint64_t params = 0, nonzeros = 0, weight_bytes = 0;
  std::map<std::string, int> types;
  for (const json& layer : j["layers"]) {
    params += layer["params_dense"].get<std::uint64_t>();
    nonzeros += layer["nonzeros"].get<std::uint64_t>();
    weight_bytes += layer["bytes"].get<std::uint64_t>();
    ++types[layer["type"].get<std::string>()];
    if (layer["params_dense"].get<std::uint64_t>() > 0) {
      CHECK(layer["nonzeros"].get<std::uint64_t>() <= layer["params_dense"].get<std::uint64_t>());
      CHECK(layer["weight_layout"].is_string());
    }
  }
  CHECK(params == j["params_dense"].get<std::uint64_t>());
  CHECK(nonzeros == j["nonzeros"].get<std::uint64_t>());
  CHECK(weight_bytes == j["weight_bytes"].get<std::uint64_t>());
  CHECK(weight_bytes < bytes.size());
  // GoogLeNet: conv1, conv2, conv3 and 6 convolutions in each of 9 inception blocks; one FC.
  CHECK(types["Conv2D"] == 57);
  CHECK(types["FullyConnected"] == 1);
  CHECK(types["Concat"] == 9);
  CHECK(types["Softmax"] == 1);
  CHECK(types["GlobalAvgPool"] == 1);
  const double density = j["density"].get<double>();
  CHECK(density > 0.012);
  CHECK(density < 0.02);
  // The last layer's output is the 10-class distribution.
  const json& last = j["layers"].back();
  std::uint64_t out_elements = 1;
  for (int d : last["output"].get<std::vector<int>>()) out_elements *= std::uint64_t(d);
  CHECK(out_elements == 10);
}

TEST_CASE("info: the text format is what docs/cli.md says and matches the JSON") {
  const json j = run_json({"info", kModel, "--json"});
  const ProcessResult r = run({"info", kModel});
  CHECK(r.err.empty());
  const std::vector<std::string> lines = split_lines(r.out);

  // Header: "key: value" lines in a fixed order, then one blank line.
  const std::vector<std::string> keys = {
      "file",          "file_bytes",    "format_version", "name",
      "description",   "producer",      "input",          "classes",
      "labels",        "normalization", "params_dense",   "nonzeros",
      "density",       "weight_bytes",  "pruning",        "macs",
      "test_accuracy", "isa",           "arena_bytes",    "plan_weight_bytes"};
  REQUIRE(lines.size() > keys.size() + 3);
  std::map<std::string, std::string> values;
  for (std::size_t i = 0; i < keys.size(); ++i) {
    const std::string prefix = keys[i] + ": ";
    INFO("line " << i << ": " << lines[i]);
    REQUIRE(lines[i].compare(0, prefix.size(), prefix) == 0);
    values[keys[i]] = lines[i].substr(prefix.size());
  }
  CHECK(lines[keys.size()].empty());
  CHECK(values["name"] == j["name"].get<std::string>());
  CHECK(values["input"] == "1x48x48");
  CHECK(values["classes"] == "10");
  CHECK(values["labels"].rfind("10 (T-shirt/top, Trouser,", 0) == 0);
  CHECK(values["params_dense"] == std::to_string(j["params_dense"].get<std::uint64_t>()));
  CHECK(values["nonzeros"] == std::to_string(j["nonzeros"].get<std::uint64_t>()));
  CHECK(values["file_bytes"] == std::to_string(j["file_bytes"].get<std::uint64_t>()));
  CHECK(values["isa"] == j["isa"].get<std::string>());
  CHECK(values["test_accuracy"] == "-");

  // Table: header row, one row per layer, a total row; 13 blank-free fields each.
  const std::vector<std::string> table(lines.begin() + long(keys.size()) + 1, lines.end());
  REQUIRE(table.size() == j["layers"].size() + 2);
  CHECK(fields(table.front()) ==
        std::vector<std::string>{"index", "name", "type", "window", "act", "input", "output",
                                 "params_dense", "nonzeros", "density", "bytes", "precision",
                                 "kernel"});
  for (std::size_t i = 0; i < j["layers"].size(); ++i) {
    const std::vector<std::string> row = fields(table[i + 1]);
    const json& layer = j["layers"][i];
    INFO(table[i + 1]);
    REQUIRE(row.size() == 13);
    CHECK(row[0] == std::to_string(i));
    CHECK(row[1] == layer["name"].get<std::string>());
    CHECK(row[2] == layer["type"].get<std::string>());
    CHECK(row[7] == std::to_string(layer["params_dense"].get<std::uint64_t>()));
    CHECK(row[8] == std::to_string(layer["nonzeros"].get<std::uint64_t>()));
    CHECK(row[10] == std::to_string(layer["bytes"].get<std::uint64_t>()));
    CHECK(row[11] == layer["precision"].get<std::string>());
  }
  const std::vector<std::string> total = fields(table.back());
  REQUIRE(total.size() == 13);
  CHECK(total[0] == "total");
  CHECK(total[7] == values["params_dense"]);
  CHECK(total[8] == values["nonzeros"]);
  CHECK(total[10] == values["weight_bytes"]);
  // conv1 of the demo model: 7x7/2, ReLU, 1x1x48x48 -> 1x64x24x24.
  const std::vector<std::string> conv1 = fields(table[1]);
  CHECK(conv1[1] == "conv1");
  CHECK(conv1[3] == "7x7/2");
  CHECK(conv1[4] == "relu");
  CHECK(conv1[5] == "1x1x48x48");
  CHECK(conv1[6] == "1x64x24x24");
}

TEST_CASE("run: five lines, best first, labelled") {
  const ProcessResult r = run({"run", kModel, "--input", kSample});
  CHECK(r.err.empty());
  const std::vector<std::string> lines = split_lines(r.out);
  REQUIRE(lines.size() == 5);
  const std::regex line_format(R"(([1-5]) (\d\.\d{4}) (\d+) (.+))");
  double previous = 2, sum = 0;
  std::set<int> classes;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::smatch m;
    INFO(lines[i]);
    REQUIRE(std::regex_match(lines[i], m, line_format));
    CHECK(std::stoi(m[1]) == int(i) + 1);
    const double p = std::stod(m[2]);
    CHECK(p <= previous);
    previous = p;
    sum += p;
    const int c = std::stoi(m[3]);
    REQUIRE(c < 10);
    CHECK(m[4] == kLabels[std::size_t(c)]);
    classes.insert(c);
  }
  CHECK(classes.size() == 5);
  CHECK(sum <= 1.0005);

  const json j = run_json({"run", kModel, "--input", kSample, "--json", "--top", "10"});
  REQUIRE(j["top"].size() == 10);
  double total = 0;
  for (const json& e : j["top"]) total += e["probability"].get<double>();
  CHECK(total == doctest::Approx(1.0).epsilon(1e-4));
  CHECK(j["input_shape"] == json({1, 1, 48, 48}));
  CHECK(j["softmax_applied"] == false);  // the demo model ends in a softmax
}

TEST_CASE("run: every PGM/PPM encoding of one image gives the same answer") {
  const std::string dir = scratch_dir();
  const gnrt::tools::Image image = gnrt::tools::read_pnm(kSample);
  REQUIRE(image.channels == 1);
  const std::size_t n = image.pixels.size();

  std::ostringstream p2;
  p2 << "P2\n# ascii copy\n" << image.width << " " << image.height << "\n255\n";
  for (std::uint8_t v : image.pixels) p2 << int(v) << "\n";
  const std::string text = p2.str();
  gnrt::tools::write_file(dir + "/ascii.pgm", std::vector<std::uint8_t>(text.begin(), text.end()));

  const std::string h16 =
      "P5\n" + std::to_string(image.width) + " " + std::to_string(image.height) + "\n65535\n";
  std::vector<std::uint8_t> b16(h16.begin(), h16.end());
  for (std::uint8_t v : image.pixels) {
    b16.push_back(v);  // v * 257 = (v << 8) | v: scales back to exactly v
    b16.push_back(v);
  }
  gnrt::tools::write_file(dir + "/sixteen.pgm", b16);

  gnrt::tools::Image rgb = image;
  rgb.channels = 3;
  rgb.pixels.clear();
  for (std::size_t i = 0; i < n; ++i) rgb.pixels.insert(rgb.pixels.end(), 3, image.pixels[i]);
  gnrt::tools::write_pnm(dir + "/color.ppm", rgb);

  const json base = run_json({"run", kModel, "--input", kSample, "--json", "--top", "10"});
  const std::vector<float> expected = probabilities(base);
  for (const char* name : {"ascii.pgm", "sixteen.pgm"}) {
    INFO(name);
    const json j = run_json({"run", kModel, "--input", dir + "/" + name, "--json", "--top", "10"});
    check_close(probabilities(j), expected, 0.0f);
  }
  // Gray -> RGB -> gray may round differently inside the runtime; allow float noise.
  const json color =
      run_json({"run", kModel, "--input", dir + "/color.ppm", "--json", "--top", "10"});
  check_close(probabilities(color), expected, 1e-3f);
}

TEST_CASE("run: raw float32 input equals the normalized image") {
  const std::string dir = scratch_dir();
  const json info = run_json({"info", kModel, "--json"});
  const float mean = info["normalization"]["mean"][0].get<float>();
  const float std_dev = info["normalization"]["std"][0].get<float>();

  // A constant image at the plan's own size needs no resizing, so both paths must agree.
  const std::string h = "P5\n48 48\n255\n";
  std::vector<std::uint8_t> pgm(h.begin(), h.end());
  pgm.insert(pgm.end(), 48 * 48, 128);
  gnrt::tools::write_file(dir + "/gray128.pgm", pgm);
  const float value = (128.0f / 255.0f - mean) / std_dev;
  std::vector<std::uint8_t> raw(48 * 48 * sizeof(float));
  for (std::size_t i = 0; i < 48 * 48; ++i) std::memcpy(&raw[i * 4], &value, 4);
  gnrt::tools::write_file(dir + "/gray128.f32", raw);
  gnrt::tools::write_file(dir + "/gray128.bin", raw);

  const std::vector<float> from_image = probabilities(
      run_json({"run", kModel, "--input", dir + "/gray128.pgm", "--json", "--top", "10"}));
  const std::vector<float> from_raw = probabilities(
      run_json({"run", kModel, "--input", dir + "/gray128.f32", "--json", "--top", "10"}));
  check_close(from_raw, from_image, 1e-4f);
  const std::vector<float> forced =
      probabilities(run_json({"run", kModel, "--input", dir + "/gray128.bin", "--raw",
                              "--raw-shape", "1,48,48", "--json", "--top", "10"}));
  check_close(forced, from_raw, 0.0f);

  // A raw shape picks the plan size: 1x40x40 floats.
  std::vector<std::uint8_t> raw40(40 * 40 * sizeof(float), 0);
  gnrt::tools::write_file(dir + "/zeros40.f32", raw40);
  const json j = run_json(
      {"run", kModel, "--input", dir + "/zeros40.f32", "--raw-shape", "1,40,40", "--json"});
  CHECK(j["input_shape"] == json({1, 1, 40, 40}));
}

TEST_CASE("run: --profile times every operator; --threads gives the same answer") {
  const json base = run_json({"run", kModel, "--input", kSample, "--json", "--top", "10"});
  const json j = run_json({"run", kModel, "--input", kSample, "--json", "--top", "10", "--profile",
                           "5", "--threads", "2"});
  CHECK(j["top"] == base["top"]);  // threads and extra runs change nothing in the answer
  const json& p = j["profile"];
  CHECK(p["runs"] == 5);
  CHECK(p["threads"] == 2);
  const json info = run_json({"info", kModel, "--json"});
  REQUIRE(p["operators"].size() == info["layers"].size());
  double sum = 0;
  for (std::size_t k = 0; k < p["operators"].size(); ++k) {
    const json& op = p["operators"][k];
    CHECK(op["index"] == k);
    CHECK(op["name"] == info["layers"][k]["name"]);
    CHECK(!op["kernel"].get<std::string>().empty());
    CHECK(op["median_ms"].get<double>() >= 0.0);
    sum += op["median_ms"].get<double>();
  }
  CHECK(sum > 0.0);
  CHECK(p["operators_sum_ms"].get<double>() == doctest::Approx(sum));
  CHECK(p["run_median_ms"].get<double>() > 0.0);

  const ProcessResult text = run({"run", kModel, "--input", kSample, "--profile", "3"});
  CHECK(text.out.find("profile: 3 runs, 1 thread(s)") != std::string::npos);
  CHECK(text.out.find("conv1") != std::string::npos);
  run({"run", kModel, "--input", kSample, "--profile", "0"}, 2);  // usage error
}

TEST_CASE("run: one model file at several input sizes") {
  for (int size : {32, 64, 224}) {
    INFO("size " << size);
    const json j =
        run_json({"run", kModel, "--input", kSample, "--size", std::to_string(size), "--json"});
    CHECK(j["input_shape"] == json({1, 1, size, size}));
    CHECK(j["top"].size() == 5);
  }
}

TEST_CASE("eval: last line format, and the same answers as run") {
  constexpr int kCount = 16;
  const ProcessResult r =
      run({"eval", kModel, "--idx-images", kData + "/images.idx", "--idx-labels",
           kData + "/labels.idx.gz", "--limit", std::to_string(kCount)});
  const std::vector<std::string> lines = split_lines(r.out);
  REQUIRE_FALSE(lines.empty());
  std::smatch m;
  REQUIRE(std::regex_match(lines.back(), m, std::regex(R"(accuracy=([01]\.\d{4}) n=(\d+))")));
  CHECK(m[2] == std::to_string(kCount));
  CHECK(r.err.find("gnrt eval: 16/16 images") != std::string::npos);

  // Classify the same images one by one with `gnrt run` and count hits.
  const std::string dir = scratch_dir();
  const gnrt::tools::IdxImages images = gnrt::tools::read_idx_images(kData + "/images.idx");
  const gnrt::tools::IdxLabels labels = gnrt::tools::read_idx_labels(kData + "/labels.idx");
  int correct = 0;
  for (int i = 0; i < kCount; ++i) {
    gnrt::tools::Image image;
    image.width = images.width;
    image.height = images.height;
    image.channels = 1;
    image.pixels.assign(images.image(i), images.image(i) + images.width * images.height);
    const std::string path = dir + "/item" + std::to_string(i) + ".pgm";
    gnrt::tools::write_pnm(path, image);
    const json j = run_json({"run", kModel, "--input", path, "--json", "--top", "1"});
    correct += j["top"][0]["class"].get<int>() == labels.labels[std::size_t(i)];
  }
  char expected[64];
  std::snprintf(expected, sizeof(expected), "accuracy=%.4f n=%d", double(correct) / kCount, kCount);
  CHECK(lines.back() == expected);
}

TEST_CASE("eval: gzipped and raw files, and threads, give identical results") {
  const ProcessResult one = run({"eval", kModel, "--idx-images", kData + "/images.idx",
                                 "--idx-labels", kData + "/labels.idx"});
  const ProcessResult two = run({"eval", kModel, "--idx-images", kData + "/images.idx.gz",
                                 "--idx-labels", kData + "/labels.idx.gz", "--threads", "2"});
  CHECK(split_lines(one.out).back() == split_lines(two.out).back());
  CHECK(split_lines(one.out).back().find("n=64") != std::string::npos);
}

TEST_CASE("eval: --fashion-mnist uses the installed test set") {
  struct stat st {};
  if (::stat(GNRT_TEST_FASHION_MNIST_DIR "/t10k-images-idx3-ubyte.gz", &st) != 0) {
    MESSAGE("Fashion-MNIST not installed; skipped");
    return;
  }
  const ProcessResult r = run({"eval", kModel, "--fashion-mnist", "--limit", "40"});
  CHECK(std::regex_match(split_lines(r.out).back(), std::regex(R"(accuracy=[01]\.\d{4} n=40)")));
}

TEST_CASE("classify (the C example) prints what gnrt run prints") {
  const ProcessResult cli = run({"run", kModel, "--input", kSample});
  const std::vector<std::string> args = {kClassify, kModel, kSample};
  const ProcessResult example = gnrt::testing::run_process(args, 120);
  REQUIRE(example.started);
  REQUIRE_FALSE(example.signaled);
  REQUIRE(example.exit_code == 0);
  CHECK(split_lines(example.out).size() == 5);
  CHECK(example.out == cli.out);

  const ProcessResult bad = gnrt::testing::run_process({kClassify, kModel, kModel}, 120);
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("not a binary PGM/PPM") != std::string::npos);
  const ProcessResult bad_model = gnrt::testing::run_process({kClassify, kSample, kSample}, 120);
  CHECK(bad_model.exit_code == 1);
  CHECK(bad_model.err.find("loading the model") != std::string::npos);
}

TEST_CASE("run: a logits model gets a softmax; a model without labels prints '-'") {
  const std::string model = kData + "/logits.gnrt";
  const ProcessResult r = run({"run", model, "--input", kSample});
  const std::vector<std::string> lines = split_lines(r.out);
  REQUIRE(lines.size() == 4);  // --top 5, but only 4 outputs
  double sum = 0;
  for (const std::string& line : lines) {
    std::smatch m;
    INFO(line);
    REQUIRE(std::regex_match(line, m, std::regex(R"([1-4] (\d\.\d{4}) [0-3] -)")));
    sum += std::stod(m[1]);
  }
  CHECK(sum == doctest::Approx(1.0).epsilon(0.001));
  const json j = run_json({"run", model, "--input", kSample, "--json"});
  CHECK(j["softmax_applied"] == true);
  CHECK(j["top"][0]["label"] == "");
}

TEST_CASE("info: dense layers count their real nonzeros, in agreement with the runtime") {
  const std::string model = kData + "/logits.gnrt";
  const json j = run_json({"info", model, "--json"});
  REQUIRE(j["layers"].size() == 3);
  const json& conv = j["layers"][0];
  CHECK(conv["weight_layout"] == "dense");
  CHECK(conv["params_dense"] == 36);
  // ramp() has zeros at i*7 % 11 == 5 (i = 7, 18, 29) plus the two set to zero.
  CHECK(conv["nonzeros"] == 31);
  CHECK(conv["bytes"] == 36 * 4 + 4 * 4);
  const json& fc = j["layers"][2];
  CHECK(fc["weight_layout"] == "sparse_rows");
  CHECK(fc["params_dense"] == 16);
  std::uint64_t params = 0, nonzeros = 0;
  for (const json& layer : j["layers"]) {
    params += layer["params_dense"].get<std::uint64_t>();
    nonzeros += layer["nonzeros"].get<std::uint64_t>();
  }
  CHECK(params == j["params_dense"].get<std::uint64_t>());
  CHECK(nonzeros == j["nonzeros"].get<std::uint64_t>());
  CHECK(j["labels"].empty());
  CHECK(j["pruning"].is_null() == false);  // the builder always writes a summary

  // Blanks in names become '_' in the table; the header keeps the name as is.
  const ProcessResult text = run({"info", model});
  CHECK(text.out.find("\nname: test logits model\n") != std::string::npos);
  CHECK(text.out.find("labels: 0\n") != std::string::npos);
}

TEST_CASE("info: a model that cannot be planned at its default size is still described") {
  const ProcessResult r = run({"info", kData + "/unplannable.gnrt", "--json"});
  const json j = json::parse(r.out);
  CHECK(j["isa"].is_null());
  CHECK(j["arena_bytes"].is_null());
  CHECK(j["plan_error"].get<std::string>().find("GNRT_RESOURCE_LIMIT") != std::string::npos);
  CHECK(j["input"]["height"] == 12000);
  CHECK(r.err.rfind("gnrt: warning: ", 0) == 0);
}
