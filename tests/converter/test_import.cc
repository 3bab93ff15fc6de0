// gn-convert import: torchvision GoogLeNets built and saved as TorchScript by Python
// (make_torchvision_googlenet.py, run with /usr/bin/python3 and Debian's python3-torchvision) are
// imported, compared with Python's own outputs, exported to .gnrt and run in libgnrt, pruned,
// retrained and exported again; bad input gives one-line errors.
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "export/export.h"
#include "gnrt/gnrt.h"
#include "import/torchscript_import.h"
#include "cli_runner.h"
#include "subprocess.h"
#include "test_util.h"
#include "train/checkpoint.h"

#include "doctest_torch.h"  // last: after LibTorch's glog macros

using namespace gnconvert;
using namespace gnconvert_test;

namespace {

Result run(const std::string& args, const TempDir& tmp) {
  return run_gn_convert(GN_CONVERT_PATH, args, tmp);
}

// The Python fixture, built once per test process. Fails (does not skip) when python3 or
// torchvision is missing: the setup script installs them.
const TempDir& python_models() {
  static TempDir dir;
  static bool built = false;
  if (!built) {
    const std::string log = run_python_fixture(GNRT_TEST_PYTHON, GNRT_IMPORT_SCRIPT, dir);
    INFO("python fixture output: " << log);
    const std::string failure = std::string(GNRT_TEST_PYTHON) +
                                " could not build the torchvision models (needs python3-torch and "
                                "python3-torchvision)";
    REQUIRE_MESSAGE(log.empty(), failure);
    built = true;
  }
  return dir;
}

// A toy CIFAR-10 directory (5 training batches + test batch) of `per_file` records each.
void write_toy_cifar(const std::string& dir, int per_file) {
  std::mt19937 rng(3);
  auto batch = [&](const std::string& name) {
    std::vector<std::uint8_t> bytes;
    for (int i = 0; i < per_file; ++i) {
      const int label = static_cast<int>(rng() % 10);
      bytes.push_back(static_cast<std::uint8_t>(label));
      for (int p = 0; p < 3072; ++p) {
        const int channel = p / 1024;
        bytes.push_back(
            static_cast<std::uint8_t>((rng() % 128) + (channel == label % 3 ? 100 : 0)));
      }
    }
    write_bytes(dir + "/" + name, bytes);
  };
  for (int i = 1; i <= 5; ++i) batch("data_batch_" + std::to_string(i) + ".bin");
  batch("test_batch.bin");
}

// Runs an exported .gnrt (logits output) in libgnrt on float inputs (N x C x H x W).
std::vector<float> run_gnrt(const std::vector<std::uint8_t>& bytes,
                            const std::vector<float>& inputs, int n, int c, int h, int w,
                            int classes) {
  gnrt_model* model = nullptr;
  REQUIRE(gnrt_model_load_buffer(bytes.data(), bytes.size(), &model) == GNRT_OK);
  gnrt_options options;
  gnrt_options_init(&options);
  options.input_height = h;
  options.input_width = w;
  gnrt_plan* plan = nullptr;
  REQUIRE(gnrt_plan_create(model, &options, &plan) == GNRT_OK);
  std::vector<float> out(static_cast<std::size_t>(n) * classes);
  const std::size_t image = static_cast<std::size_t>(c) * h * w;
  for (int i = 0; i < n; ++i) {
    REQUIRE(gnrt_plan_set_input(plan, inputs.data() + i * image, image) == GNRT_OK);
    REQUIRE(gnrt_plan_run(plan) == GNRT_OK);
    REQUIRE(gnrt_plan_get_output(plan, out.data() + static_cast<std::size_t>(i) * classes,
                                 static_cast<std::size_t>(classes)) == GNRT_OK);
  }
  gnrt_plan_destroy(plan);
  gnrt_model_destroy(model);
  return out;
}

struct Diff {
  double max_abs_diff = 0;
  double max_abs = 0;  // of the reference
  double bound(double relative) const { return relative * std::max(1.0, max_abs); }
};

Diff compare(const std::vector<float>& got, const std::vector<float>& reference) {
  REQUIRE(got.size() == reference.size());
  Diff d;
  for (std::size_t i = 0; i < got.size(); ++i) {
    d.max_abs_diff =
        std::max(d.max_abs_diff, std::fabs(static_cast<double>(got[i]) - reference[i]));
    d.max_abs = std::max(d.max_abs, std::fabs(static_cast<double>(reference[i])));
  }
  return d;
}

std::vector<float> torch_logits(Session& s, const std::vector<float>& inputs, int n, int c, int h,
                                int w) {
  torch::NoGradGuard no_grad;
  s.net->eval();
  auto x = torch::from_blob(const_cast<float*>(inputs.data()), {n, c, h, w}).clone();
  auto y = s.net->forward(x).contiguous();
  return std::vector<float>(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
}

std::vector<float> exported_logits(Session& s, const std::vector<float>& inputs, int n, int c,
                                   int h, int w) {
  ExportSettings logits;
  logits.softmax = false;
  return run_gnrt(export_model(s, logits), inputs, n, c, h, w, s.model.classes);
}

}  // namespace

TEST_CASE("the torchvision layout keeps the layer names and has torchvision's geometry") {
  CHECK(from_torchvision_name("inception3a.branch1.conv.weight") == "inception3a.b1.conv.weight");
  CHECK(from_torchvision_name("inception4e.branch2.0.bn.running_var") ==
        "inception4e.b2_reduce.bn.running_var");
  CHECK(from_torchvision_name("inception5b.branch3.1.conv.weight") == "inception5b.b3.conv.weight");
  CHECK(from_torchvision_name("inception3b.branch4.1.bn.bias") == "inception3b.b4.bn.bias");
  CHECK(from_torchvision_name("aux1.fc1.weight") == "aux1.fc1.weight");
  CHECK(from_torchvision_name("conv1.bn.num_batches_tracked") == "conv1.bn.num_batches_tracked");
  CHECK(to_torchvision_name("inception4a.b3_reduce.conv.weight") ==
        "inception4a.branch3.0.conv.weight");
  CHECK(to_torchvision_name("inception4a.b2.conv.weight") == "inception4a.branch2.1.conv.weight");

  set_threads(1);
  ModelConfig config;
  set_layout(&config, "torchvision");
  CHECK(config.dropout == doctest::Approx(0.2));
  CHECK_THROWS(set_layout(&config, "resnet"));
  config.in_channels = 3;
  config.num_classes = 1000;
  GoogLeNet net(config);
  gnrt::GoogLeNetConfig graph;
  graph.layout = gnrt::GoogLeNetLayout::kTorchvision;
  auto specs = gnrt::googlenet_layers(graph);
  std::vector<Layer> deployed;
  for (const auto& layer : model_layers(net)) {
    if (layer.deployed) deployed.push_back(layer);
  }
  REQUIRE(specs.size() == deployed.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    CAPTURE(specs[i].name);
    CHECK(specs[i].name == deployed[i].name);
    CHECK(std::vector<int64_t>(specs[i].shape.begin(), specs[i].shape.end()) ==
          deployed[i].weight.sizes().vec());
  }
  // torchvision's GoogLeNet has 6,624,904 parameters at 1000 classes without aux heads; ours
  // with aux heads adds aux1 and aux2 (conv 128 + BN, fc1 2048->1024, fc2 1024->1000).
  std::int64_t params = 0, aux = 0;
  for (const auto& p : net->named_parameters()) {
    params += p.value().numel();
    if (p.key().rfind("aux", 0) == 0) aux += p.value().numel();
  }
  CHECK(params - aux == 6624904);
  // 224x224: 112 -> 56 (ceil-mode pool without padding) -> 28 -> 14 -> 7, as torchvision.
  auto geometry = measure_geometry(net, 224, 224);
  auto find = [&](const std::string& name) {
    for (const auto& g : geometry) {
      if (g.name == name) return g;
    }
    FAIL("no layer " << name);
    return geometry.front();
  };
  CHECK(find("conv1").out_h == 112);
  CHECK(find("conv2").in_h == 56);
  CHECK(find("inception3a.b1").in_h == 28);
  CHECK(find("inception4a.b1").in_h == 14);
  CHECK(find("inception5a.b1").in_h == 7);
  CHECK(find("inception3a.b3").kernel == 3);
  // 48x48: 24 -> 12 -> 6 -> 3 -> 2 (the 2x2/2 ceil-mode pool4), no 1x1 maps for 3x3 kernels.
  geometry = measure_geometry(net, 48, 48);
  CHECK(find("conv2").in_h == 12);
  CHECK(find("inception3a.b1").in_h == 6);
  CHECK(find("inception4a.b1").in_h == 3);
  CHECK(find("inception5a.b1").in_h == 2);
  CHECK(degenerate_layers(geometry).empty());
  CHECK_FALSE(degenerate_layers(measure_geometry(net, 32, 32)).empty());
}

TEST_CASE("a torchvision GoogLeNet from Python: import, eval, export, prune, retrain, export") {
  const TempDir& py = python_models();
  const auto meta = read_json(py / "meta.json");
  TempDir tmp;
  write_toy_mnist(tmp.path, 160, 32);
  const std::string data = " --dataset mnist --data-dir " + tmp.path;

  Result imp =
      run("import " + (py / "gray.pt") + data + " --validation 32 --out " + (tmp / "imp"), tmp);
  INFO(imp.out << imp.err);
  REQUIRE(imp.status == 0);
  CHECK(imp.out.find("transform_input off (module)") != std::string::npos);
  CHECK(imp.out.find("verify: 8 images") != std::string::npos);
  CHECK(lines(imp.err) == 0);  // no TorchScript warnings either
  auto info = read_json(tmp / "imp/import.json");
  CHECK(info["aux_heads"] == true);
  CHECK(info["layout"] == "torchvision");

  // gn-convert's LibTorch model computes Python's function on Python's inputs.
  set_threads(1);
  Session s;
  s.quiet = true;
  load_checkpoint(s, tmp / "imp/checkpoint.pt", /*weights_only=*/false);
  CHECK(s.model.layout == "torchvision");
  CHECK(s.model.aux_heads);
  const auto inputs = read_floats(py / "gray.in.bin");
  const auto python = read_floats(py / "gray.out.bin");
  const int n = meta["gray"]["inputs"][0], c = meta["gray"]["inputs"][1];
  const int h = meta["gray"]["inputs"][2], w = meta["gray"]["inputs"][3];
  REQUIRE(c == 1);
  Diff torch_vs_python = compare(torch_logits(s, inputs, n, c, h, w), python);
  MESSAGE("imported LibTorch vs Python torchvision: largest |logit difference| "
          << torch_vs_python.max_abs_diff << ", largest |logit| " << torch_vs_python.max_abs);
  CHECK(torch_vs_python.max_abs > 2.0);
  CHECK(torch_vs_python.max_abs_diff <= torch_vs_python.bound(1e-5));

  // The exported .gnrt (BN folded, ceil-mode pools, 3x3 third branch) in libgnrt.
  Diff gnrt_vs_python = compare(exported_logits(s, inputs, n, c, h, w), python);
  MESSAGE("libgnrt (exported import) vs Python torchvision: largest |logit difference| "
          << gnrt_vs_python.max_abs_diff);
  CHECK(gnrt_vs_python.max_abs_diff <= gnrt_vs_python.bound(1e-4));

  Result eval = run("eval " + (tmp / "imp/checkpoint.pt") + " --json --data-dir " + tmp.path, tmp);
  INFO(eval.err);
  REQUIRE(eval.status == 0);
  auto e = nlohmann::json::parse(eval.out);
  CHECK(e["images"] == 32);
  // Dense (a float32 draw of torchvision's init is exactly zero once in a few million).
  CHECK(e["nonzeros_training"].get<long>() >= e["params_training"].get<long>() - 10);

  Result exp = run("export " + (tmp / "imp/checkpoint.pt") + " -o " + (tmp / "imported.gnrt") +
                       " --data-dir " + tmp.path + " --verify-images 8",
                   tmp);
  INFO(exp.out << exp.err);
  REQUIRE(exp.status == 0);
  CHECK(exp.out.find("verify: 8 validation images") != std::string::npos);

  // Prune with retraining, then export again.
  std::ofstream(tmp / "recipe.json") << R"({
    "mode": "std",
    "target": {"scope": "training", "compression": 4},
    "schedule": {"type": "iterative", "iterations": 1},
    "retrain": {"epochs": 1, "lr": 0.005, "batch": 32},
    "bn_recalibration_batches": 2
  })";
  Result prune = run("prune --recipe " + (tmp / "recipe.json") + " --from " +
                         (tmp / "imp/checkpoint.pt") + " --data-dir " + tmp.path +
                         " --threads 1 --progress-seconds 60 --out " + (tmp / "pruned"),
                     tmp);
  INFO(prune.err);
  REQUIRE(prune.status == 0);
  auto report = read_json(tmp / "pruned/report.json");
  const long params = report["training_graph"]["params"];
  const long nonzeros = report["training_graph"]["nonzeros"];
  CHECK(params == e["params_training"].get<long>());
  CHECK(nonzeros <= params / 4);
  CHECK(nonzeros >= params / 4 - params / 400);
  CHECK(report["iterations"][0].contains("after_retrain"));

  Session p;
  p.quiet = true;
  load_checkpoint(p, tmp / "pruned/checkpoint.pt", /*weights_only=*/false);
  CHECK(p.model.layout == "torchvision");
  REQUIRE_FALSE(p.masks.empty());
  for (const auto& layer : model_layers(p.net)) {
    auto it = p.masks.find(layer.name);
    if (it == p.masks.end()) continue;
    CAPTURE(layer.name);
    CHECK(layer.weight.detach().masked_select(it->second.eq(0)).abs().max().item<float>() == 0.0f);
  }
  std::vector<float> pruned_torch = torch_logits(p, inputs, n, c, h, w);
  Diff gnrt_vs_torch = compare(exported_logits(p, inputs, n, c, h, w), pruned_torch);
  MESSAGE("libgnrt vs LibTorch, pruned and retrained import: largest |logit difference| "
          << gnrt_vs_torch.max_abs_diff << ", largest |logit| " << gnrt_vs_torch.max_abs);
  CHECK(gnrt_vs_torch.max_abs_diff <= gnrt_vs_torch.bound(1e-4));
  CHECK(compare(pruned_torch, python).max_abs_diff > 1e-3);  // really changed

  Result exp2 = run("export " + (tmp / "pruned/checkpoint.pt") + " -o " + (tmp / "pruned.gnrt") +
                        " --data-dir " + tmp.path + " --verify-images 8",
                    tmp);
  INFO(exp2.out << exp2.err);
  REQUIRE(exp2.status == 0);
  CHECK(exp2.out.find("verify: 8 validation images") != std::string::npos);

  // train --init starts from the import (its layout and weights); two steps are enough here.
  Result train = run(
      "train --init " + (tmp / "imp/checkpoint.pt") + data +
          " --validation 32 --epochs 1 --batch 16 --max-steps 2 --checkpoint-steps 1 --threads 1 "
          "--progress-seconds 60 --out " +
          (tmp / "tuned"),
      tmp);
  INFO(train.err);
  REQUIRE(train.status == 0);
  auto tuned = read_checkpoint_meta(tmp / "tuned/checkpoint.pt");
  CHECK(tuned["model"]["layout"] == "torchvision");
}

TEST_CASE(
    "transform_input=True (traced, 3 channels) is detected and folded into the normalization") {
  const TempDir& py = python_models();
  const auto meta = read_json(py / "meta.json");
  TempDir tmp;
  write_toy_cifar(tmp.path, 8);
  const std::string data = " --dataset cifar10 --data-dir " + tmp.path + " --validation 8";

  Result off = run(
      "import " + (py / "rgb.pt") + data + " --transform-input off --out " + (tmp / "off"), tmp);
  CHECK(off.status == 1);
  CHECK(lines(off.err) == 1);
  CHECK(off.err.find("logits differ") != std::string::npos);

  Result imp = run("import " + (py / "rgb.pt") + data + " --out " + (tmp / "imp"), tmp);
  INFO(imp.out << imp.err);
  REQUIRE(imp.status == 0);
  CHECK(imp.out.find("transform_input on, folded into the normalization (outputs)") !=
        std::string::npos);
  auto info = read_json(tmp / "imp/import.json");
  CHECK(info["aux_heads"] == false);

  set_threads(1);
  Session s;
  s.quiet = true;
  load_checkpoint(s, tmp / "imp/checkpoint.pt", /*weights_only=*/false);
  // Python fed x; torchvision's transform made x * scale + shift of it, which is what the imported
  // network (whose normalization absorbed the transform) gets.
  auto inputs = read_floats(py / "rgb.in.bin");
  const auto python = read_floats(py / "rgb.out.bin");
  const int n = meta["rgb"]["inputs"][0], c = meta["rgb"]["inputs"][1];
  const int h = meta["rgb"]["inputs"][2], w = meta["rgb"]["inputs"][3];
  REQUIRE(c == 3);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const int channel = static_cast<int>(i / (static_cast<std::size_t>(h) * w)) % 3;
    inputs[i] = static_cast<float>(inputs[i] * meta["transform_scale"][channel].get<double>() +
                                   meta["transform_shift"][channel].get<double>());
  }
  Diff torch_vs_python = compare(torch_logits(s, inputs, n, c, h, w), python);
  MESSAGE("traced, transform_input: LibTorch vs Python largest |logit difference| "
          << torch_vs_python.max_abs_diff << ", largest |logit| " << torch_vs_python.max_abs);
  CHECK(torch_vs_python.max_abs_diff <= torch_vs_python.bound(1e-5));
  Diff gnrt_vs_python = compare(exported_logits(s, inputs, n, c, h, w), python);
  MESSAGE("libgnrt vs Python: " << gnrt_vs_python.max_abs_diff);
  CHECK(gnrt_vs_python.max_abs_diff <= gnrt_vs_python.bound(1e-4));

  // The stored normalization is the dataset's with the transform folded in:
  // (p - m') / s' == ((p - m) / s) * scale + shift for every pixel value p.
  const auto dataset_mean = info["dataset_normalization"]["mean"].get<std::vector<double>>();
  const auto dataset_std = info["dataset_normalization"]["std"].get<std::vector<double>>();
  for (int ch = 0; ch < 3; ++ch) {
    CAPTURE(ch);
    const double scale = meta["transform_scale"][ch], shift = meta["transform_shift"][ch];
    for (double pixel : {0.0, 0.3, 1.0}) {
      const double folded = (pixel - s.norm.mean[ch]) / s.norm.std[ch];
      const double transformed = (pixel - dataset_mean[ch]) / dataset_std[ch] * scale + shift;
      CHECK(folded == doctest::Approx(transformed).epsilon(1e-5));
    }
  }
}

TEST_CASE("import: bad input gives one-line errors and a nonzero exit") {
  const TempDir& py = python_models();
  TempDir tmp;
  write_toy_mnist(tmp.path, 48, 8);
  write_bytes(tmp / "junk.pt", {'P', 'K', 3, 4, 1, 2, 3});
  const std::string data = " --dataset mnist --data-dir " + tmp.path + " --validation 8";
  struct Case {
    std::string args;
    std::string expect;
  };
  const Case cases[] = {
      {"import /nonexistent/model.pt --out OUT", "model.pt"},
      {"import " + (py / "gray.pt"), "--out"},
      {"import JUNK --out OUT" + data, "not a TorchScript module"},
      {"import " + (py / "other.pt") + " --out OUT" + data, "no tensor 'conv1.conv.weight'"},
      {"import " + (py / "five.pt") + " --out OUT" + data,
       "inception3a.branch3.1.conv.weight is 32x16x5x5, torchvision's GoogLeNet has 32x16x3x3"},
      {"import " + (py / "gray.pt") + " --classes 5 --out OUT" + data, "--classes says 5"},
      {"import " + (py / "gray.pt") + " --channels 3 --out OUT" + data, "--channels says 3"},
      {"import " + (py / "rgb.pt") + " --out OUT" + data, "mnist images have 1"},
      {"import " + (py / "gray.pt") + " --size 32 --out OUT" + data, "1x1 map"},
      {"import " + (py / "gray.pt") + " --mean 0.1 0.2 --std 0.3 --out OUT" + data, "--mean needs"},
      {"import " + (py / "gray.pt") + " --transform-input on --out OUT" + data,
       "transform_input needs 3 input channels"},
      {"import " + (py / "gray.pt") + " --transform-input maybe --out OUT" + data,
       "transform-input"},
  };
  for (Case c : cases) {
    for (auto pos = c.args.find("OUT"); pos != std::string::npos; pos = c.args.find("OUT")) {
      c.args.replace(pos, 3, tmp / "out");
    }
    for (auto pos = c.args.find("JUNK"); pos != std::string::npos; pos = c.args.find("JUNK")) {
      c.args.replace(pos, 4, tmp / "junk.pt");
    }
    CAPTURE(c.args);
    Result r = run(c.args, tmp);
    CAPTURE(r.err);
    CHECK(r.status != 0);
    CHECK(lines(r.err) == 1);
    CHECK(r.err.rfind("gn-convert: error: ", 0) == 0);
    CHECK(r.err.find(c.expect) != std::string::npos);
  }
  CHECK_FALSE(std::ifstream(tmp / "out/checkpoint.pt").good());

  // A checkpoint is never overwritten without --force; a gn-convert checkpoint is not TorchScript.
  Result first = run("import " + (py / "gray.pt") + " --out " + (tmp / "out") + data, tmp);
  REQUIRE(first.status == 0);
  Result again = run("import " + (py / "gray.pt") + " --out " + (tmp / "out") + data, tmp);
  CHECK(again.status == 1);
  CHECK(again.err.find("exists") != std::string::npos);
  CHECK(run("import " + (py / "gray.pt") + " --force --out " + (tmp / "out") + data, tmp).status ==
        0);
  Result ckpt =
      run("import " + (tmp / "out/checkpoint.pt") + " --out " + (tmp / "out2") + data, tmp);
  CHECK(ckpt.status == 1);
  CHECK(lines(ckpt.err) == 1);
  CHECK(ckpt.err.find("gn-convert checkpoint") != std::string::npos);

  Result summary = run("summary --layout torchvision --classes 10 --json", tmp);
  REQUIRE(summary.status == 0);
  auto j = nlohmann::json::parse(summary.out);
  CHECK(j["layout"] == "torchvision");
  CHECK(j["totals"]["weights_training"] == 9937216);
  CHECK(j["feature_maps"]["inception5"] == "2x2");

  Result help = run("import --help", tmp);
  CHECK(help.status == 0);
  CHECK(help.out.find("--transform-input") != std::string::npos);
  CHECK(help.out.find("TorchScript") != std::string::npos);
}
