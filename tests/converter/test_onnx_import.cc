// gn-convert import of ONNX models: a torchvision GoogLeNet pruned 90 % by
// torch.nn.utils.prune and exported by torch.onnx.export (make_onnx_models.py, Debian's
// python3-torch) becomes a sparse .gnrt whose logits in libgnrt match torch's and ONNX Runtime's
// (bench/ort/ort.js; the test fails, not skips, without onnxruntime-node); a graph with every
// supported operator matches ONNX Runtime; unsupported nodes and attributes, missing
// initializers, shape mismatches and corrupt files give one-line errors and write nothing.
#include <sys/wait.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "cli_runner.h"
#include "gnrt/gnrt.h"
#include "import/onnx_import.h"
#include "subprocess.h"
#include "test_util.h"
#include "util/files.h"

#include <doctest/doctest.h>

using namespace gnconvert;
using namespace gnconvert_test;

namespace {

Result run(const std::string& args, const TempDir& tmp) {
  return run_gn_convert(GN_CONVERT_PATH, args, tmp);
}

// The Python fixture, built once per test process. Fails (does not skip) without python3-torch,
// python3-torchvision or python3-onnx.
const TempDir& models() {
  static TempDir dir;
  static bool built = false;
  if (!built) {
    const std::string log = run_python_fixture(GNRT_TEST_PYTHON, GNRT_ONNX_SCRIPT, dir);
    INFO("python fixture output: " << log);
    REQUIRE_MESSAGE(log.empty(),
                    "make_onnx_models.py failed (needs python3-torch, torchvision, onnx)");
    built = true;
  }
  return dir;
}

// ONNX Runtime through bench/ort/ort.js: one inference, raw float32 in and out.
std::vector<float> run_ort(const std::string& model, const std::string& input,
                           const std::string& shape, const TempDir& tmp) {
  const std::string out = tmp / "ort.out.f32";
  const std::string log = tmp / "ort.log";
  std::remove(out.c_str());
  const std::string cmd = std::string(GNRT_NODE) + " " + GNRT_ORT_JS + " run --model " + model +
                          " --input " + input + " --shape " + shape + " --output " + out +
                          " --threads 1 >" + log + " 2>&1";
  const int status = std::system(cmd.c_str());
  INFO("ort.js output: " << read_file(log));
  REQUIRE_MESSAGE((WIFEXITED(status) && WEXITSTATUS(status) == 0),
                  "ONNX Runtime (bench/ort, onnxruntime-node) failed or is not installed");
  return read_floats(out);
}

struct Loaded {
  std::string bytes;  // libgnrt may keep pointing into the buffer
  gnrt_model* model = nullptr;
  explicit Loaded(const std::string& path) : bytes(read_file(path)) {
    REQUIRE(gnrt_model_load_buffer(bytes.data(), bytes.size(), &model) == GNRT_OK);
  }
  ~Loaded() { gnrt_model_destroy(model); }
  gnrt_model_info info() const {
    gnrt_model_info i;
    REQUIRE(gnrt_model_get_info(model, &i) == GNRT_OK);
    return i;
  }
  // One inference at size x size on a raw NCHW float32 input (already normalized).
  std::vector<float> run(const std::vector<float>& input, int size) const {
    gnrt_options options;
    gnrt_options_init(&options);
    options.input_height = size;
    options.input_width = size;
    gnrt_plan* plan = nullptr;
    REQUIRE(gnrt_plan_create(model, &options, &plan) == GNRT_OK);
    int dims[4] = {0, 0, 0, 0};
    REQUIRE(gnrt_plan_output_shape(plan, dims) == GNRT_OK);
    std::vector<float> out(static_cast<std::size_t>(dims[0]) * dims[1] * dims[2] * dims[3]);
    REQUIRE(gnrt_plan_set_input(plan, input.data(), input.size()) == GNRT_OK);
    REQUIRE(gnrt_plan_run(plan) == GNRT_OK);
    REQUIRE(gnrt_plan_get_output(plan, out.data(), out.size()) == GNRT_OK);
    gnrt_plan_destroy(plan);
    return out;
  }
};

// Largest |got - want| / max(1, |want|) over all elements.
double max_relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  REQUIRE(got.size() == want.size());
  double worst = 0;
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double d =
        std::fabs(double(got[i]) - want[i]) / std::max(1.0, std::fabs(double(want[i])));
    worst = std::max(worst, d);
  }
  return worst;
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, std::fabs(double(x)));
  return m;
}

}  // namespace

TEST_CASE(
    "a GoogLeNet pruned by torch.nn.utils.prune imports as a sparse .gnrt matching torch and ORT") {
  const TempDir& m = models();
  TempDir tmp;
  const nlohmann::json meta = read_json(m / "meta.json");
  const std::string gnrt_path = tmp / "googlenet.gnrt";
  Result r = run("import " + (m / "googlenet.onnx") + " --output " + gnrt_path, tmp);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "size from metadata"));
  CHECK(contains(r.out, "normalization (metadata)"));
  MESSAGE(r.out);

  Loaded model(gnrt_path);
  const gnrt_model_info info = model.info();
  const double weights = meta["googlenet"]["weights"].get<double>();
  const double nonzeros = meta["googlenet"]["nonzeros"].get<double>();
  CHECK(info.params_dense == static_cast<std::uint64_t>(weights));
  // torch's zeros are exactly the pruned entries: the stored nonzeros are torch's count (a weight
  // could only be lost if BatchNorm folding scaled it to zero), about 10 % of the weights.
  CHECK(info.nonzeros == static_cast<std::uint64_t>(nonzeros));
  CHECK(std::fabs(double(info.nonzeros) / weights - 0.10) < 0.005);
  CHECK(info.input_channels == 3);
  CHECK(info.default_height == meta["size"].get<int>());
  const std::uint64_t onnx_bytes = read_file(m / "googlenet.onnx").size();
  const std::uint64_t gnrt_bytes = read_file(gnrt_path).size();
  MESSAGE("nonzeros " << info.nonzeros << " / " << info.params_dense << ", .onnx " << onnx_bytes
                      << " bytes, .gnrt " << gnrt_bytes << " bytes");
  CHECK(gnrt_bytes * 3 < onnx_bytes);  // sparse: well under a third of the dense file

  for (const int size : {meta["size"].get<int>(), meta["small"].get<int>()}) {
    CAPTURE(size);
    const std::string base = m / ("googlenet." + std::to_string(size));
    const std::vector<float> input = read_floats(base + ".in.f32");
    const std::vector<float> torch_logits = read_floats(base + ".torch.f32");
    const std::vector<float> ort_logits =
        run_ort(m / "googlenet.onnx", base + ".in.f32",
                "1,3," + std::to_string(size) + "," + std::to_string(size), tmp);
    const std::vector<float> got = model.run(input, size);
    REQUIRE(got.size() == 1000);
    const double vs_torch = max_relative_error(got, torch_logits);
    const double vs_ort = max_relative_error(got, ort_logits);
    MESSAGE("size " << size << ": max |logit| " << max_abs(torch_logits)
                    << ", max relative error vs torch " << vs_torch << ", vs ORT " << vs_ort);
    CHECK(max_abs(torch_logits) > 3.0);  // the comparison is not between near-zero outputs
    CHECK(vs_torch <= 1e-4);
    CHECK(vs_ort <= 1e-4);
  }
}

TEST_CASE("every supported operator matches ONNX Runtime (BN folded, Relu fused, MatMul+Add)") {
  const TempDir& m = models();
  TempDir tmp;
  const std::string out = tmp / "ops.gnrt";
  Result r = run(
      "import " + (m / "ops.onnx") + " --output " + out + " --mean 0.5 0.4 0.3 --std 0.2 0.25 0.3",
      tmp);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "1 BatchNorm folded, 3 Relu fused, 2 dropped"));
  CHECK(contains(r.out, "normalization (options)"));
  CHECK(contains(r.out, "(softmax)"));
  Loaded model(out);
  const gnrt_model_info info = model.info();
  CHECK(info.default_height == 16);
  CHECK(info.nonzeros < info.params_dense);  // c1's zeros are pruned entries
  for (const int size : {16, 15}) {
    CAPTURE(size);
    const std::string in = m / ("ops." + std::to_string(size) + ".in.f32");
    const std::vector<float> want = run_ort(
        m / "ops.onnx", in, "1,3," + std::to_string(size) + "," + std::to_string(size), tmp);
    const std::vector<float> got = model.run(read_floats(in), size);
    CHECK(max_relative_error(got, want) <= 1e-5);
  }
}

TEST_CASE("unsupported nodes and attributes name the node and write nothing") {
  const TempDir& m = models();
  TempDir tmp;
  struct Case {
    const char* file;
    const char* message;
  };
  const Case cases[] = {
      {"leaky", "node 'leaky_1' (LeakyRelu): operator LeakyRelu is not supported"},
      {"grouped", "node 'grouped_conv' (Conv): group 3 is not supported"},
      {"dilated", "node 'dilated_conv' (Conv): dilation 2 is not supported"},
      {"missing", "node 'conv_missing' (Conv): input 'w_missing' is not an initializer"},
      {"mismatch", "node 'fc_bad' (Gemm): B has 7 input features, A has 4"},
  };
  for (const Case& c : cases) {
    CAPTURE(c.file);
    const std::string out = tmp / (std::string(c.file) + ".gnrt");
    Result r = run("import " + (m / (std::string(c.file) + ".onnx")) + " --output " + out, tmp);
    INFO(r.out << r.err);
    CHECK(r.status != 0);
    CHECK(contains(r.err, c.message));
    CHECK(lines(r.err) == 1);
    CHECK_FALSE(file_exists(out));
    CHECK_FALSE(file_exists(out + ".tmp"));
  }
}

TEST_CASE("corrupt and truncated files are clear errors") {
  const TempDir& m = models();
  TempDir tmp;
  const std::string good = read_file(m / "googlenet.onnx");
  write_file_atomic(tmp / "truncated.onnx", good.substr(0, good.size() / 2));
  write_file_atomic(tmp / "text.onnx", "this is not a protobuf file\n");
  write_file_atomic(tmp / "empty.onnx", "");
  for (const char* name : {"truncated", "text", "empty"}) {
    CAPTURE(name);
    const std::string out = tmp / (std::string(name) + ".gnrt");
    Result r = run("import " + (tmp / (std::string(name) + ".onnx")) + " --output " + out, tmp);
    INFO(r.out << r.err);
    CHECK(r.status != 0);
    CHECK(contains(r.err, "not an ONNX model"));
    CHECK(lines(r.err) == 1);
    CHECK_FALSE(file_exists(out));
  }
  // The importer itself, on every prefix length class of a small valid model: an error or a
  // model, never a crash.
  const std::string ops = read_file(m / "ops.onnx");
  for (std::size_t n = 0; n < ops.size(); n += 97) {
    try {
      import_onnx(ops.substr(0, n), "ops.onnx", {});
    } catch (const std::runtime_error& e) {
      CHECK(contains(e.what(), "ops.onnx: "));
    }
  }
  // And on single-byte corruptions: an error or a model, never a crash.
  std::mt19937 rng(16);
  for (int k = 0; k < 400; ++k) {
    std::string bad = ops;
    bad[rng() % bad.size()] = static_cast<char>(rng());
    try {
      import_onnx(bad, "ops.onnx", {});
    } catch (const std::runtime_error& e) {
      CHECK(contains(e.what(), "ops.onnx: "));
    }
  }
}

TEST_CASE("import options: --format, --size, and the TorchScript options stay separate") {
  const TempDir& m = models();
  TempDir tmp;
  write_file_atomic(tmp / "ops.bin", read_file(m / "ops.onnx"));
  const std::string out = tmp / "ops.gnrt";
  Result r = run("import " + (tmp / "ops.bin") + " --format onnx --size 20 --output " + out, tmp);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "size from --size"));
  CHECK(Loaded(out).info().default_height == 20);
  Result no_output = run("import " + (m / "ops.onnx"), tmp);
  CHECK(no_output.status == 2);
  CHECK(contains(no_output.err, "--output"));
  Result both = run("import " + (m / "ops.onnx") + " --output x.gnrt --out dir", tmp);
  CHECK(both.status == 2);
  Result ts =
      run("import " + (m / "ops.onnx") + " --format torchscript --output x.gnrt --out d", tmp);
  CHECK(ts.status == 2);
  CHECK(contains(ts.err, "--output is for ONNX models"));
}

TEST_CASE("--checkpoint: a GoogLeNet in the torchvision layout becomes a gn-convert checkpoint") {
  const TempDir& m = models();
  TempDir tmp;
  const std::string gnrt_path = tmp / "gray.gnrt", ckpt = tmp / "gray.pt";
  Result r = run("import " + (m / "gray.onnx") + " --output " + gnrt_path + " --checkpoint " +
                     ckpt + " --dataset fashion-mnist",
                 tmp);
  INFO(r.out << r.err);
  REQUIRE(r.status == 0);
  CHECK(contains(r.out, "torchvision layout"));
  MESSAGE(r.out);
  // gn-convert exports the checkpoint again (verified against LibTorch); libgnrt gives the same
  // logits as the direct import and as torch.
  const std::string again = tmp / "again.gnrt";
  Result e = run("export " + ckpt + " --output " + again + " --no-softmax --skip-test-eval", tmp);
  INFO(e.out << e.err);
  REQUIRE(e.status == 0);
  const std::vector<float> input = read_floats(m / "gray.in.f32");
  const std::vector<float> torch_logits = read_floats(m / "gray.torch.f32");
  const std::vector<float> direct = Loaded(gnrt_path).run(input, 48);
  const std::vector<float> exported = Loaded(again).run(input, 48);
  CHECK(max_relative_error(direct, torch_logits) <= 1e-4);
  CHECK(max_relative_error(exported, torch_logits) <= 1e-4);
  CHECK(Loaded(again).info().nonzeros == Loaded(gnrt_path).info().nonzeros);

  // gn-convert prunes it further (from 50 % to 25 % of the weights) with one short retraining.
  std::ofstream(tmp / "recipe.json") << R"({
    "mode": "std",
    "target": {"scope": "training", "compression": 4},
    "schedule": {"type": "iterative", "iterations": 1},
    "retrain": {"epochs": 1, "lr": 0.005, "batch": 32},
    "bn_recalibration_batches": 2
  })";
  Result prune = run("prune --recipe " + (tmp / "recipe.json") + " --from " + ckpt +
                         " --limit-train 256 --limit-validation 64 --limit-test 64 --threads 1 "
                         "--progress-seconds 60 --out " +
                         (tmp / "pruned"),
                     tmp);
  INFO(prune.err);
  REQUIRE(prune.status == 0);
  const nlohmann::json report = read_json(tmp / "pruned/report.json");
  const long params = report["training_graph"]["params"];
  const long pruned_nonzeros = report["training_graph"]["nonzeros"];
  CHECK(params == static_cast<long>(Loaded(gnrt_path).info().params_dense));
  CHECK(pruned_nonzeros <= params / 4);
  CHECK(pruned_nonzeros >= params / 4 - params / 400);

  // Not a GoogLeNet, or a GoogLeNet whose classes the dataset does not have: nothing written.
  Result classes = run("import " + (m / "googlenet.onnx") + " --output " + (tmp / "g.gnrt") +
                           " --checkpoint " + (tmp / "g.pt") + " --dataset fashion-mnist",
                       tmp);
  CHECK(classes.status == 1);
  CHECK(contains(classes.err, "1000 classes; fashion-mnist has 1 and 10"));
  CHECK_FALSE(file_exists(tmp / "g.gnrt"));
  CHECK_FALSE(file_exists(tmp / "g.pt"));
  Result ops = run("import " + (m / "ops.onnx") + " --output " + (tmp / "ops.gnrt") +
                       " --checkpoint " + (tmp / "ops.pt"),
                   tmp);
  CHECK(ops.status == 1);
  CHECK(contains(ops.err, "--checkpoint needs one of gn-convert's GoogLeNet layouts"));
  CHECK_FALSE(file_exists(tmp / "ops.gnrt"));
  CHECK_FALSE(file_exists(tmp / "ops.pt"));
}
