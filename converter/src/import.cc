// gn-convert import: torchvision GoogLeNet (TorchScript) -> gn-convert checkpoint.
#include "import.h"

#include <torch/script.h>

#include <cstdio>
#include <map>
#include <set>

#include "options_json.h"

namespace gnconvert {

void make_dirs(const std::string& path);  // commands.cc
bool file_exists(const std::string& path);

using json = nlohmann::json;

namespace {

// torchvision's branch names and ours, per inception block.
const std::pair<const char*, const char*> kBranchNames[] = {
    {".branch1.", ".b1."},          {".branch2.0.", ".b2_reduce."}, {".branch2.1.", ".b2."},
    {".branch3.0.", ".b3_reduce."}, {".branch3.1.", ".b3."},        {".branch4.1.", ".b4."},
};

std::string replace_branch(const std::string& name, bool to_ours) {
  if (name.rfind("inception", 0) != 0) return name;
  const std::size_t dot = name.find('.');
  if (dot == std::string::npos) return name;
  for (const auto& names : kBranchNames) {
    const std::string from = to_ours ? names.first : names.second;
    const std::string to = to_ours ? names.second : names.first;
    if (name.compare(dot, from.size(), from) == 0) {
      return name.substr(0, dot) + to + name.substr(dot + from.size());
    }
  }
  return name;
}

std::string first_line(const std::string& s) {
  const auto newline = s.find('\n');
  return newline == std::string::npos ? s : s.substr(0, newline);
}

std::string shape_text(c10::IntArrayRef sizes) {
  std::string s;
  for (std::size_t i = 0; i < sizes.size(); ++i) s += (i ? "x" : "") + std::to_string(sizes[i]);
  return s.empty() ? "scalar" : s;
}

// TorchScript GoogLeNets warn on every call ("Scripted GoogleNet always returns GoogleNetOutputs
// Tuple"); the import handles the tuple, so the warning is noise.
struct SilentWarnings : c10::WarningHandler {
  void process(const c10::SourceLocation&, const std::string&, const bool) override {}
};

// torchvision's transform_input constants (torchvision/models/googlenet.py, _transform_input).
constexpr double kTransformScale[3] = {0.229 / 0.5, 0.224 / 0.5, 0.225 / 0.5};
constexpr double kTransformShift[3] = {(0.485 - 0.5) / 0.5, (0.456 - 0.5) / 0.5,
                                       (0.406 - 0.5) / 0.5};

}  // namespace

std::string from_torchvision_name(const std::string& name) { return replace_branch(name, true); }
std::string to_torchvision_name(const std::string& name) { return replace_branch(name, false); }

Normalization fold_transform_input(const Normalization& norm) {
  if (norm.mean.size() != 3 || norm.std.size() != 3) {
    throw std::invalid_argument("transform_input needs 3 input channels");
  }
  Normalization folded = norm;
  for (int c = 0; c < 3; ++c) {
    folded.mean[c] =
        static_cast<float>(norm.mean[c] - kTransformShift[c] * norm.std[c] / kTransformScale[c]);
    folded.std[c] = static_cast<float>(norm.std[c] / kTransformScale[c]);
  }
  return folded;
}

ImportResult import_torchscript(Session& s, const ImportOptions& o) {
  const std::string& path = o.model;
  if (!file_exists(path)) throw std::runtime_error(path + ": no such file");
  torch::jit::Module module;
  try {
    module = torch::jit::load(path);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": not a TorchScript module (" +
                             first_line(e.what_without_backtrace()) +
                             "); save it with torch.jit.script(model).save(path)");
  }
  if (module.hasattr("meta") && module.attr("meta").isString()) {
    throw std::runtime_error(path + ": is a gn-convert checkpoint, not a TorchScript model");
  }

  std::map<std::string, torch::Tensor> theirs;
  for (const auto& p : module.named_parameters(/*recurse=*/true)) theirs[p.name] = p.value;
  for (const auto& b : module.named_buffers(/*recurse=*/true)) theirs[b.name] = b.value;
  const std::string not_layout = path + ": not torchvision's GoogLeNet layout: ";
  auto need = [&](const std::string& name) -> torch::Tensor {
    auto it = theirs.find(name);
    if (it == theirs.end())
      throw std::runtime_error(not_layout + "it has no tensor '" + name + "'");
    return it->second;
  };
  const torch::Tensor conv1 = need("conv1.conv.weight");
  if (conv1.dim() != 4 || conv1.size(0) != 64 || conv1.size(2) != 7 || conv1.size(3) != 7) {
    throw std::runtime_error(not_layout + "conv1.conv.weight is " + shape_text(conv1.sizes()) +
                             ", expected 64xCx7x7");
  }
  const torch::Tensor fc = need("fc.weight");
  if (fc.dim() != 2 || fc.size(1) != 1024) {
    throw std::runtime_error(not_layout + "fc.weight is " + shape_text(fc.sizes()) +
                             ", expected classes x 1024");
  }
  ImportResult r;
  r.in_channels = static_cast<int>(conv1.size(1));
  r.classes = static_cast<int>(fc.size(0));
  r.aux_heads = theirs.count("aux1.fc2.weight") > 0 || theirs.count("aux2.fc2.weight") > 0;
  if (o.in_channels != 0 && o.in_channels != r.in_channels) {
    throw std::runtime_error(path + ": the model takes " + std::to_string(r.in_channels) +
                             " input channels, --channels says " + std::to_string(o.in_channels));
  }
  if (o.classes != 0 && o.classes != r.classes) {
    throw std::runtime_error(path + ": the model has " + std::to_string(r.classes) +
                             " classes, --classes says " + std::to_string(o.classes));
  }

  // The dataset: split and normalization as `train` computes them.
  s.data = o.data;
  s.model = ModelOptions{};
  load_data(s);
  if (s.model.in_channels != r.in_channels) {
    throw std::runtime_error(path + ": the model takes " + std::to_string(r.in_channels) +
                             " input channels, " + s.data.dataset + " images have " +
                             std::to_string(s.model.in_channels) +
                             " (a grayscale model needs a 1-channel conv1, see docs/converter.md)");
  }
  if (s.model.classes != r.classes) {
    throw std::runtime_error(path + ": the model has " + std::to_string(r.classes) + " classes, " +
                             s.data.dataset + " has " + std::to_string(s.model.classes));
  }
  s.model.aux_heads = r.aux_heads;
  s.model.layout = "torchvision";
  create_model(s);

  // Every tensor of ours from theirs, shapes checked; then nothing of theirs may be left over.
  std::set<std::string> used;
  {
    torch::NoGradGuard no_grad;
    auto copy = [&](const std::string& ours, torch::Tensor& target) {
      const std::string name = to_torchvision_name(ours);
      const torch::Tensor source = need(name);
      if (source.sizes() != target.sizes()) {
        throw std::runtime_error(not_layout + name + " is " + shape_text(source.sizes()) +
                                 ", torchvision's GoogLeNet has " + shape_text(target.sizes()));
      }
      target.copy_(source.detach().to(target.dtype()));
      used.insert(name);
    };
    for (auto& p : s.net->named_parameters(/*recurse=*/true)) copy(p.key(), p.value());
    for (auto& b : s.net->named_buffers(/*recurse=*/true)) copy(b.key(), b.value());
  }
  for (const auto& kv : theirs) {
    if (!used.count(kv.first)) {
      throw std::runtime_error(not_layout + "unexpected tensor '" + kv.first + "' (" +
                               shape_text(kv.second.sizes()) + ")");
    }
  }
  r.tensors = static_cast<int>(used.size());

  if (!o.mean.empty() || !o.std.empty()) {
    auto expand = [&](const std::vector<float>& v, const char* flag) {
      if (v.size() == 1) return std::vector<float>(static_cast<std::size_t>(r.in_channels), v[0]);
      if (v.size() != static_cast<std::size_t>(r.in_channels)) {
        throw std::invalid_argument(std::string(flag) + " needs 1 or " +
                                    std::to_string(r.in_channels) + " values");
      }
      return v;
    };
    if (o.mean.empty() || o.std.empty())
      throw std::invalid_argument("--mean and --std go together");
    s.norm.mean = expand(o.mean, "--mean");
    s.norm.std = expand(o.std, "--std");
    for (float v : s.norm.std) {
      if (!(v > 0)) throw std::invalid_argument("--std values must be positive");
    }
  }

  // Geometry: no spatial kernel may see only 1x1 maps at the chosen resolution.
  auto bad = degenerate_layers(measure_geometry(s.net, s.data.height, s.data.width));
  if (!bad.empty()) {
    throw std::runtime_error("at " + std::to_string(s.data.height) + "x" +
                             std::to_string(s.data.width) + ", " + std::to_string(bad.size()) +
                             " layers (first " + bad.front() +
                             ") apply a spatial kernel to a 1x1 map; use a larger --size");
  }

  // transform_input: the scripted module's constant when there is one, else the option, else
  // whichever reproduces the module's outputs.
  int transform = o.transform_input == "on" ? 1 : o.transform_input == "off" ? 0 : -1;
  if (transform >= 0) {
    r.transform_source = "option";
  } else if (module.type()->hasConstant("transform_input") &&
             module.type()->getConstant("transform_input").isBool()) {
    transform = module.type()->getConstant("transform_input").toBool() ? 1 : 0;
    r.transform_source = "module";
  } else if (module.hasattr("transform_input") && module.attr("transform_input").isBool()) {
    transform = module.attr("transform_input").toBool() ? 1 : 0;
    r.transform_source = "module";
  }
  if (transform == 1 && r.in_channels != 3) {
    throw std::runtime_error(path + ": transform_input needs 3 input channels, the model has " +
                             std::to_string(r.in_channels));
  }

  // Compare with the module on the first validation images (test images without a validation
  // split), fed to the module with the dataset's normalization.
  const std::vector<std::size_t>& pool =
      s.split.validation.empty() ? s.test_indices : s.split.validation;
  const ImageSet& set = s.split.validation.empty() ? s.dataset.test : s.dataset.train;
  std::vector<std::size_t> images(
      pool.begin(), pool.begin() + std::min<std::size_t>(pool.size(), o.verify_images));
  if (images.empty())
    throw std::runtime_error("no images to compare the import with the module on");
  const Normalization norm = s.norm;
  torch::NoGradGuard no_grad;
  s.net->eval();
  module.eval();
  const torch::Tensor x =
      make_batch(set, images, 0, images.size(), norm, s.data.height, s.data.width, nullptr, 0);
  torch::Tensor expected;
  try {
    SilentWarnings silent;
    c10::Warning::WarningHandlerGuard guard(&silent);
    c10::IValue out = module.forward({x});
    if (out.isTuple() && !out.toTupleRef().elements().empty()) out = out.toTupleRef().elements()[0];
    if (!out.isTensor())
      throw std::runtime_error(path + ": the module's forward returns no logits tensor");
    expected = out.toTensor().to(torch::kFloat);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": running the TorchScript module at " +
                             std::to_string(s.data.height) + "x" + std::to_string(s.data.width) +
                             " failed: " + first_line(e.what_without_backtrace()));
  }
  if (expected.dim() != 2 || expected.size(0) != static_cast<int64_t>(images.size()) ||
      expected.size(1) != r.classes) {
    throw std::runtime_error(path + ": the module's output is " + shape_text(expected.sizes()) +
                             ", expected " + std::to_string(images.size()) + "x" +
                             std::to_string(r.classes));
  }
  r.images = static_cast<int>(images.size());
  r.max_abs_logit = expected.abs().max().item<double>();
  const double bound = o.tolerance * std::max(1.0, r.max_abs_logit);
  auto difference = [&](bool folded) {
    torch::Tensor input =
        folded ? make_batch(set, images, 0, images.size(), fold_transform_input(norm),
                            s.data.height, s.data.width, nullptr, 0)
               : x;
    return (s.net->forward(input) - expected).abs().max().item<double>();
  };
  if (transform >= 0) {
    r.max_abs_diff = difference(transform == 1);
  } else {
    r.max_abs_diff = difference(false);
    transform = 0;
    if (!(r.max_abs_diff <= bound) && r.in_channels == 3) {
      const double folded = difference(true);
      if (folded <= bound) {
        r.max_abs_diff = folded;
        transform = 1;
      }
    }
    r.transform_source = "outputs";
  }
  r.transform_input = transform == 1;
  if (!(r.max_abs_diff <= bound)) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "logits differ from the module's by %.3g (bound %.3g)",
                  r.max_abs_diff, bound);
    throw std::runtime_error(not_layout + buf +
                             " (expected ceil-mode max pools and a 3x3 third branch)");
  }
  r.dataset_norm = norm;
  if (r.transform_input) s.norm = fold_transform_input(norm);
  s.net->train();
  return r;
}

int run_import(const ImportOptions& o) {
  set_threads(o.run.threads);
  Session s;
  s.run = o.run;
  s.quiet = true;
  ImportResult r = import_torchscript(s, o);

  make_dirs(s.run.out_dir);
  const std::string ckpt = s.checkpoint_path();
  if (file_exists(ckpt) && !o.force) {
    throw std::runtime_error(ckpt + " exists; choose another --out or pass --force");
  }
  json info = {
      {"source", o.model},
      {"layout", "torchvision"},
      {"in_channels", r.in_channels},
      {"classes", r.classes},
      {"aux_heads", r.aux_heads},
      {"transform_input", r.transform_input},
      {"transform_input_from", r.transform_source},
      {"tensors", r.tensors},
      {"verify_images", r.images},
      {"max_abs_diff", r.max_abs_diff},
      {"max_abs_logit", r.max_abs_logit},
      {"normalization", {{"mean", s.norm.mean}, {"std", s.norm.std}}},
      {"dataset_normalization", {{"mean", r.dataset_norm.mean}, {"std", r.dataset_norm.std}}},
      {"data", s.data}};
  s.extra["import"] = info;
  s.command_lines = {o.run.command_line};
  save_checkpoint(s, ckpt, nullptr);
  write_file_atomic(s.run.out_dir + "/import.json", info.dump(2) + "\n");
  std::printf(
      "imported %s: torchvision GoogLeNet, %d input channel(s), %d classes, aux heads %s, "
      "transform_input %s (%s), %d tensors, %lld weights\n",
      o.model.c_str(), r.in_channels, r.classes, r.aux_heads ? "yes" : "no",
      r.transform_input ? "on, folded into the normalization" : "off", r.transform_source.c_str(),
      r.tensors, static_cast<long long>(count_params(s.net, false)));
  std::printf(
      "verify: %d images, largest |logit difference| TorchScript vs import %.3g "
      "(bound %.3g)\n",
      r.images, r.max_abs_diff, o.tolerance * std::max(1.0, r.max_abs_logit));
  std::printf("wrote %s\n", ckpt.c_str());
  return 0;
}

}  // namespace gnconvert
