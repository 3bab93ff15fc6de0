// gn-convert export-onnx end to end: models/googlenet-fmnist-16x.gnrt exported to float32 and int8
// QDQ ONNX, checked with python3-onnx's checker, run in ONNX Runtime (bench/ort, onnxruntime-node;
// the test fails, does not skip, without it) against libgnrt on real Fashion-MNIST test images at
// two input sizes; bad input gives a one-line error and writes nothing.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "data/dataset.h"
#include "gnrt/gnrt.h"
#include "gnrt/googlenet.h"
#include "subprocess.h"
#include "test_util.h"

#include <doctest/doctest.h>

using namespace gnconvert;
using namespace gnconvert_test;

namespace {

const std::string kRoot = GNRT_SOURCE_DIR;
const std::string kModel = kRoot + "/models/googlenet-fmnist-16x.gnrt";
const std::string kFashion = "/usr/share/datasets/fashion-mnist";

Result convert(const std::string& args, const TempDir& tmp) {
  return run_gn_convert(GN_CONVERT_PATH, args, tmp);
}

gnrt::testing::ProcessResult run(const std::vector<std::string>& argv, const TempDir& tmp) {
  gnrt::testing::ProcessResult p = gnrt::testing::run_process(argv, 600, tmp.path);
  REQUIRE_MESSAGE(p.started, "cannot start " << argv[0] << ": " << p.error);
  return p;
}

void require_ort_installed() {
  struct stat st {};
  const std::string dir = kRoot + "/bench/ort/node_modules/onnxruntime-node";
  REQUIRE_MESSAGE(::stat(dir.c_str(), &st) == 0,
                  "onnxruntime-node is not installed in "
                      << dir << " (run scripts/install-deps.sh or 'npm ci --ignore-scripts' in "
                      << "bench/ort); the ONNX tests need it");
}

// python3-onnx: onnx.checker.check_model and the contract's input, output and metadata.
void check_onnx(const std::string& path, const std::string& precision, const TempDir& tmp) {
  const std::string script =
      "import onnx, sys\n"
      "m = onnx.load(sys.argv[1])\n"
      "onnx.checker.check_model(m)\n"
      "meta = {p.key: p.value for p in m.metadata_props}\n"
      "assert m.opset_import[0].version == 13, m.opset_import\n"
      "g = m.graph\n"
      "assert [i.name for i in g.input] == ['input'], g.input\n"
      "assert [o.name for o in g.output] == ['output'], g.output\n"
      "dims = [d.dim_value or d.dim_param for d in g.input[0].type.tensor_type.shape.dim]\n"
      "assert dims == [1, 1, 'height', 'width'], dims\n"
      "assert meta['gnrt.precision'] == sys.argv[2], meta\n"
      "assert meta['gnrt.source'] == 'googlenet-fmnist-16x.gnrt', meta\n"
      "assert meta['gnrt.default_height'] == '48' and meta['gnrt.input_channels'] == '1', meta\n"
      "assert len(meta['gnrt.labels'].split(',')) == 10, meta\n"
      "assert len(meta['gnrt.mean'].split(',')) == 1 and float(meta['gnrt.std']) > 0, meta\n"
      "assert (sys.argv[2] == 'fp32') == ('gnrt.calibration' not in meta), meta\n"
      "print('ok', len(g.node))\n";
  const auto p = run({GNRT_TEST_PYTHON, "-c", script, path, precision}, tmp);
  INFO(p.out << p.err);
  REQUIRE(p.exit_code == 0);
}

struct Images {
  int count = 0, height = 0, width = 0;
  std::vector<float> data;  // count x 1 x height x width
  std::vector<int> labels;
};

// Bilinear with half-pixel centres and normalization, as gnrt_plan_set_input_image_u8 does
// (checked below against it through libgnrt's outputs).
Images preprocess(const ImageSet& set, int first, int count, int height, int width, float mean,
                  float std_dev) {
  Images out;
  out.count = count;
  out.height = height;
  out.width = width;
  for (int n = first; n < first + count; ++n) {
    const std::uint8_t* px = set.image(static_cast<std::size_t>(n));
    const float sy_scale = static_cast<float>(set.height) / height;
    const float sx_scale = static_cast<float>(set.width) / width;
    for (int y = 0; y < height; ++y) {
      const float sy = std::max(0.0f, (y + 0.5f) * sy_scale - 0.5f);
      const int y0 = std::min(static_cast<int>(sy), set.height - 1);
      const int y1 = std::min(y0 + 1, set.height - 1);
      for (int x = 0; x < width; ++x) {
        const float sx = std::max(0.0f, (x + 0.5f) * sx_scale - 0.5f);
        const int x0 = std::min(static_cast<int>(sx), set.width - 1);
        const int x1 = std::min(x0 + 1, set.width - 1);
        auto at = [&](int yy, int xx) { return static_cast<float>(px[yy * set.width + xx]); };
        const float top = at(y0, x0) + (at(y0, x1) - at(y0, x0)) * (sx - x0);
        const float bottom = at(y1, x0) + (at(y1, x1) - at(y1, x0)) * (sx - x0);
        const float v = top + (bottom - top) * (sy - y0);
        out.data.push_back((v / 255.0f - mean) / std_dev);
      }
    }
    out.labels.push_back(set.labels[static_cast<std::size_t>(n)]);
  }
  return out;
}

void write_floats(const std::string& path, const std::vector<float>& v) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(v.data()),
            static_cast<std::streamsize>(v.size() * sizeof(float)));
  REQUIRE(out.good());
}

// libgnrt outputs (C API) for every image; also checks that the test's preprocessing is
// libgnrt's own (gnrt_plan_set_input_image_u8 on the raw pixels gives the same outputs).
std::vector<float> run_gnrt(const Images& images, const ImageSet& raw, int first,
                            const std::string& path = kModel) {
  gnrt_model* model = nullptr;
  REQUIRE(gnrt_model_load_file(path.c_str(), &model) == GNRT_OK);
  std::unique_ptr<gnrt_model, void (*)(gnrt_model*)> owned(model, gnrt_model_destroy);
  gnrt_options options;
  gnrt_options_init(&options);
  options.input_height = images.height;
  options.input_width = images.width;
  gnrt_plan* plan = nullptr;
  REQUIRE(gnrt_plan_create(model, &options, &plan) == GNRT_OK);
  std::unique_ptr<gnrt_plan, void (*)(gnrt_plan*)> owned_plan(plan, gnrt_plan_destroy);
  const std::size_t per = static_cast<std::size_t>(images.height * images.width);
  std::vector<float> out, one(10), from_pixels(10);
  for (int n = 0; n < images.count; ++n) {
    REQUIRE(gnrt_plan_set_input(plan, images.data.data() + n * per, per) == GNRT_OK);
    REQUIRE(gnrt_plan_run(plan) == GNRT_OK);
    REQUIRE(gnrt_plan_get_output(plan, one.data(), one.size()) == GNRT_OK);
    out.insert(out.end(), one.begin(), one.end());
    REQUIRE(gnrt_plan_set_input_image_u8(plan, raw.image(static_cast<std::size_t>(first + n)),
                                         raw.height, raw.width, 1) == GNRT_OK);
    REQUIRE(gnrt_plan_run(plan) == GNRT_OK);
    REQUIRE(gnrt_plan_get_output(plan, from_pixels.data(), from_pixels.size()) == GNRT_OK);
    for (std::size_t c = 0; c < one.size(); ++c)
      CHECK(from_pixels[c] == doctest::Approx(one[c]).epsilon(1e-5));
  }
  return out;
}

// One ORT run per image through bench/ort/ort.js run, as the shared runner does it.
std::vector<float> run_ort_js(const std::string& onnx, const Images& images, const TempDir& tmp) {
  const std::size_t per = static_cast<std::size_t>(images.height * images.width);
  std::vector<float> out;
  for (int n = 0; n < images.count; ++n) {
    const std::string in = tmp / "in.f32", result = tmp / "out.f32";
    write_floats(in, std::vector<float>(images.data.begin() + static_cast<long>(n * per),
                                        images.data.begin() + static_cast<long>((n + 1) * per)));
    const auto p =
        run({"/usr/bin/node", kRoot + "/bench/ort/ort.js", "run", "--model", onnx, "--input", in,
             "--shape", "1,1," + std::to_string(images.height) + "," + std::to_string(images.width),
             "--output", result},
            tmp);
    INFO(p.err);
    REQUIRE(p.exit_code == 0);
    const std::vector<float> logits = read_floats(result);
    REQUIRE(logits.size() == 10);
    out.insert(out.end(), logits.begin(), logits.end());
  }
  return out;
}

// All images in one ORT session (tests/converter/ort_many.js).
std::vector<float> run_ort_many(const std::string& onnx, const Images& images, const TempDir& tmp) {
  const std::string in = tmp / "many.f32", result = tmp / "many-out.f32";
  write_floats(in, images.data);
  const auto p =
      run({"/usr/bin/node", kRoot + "/tests/converter/ort_many.js", "--model", onnx, "--input", in,
           "--shape", "1,1," + std::to_string(images.height) + "," + std::to_string(images.width),
           "--output", result},
          tmp);
  INFO(p.err);
  REQUIRE(p.exit_code == 0);
  std::vector<float> out = read_floats(result);
  REQUIRE(out.size() == static_cast<std::size_t>(images.count) * 10);
  return out;
}

double max_relative_difference(const std::vector<float>& a, const std::vector<float>& b) {
  REQUIRE(a.size() == b.size());
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i)
    worst = std::max(worst, std::fabs(a[i] - b[i]) / std::max(1.0, std::fabs(double(a[i]))));
  return worst;
}

std::vector<float> log_probabilities(std::vector<float> p) {
  for (float& v : p) v = std::log(std::max(v, 1e-30f));
  return p;
}

std::vector<int> argmax(const std::vector<float>& v) {
  std::vector<int> out;
  for (std::size_t i = 0; i < v.size(); i += 10)
    out.push_back(static_cast<int>(std::max_element(v.begin() + long(i), v.begin() + long(i + 10)) -
                                   (v.begin() + long(i))));
  return out;
}

ImageSet test_images() {
  return read_idx(kFashion + "/t10k-images-idx3-ubyte.gz", kFashion + "/t10k-labels-idx1-ubyte.gz",
                  10);
}

bool exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// The model's normalization, read through the C API.
std::pair<float, float> normalization() {
  gnrt_model* model = nullptr;
  REQUIRE(gnrt_model_load_file(kModel.c_str(), &model) == GNRT_OK);
  float mean = 0, std_dev = 0;
  REQUIRE(gnrt_model_normalization(model, 0, &mean, &std_dev) == GNRT_OK);
  gnrt_model_destroy(model);
  return {mean, std_dev};
}

}  // namespace

TEST_CASE("export-onnx fp32: ONNX Runtime matches libgnrt at 48x48, 64x64 and 224x224") {
  require_ort_installed();
  TempDir tmp;
  const std::string onnx = tmp / "m.onnx";
  const Result r = convert("export-onnx --model " + kModel + " -o " + onnx, tmp);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "fp32"));
  check_onnx(onnx, "fp32", tmp);

  const ImageSet raw = test_images();
  const auto [mean, std_dev] = normalization();
  // The 16x model ends in Softmax: its output is probabilities. Their logarithms are the logits
  // up to one constant per image, so they are compared too, at the logits' tolerance.
  for (const auto& [size, count] : std::vector<std::pair<int, int>>{{48, 4}, {64, 3}, {224, 2}}) {
    CAPTURE(size);
    const int first = size * 7;
    const Images images = preprocess(raw, first, count, size, size, mean, std_dev);
    const std::vector<float> gnrt = run_gnrt(images, raw, first);
    const std::vector<float> ort = run_ort_js(onnx, images, tmp);
    const double worst = max_relative_difference(gnrt, ort);
    const double worst_log =
        max_relative_difference(log_probabilities(gnrt), log_probabilities(ort));
    MESSAGE("size " << size << ": largest |ORT - libgnrt| / max(1, |value|): probabilities "
                    << worst << ", log-probabilities " << worst_log);
    CHECK(worst <= 1e-4);
    CHECK(worst_log <= 1e-4);
    CHECK(argmax(gnrt) == argmax(ort));
  }
}

TEST_CASE("export-onnx fp32: torchvision layout (ceil-mode pools) matches libgnrt") {
  // Random weights (logits output) in the torchvision layout: pool1..pool3 3x3/2 and pool4 2x2/2
  // in ceil mode without padding. The sizes make ceil mode add a window (48: 24 -> 12 -> 6 -> 3 ->
  // 2; 57 and 224 odd sizes on the way) that ONNX Runtime must clip as gnrt does.
  require_ort_installed();
  TempDir tmp;
  gnrt::GoogLeNetConfig config;
  config.layout = gnrt::GoogLeNetLayout::kTorchvision;
  config.in_channels = 1;
  config.num_classes = 10;
  config.height = config.width = 48;
  config.softmax = false;
  gnrt::ModelMetadata meta;
  meta.name = "torchvision-random";
  meta.mean = {0.25f};
  meta.std = {0.5f};
  const std::string model = tmp / "tv.gnrt", onnx = tmp / "tv.onnx";
  write_bytes(model, gnrt::build_googlenet(config, gnrt::random_pruned_weights(7, 0.25), meta));
  const Result r = convert("export-onnx --model " + model + " -o " + onnx, tmp);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  const ImageSet raw = test_images();
  for (const auto& [size, count] : std::vector<std::pair<int, int>>{{48, 2}, {57, 2}, {224, 1}}) {
    CAPTURE(size);
    const Images images = preprocess(raw, 20, count, size, size, 0.25f, 0.5f);
    const std::vector<float> gnrt = run_gnrt(images, raw, 20, model);
    const std::vector<float> ort = run_ort_js(onnx, images, tmp);
    const double worst = max_relative_difference(gnrt, ort);
    double largest = 0;
    for (float v : gnrt) largest = std::max(largest, std::fabs(double(v)));
    MESSAGE("torchvision layout, size " << size << ": largest |ORT - libgnrt| / max(1, |logit|) "
                                        << worst << ", largest |logit| " << largest);
    CHECK(worst <= 1e-4);
    CHECK(largest > 1e-3);  // the comparison means something only if the logits are not ~0
  }
}

TEST_CASE("export-onnx --int8: QDQ graph agrees with fp32 on test images") {
  require_ort_installed();
  TempDir tmp;
  const std::string fp32 = tmp / "m.onnx", int8 = tmp / "m-int8.onnx";
  REQUIRE(convert("export-onnx --model " + kModel + " -o " + fp32, tmp).status == 0);
  const Result r = convert(
      "export-onnx --model " + kModel + " -o " + int8 + " --int8 --calibration-images 64", tmp);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "int8-qdq"));
  CHECK(contains(r.out, "calibration graph vs libgnrt"));
  check_onnx(int8, "int8-qdq", tmp);

  const ImageSet raw = test_images();
  const auto [mean, std_dev] = normalization();
  const Images images = preprocess(raw, 0, 300, 48, 48, mean, std_dev);
  const std::vector<int> top_fp32 = argmax(run_ort_many(fp32, images, tmp));
  const std::vector<int> top_int8 = argmax(run_ort_many(int8, images, tmp));
  int agree = 0, correct_fp32 = 0, correct_int8 = 0;
  for (int n = 0; n < images.count; ++n) {
    agree += top_fp32[n] == top_int8[n];
    correct_fp32 += top_fp32[n] == images.labels[n];
    correct_int8 += top_int8[n] == images.labels[n];
  }
  MESSAGE("int8 vs fp32 top-1 agreement " << agree << "/" << images.count << "; correct fp32 "
                                          << correct_fp32 << ", int8 " << correct_int8);
  CHECK(agree >= images.count * 97 / 100);
  CHECK(correct_int8 >= correct_fp32 - images.count * 2 / 100);
}

TEST_CASE("export-onnx: bad input gives one line, a nonzero exit and no file") {
  TempDir tmp;
  const std::string out = tmp / "m.onnx";
  struct Case {
    std::string args, message;
    int status;
  };
  write_bytes(tmp / "junk.gnrt", std::vector<std::uint8_t>(4096, 0x5a));
  std::vector<std::uint8_t> truncated;
  {
    std::ifstream in(kModel, std::ios::binary);
    truncated.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    truncated.resize(truncated.size() / 2);
  }
  write_bytes(tmp / "truncated.gnrt", truncated);
  ::mkdir((tmp / "a-directory").c_str(), 0755);
  const std::vector<Case> cases = {
      {"export-onnx --model " + tmp / "missing.gnrt" + " -o " + out, "missing.gnrt", 2},
      {"export-onnx --model " + tmp / "junk.gnrt" + " -o " + out, "cannot load", 1},
      {"export-onnx --model " + tmp / "truncated.gnrt" + " -o " + out, "cannot load", 1},
      {"export-onnx --model " + kModel + " -o " + out + " --int8 --data-dir " + tmp / "nodata",
       "nodata", 1},
      {"export-onnx --model " + kModel + " -o " + out + " --calibration-images 8", "--int8", 2},
      {"export-onnx --model " + kModel + " -o " + tmp / "no/such/dir/m.onnx", "m.onnx", 1},
      {"export-onnx --model " + kModel + " -o /proc/gnrt-test.onnx", "gnrt-test.onnx", 1},
      {"export-onnx --model " + kModel + " -o " + tmp / "a-directory", "a-directory", 1},
      {"export-onnx --model " + kModel, "--output", 2},
  };
  for (const Case& c : cases) {
    CAPTURE(c.args);
    const Result r = convert(c.args, tmp);
    INFO(r.out << r.err);
    CHECK(r.status == c.status);
    CHECK(lines(r.err) == 1);
    CHECK(contains(r.err, "gn-convert: error:"));
    CHECK(contains(r.err, c.message));
    CHECK(!exists(out));
  }
  CHECK(!exists(out + ".tmp"));
  CHECK(!exists(tmp / "a-directory.tmp"));
}
