// gn-convert import: torchvision GoogLeNet (TorchScript) -> gn-convert checkpoint.
#include "import/torchscript_import.h"

#include <torch/script.h>

#include <cstdio>
#include <map>
#include <set>

#include "train/batches.h"
#include "util/files.h"

namespace gnconvert {

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

namespace {

using TensorMap = std::map<std::string, torch::Tensor>;

// The TorchScript file and its tensors, with the prefix of every layout error.
struct Source {
  std::string path;
  std::string not_layout;
  torch::jit::Module module;
  TensorMap tensors;

  torch::Tensor need(const std::string& name) const {
    auto it = tensors.find(name);
    if (it == tensors.end())
      throw std::runtime_error(not_layout + "it has no tensor '" + name + "'");
    return it->second;
  }
};

Source load_source(const std::string& path) {
  if (!file_exists(path)) throw std::runtime_error(path + ": no such file");
  Source src;
  src.path = path;
  try {
    src.module = torch::jit::load(path);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path + ": not a TorchScript module (" +
                             first_line(e.what_without_backtrace()) +
                             "); save it with torch.jit.script(model).save(path)");
  }
  if (src.module.hasattr("meta") && src.module.attr("meta").isString()) {
    throw std::runtime_error(path + ": is a gn-convert checkpoint, not a TorchScript model");
  }
  for (const auto& p : src.module.named_parameters(/*recurse=*/true)) src.tensors[p.name] = p.value;
  for (const auto& b : src.module.named_buffers(/*recurse=*/true)) src.tensors[b.name] = b.value;
  src.not_layout = path + ": not torchvision's GoogLeNet layout: ";
  return src;
}

// Input channels, classes and aux heads from conv1 and fc, checked against --channels/--classes.
void read_shape(const Source& src, const ImportOptions& o, ImportResult* r) {
  const std::string& path = src.path;
  const torch::Tensor conv1 = src.need("conv1.conv.weight");
  if (conv1.dim() != 4 || conv1.size(0) != 64 || conv1.size(2) != 7 || conv1.size(3) != 7) {
    throw std::runtime_error(src.not_layout + "conv1.conv.weight is " + shape_text(conv1.sizes()) +
                             ", expected 64xCx7x7");
  }
  const torch::Tensor fc = src.need("fc.weight");
  if (fc.dim() != 2 || fc.size(1) != 1024) {
    throw std::runtime_error(src.not_layout + "fc.weight is " + shape_text(fc.sizes()) +
                             ", expected classes x 1024");
  }
  r->in_channels = static_cast<int>(conv1.size(1));
  r->classes = static_cast<int>(fc.size(0));
  r->aux_heads =
      src.tensors.count("aux1.fc2.weight") > 0 || src.tensors.count("aux2.fc2.weight") > 0;
  if (o.in_channels != 0 && o.in_channels != r->in_channels) {
    throw std::runtime_error(path + ": the model takes " + std::to_string(r->in_channels) +
                             " input channels, --channels says " + std::to_string(o.in_channels));
  }
  if (o.classes != 0 && o.classes != r->classes) {
    throw std::runtime_error(path + ": the model has " + std::to_string(r->classes) +
                             " classes, --classes says " + std::to_string(o.classes));
  }
}

// The dataset (split and normalization as `train` computes them) and a fresh network in the
// torchvision layout.
void prepare_session(Session& s, const Source& src, const ImportOptions& o, const ImportResult& r) {
  const std::string& path = src.path;
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
}

// Every tensor of ours from theirs, shapes checked; then nothing of theirs may be left over.
// Returns the number of tensors copied.
int copy_tensors(Session& s, const Source& src) {
  std::set<std::string> used;
  {
    torch::NoGradGuard no_grad;
    auto copy = [&](const std::string& ours, torch::Tensor& target) {
      const std::string name = to_torchvision_name(ours);
      const torch::Tensor source = src.need(name);
      if (source.sizes() != target.sizes()) {
        throw std::runtime_error(src.not_layout + name + " is " + shape_text(source.sizes()) +
                                 ", torchvision's GoogLeNet has " + shape_text(target.sizes()));
      }
      target.copy_(source.detach().to(target.dtype()));
      used.insert(name);
    };
    for (auto& p : s.net->named_parameters(/*recurse=*/true)) copy(p.key(), p.value());
    for (auto& b : s.net->named_buffers(/*recurse=*/true)) copy(b.key(), b.value());
  }
  for (const auto& kv : src.tensors) {
    if (!used.count(kv.first)) {
      throw std::runtime_error(src.not_layout + "unexpected tensor '" + kv.first + "' (" +
                               shape_text(kv.second.sizes()) + ")");
    }
  }
  return static_cast<int>(used.size());
}

// --mean / --std replace the training split's statistics.
void apply_normalization_options(Session& s, const ImportOptions& o, int in_channels) {
  if (o.mean.empty() && o.std.empty()) return;
  auto expand = [&](const std::vector<float>& v, const char* flag) {
    if (v.size() == 1) return std::vector<float>(static_cast<std::size_t>(in_channels), v[0]);
    if (v.size() != static_cast<std::size_t>(in_channels)) {
      throw std::invalid_argument(std::string(flag) + " needs 1 or " + std::to_string(in_channels) +
                                  " values");
    }
    return v;
  };
  if (o.mean.empty() || o.std.empty()) throw std::invalid_argument("--mean and --std go together");
  s.norm.mean = expand(o.mean, "--mean");
  s.norm.std = expand(o.std, "--std");
  for (float v : s.norm.std) {
    if (!(v > 0)) throw std::invalid_argument("--std values must be positive");
  }
}

// transform_input: 1 / 0 from the option or the scripted module's constant, -1 when only the
// module's outputs can tell.
int transform_setting(const Source& src, const ImportOptions& o, ImportResult* r) {
  const torch::jit::Module& module = src.module;
  int transform = o.transform_input == "on" ? 1 : o.transform_input == "off" ? 0 : -1;
  if (transform >= 0) {
    r->transform_source = "option";
  } else if (module.type()->hasConstant("transform_input") &&
             module.type()->getConstant("transform_input").isBool()) {
    transform = module.type()->getConstant("transform_input").toBool() ? 1 : 0;
    r->transform_source = "module";
  } else if (module.hasattr("transform_input") && module.attr("transform_input").isBool()) {
    transform = module.attr("transform_input").toBool() ? 1 : 0;
    r->transform_source = "module";
  }
  if (transform == 1 && r->in_channels != 3) {
    throw std::runtime_error(src.path + ": transform_input needs 3 input channels, the model has " +
                             std::to_string(r->in_channels));
  }
  return transform;
}

// The module's logits on `x` (first element of a tuple output), checked for shape.
torch::Tensor module_logits(Source& src, const Session& s, const torch::Tensor& x, int classes) {
  torch::Tensor expected;
  try {
    SilentWarnings silent;
    c10::Warning::WarningHandlerGuard guard(&silent);
    c10::IValue out = src.module.forward({x});
    if (out.isTuple() && !out.toTupleRef().elements().empty()) out = out.toTupleRef().elements()[0];
    if (!out.isTensor())
      throw std::runtime_error(src.path + ": the module's forward returns no logits tensor");
    expected = out.toTensor().to(torch::kFloat);
  } catch (const c10::Error& e) {
    throw std::runtime_error(src.path + ": running the TorchScript module at " +
                             std::to_string(s.data.height) + "x" + std::to_string(s.data.width) +
                             " failed: " + first_line(e.what_without_backtrace()));
  }
  if (expected.dim() != 2 || expected.size(0) != x.size(0) || expected.size(1) != classes) {
    throw std::runtime_error(src.path + ": the module's output is " + shape_text(expected.sizes()) +
                             ", expected " + std::to_string(x.size(0)) + "x" +
                             std::to_string(classes));
  }
  return expected;
}

// Compares the import with the module on the first validation images (test images without a
// validation split), fed to the module with the dataset's normalization; settles transform_input
// when the module did not say.
void verify_against_module(Session& s, Source& src, const ImportOptions& o, int transform,
                           ImportResult* r) {
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
  src.module.eval();
  const torch::Tensor x =
      make_batch(set, images, 0, images.size(), norm, s.data.height, s.data.width, nullptr, 0);
  const torch::Tensor expected = module_logits(src, s, x, r->classes);
  r->images = static_cast<int>(images.size());
  r->max_abs_logit = expected.abs().max().item<double>();
  const double bound = o.tolerance * std::max(1.0, r->max_abs_logit);
  auto difference = [&](bool folded) {
    torch::Tensor input =
        folded ? make_batch(set, images, 0, images.size(), fold_transform_input(norm),
                            s.data.height, s.data.width, nullptr, 0)
               : x;
    return (s.net->forward(input) - expected).abs().max().item<double>();
  };
  if (transform >= 0) {
    r->max_abs_diff = difference(transform == 1);
  } else {
    r->max_abs_diff = difference(false);
    transform = 0;
    if (!(r->max_abs_diff <= bound) && r->in_channels == 3) {
      const double folded = difference(true);
      if (folded <= bound) {
        r->max_abs_diff = folded;
        transform = 1;
      }
    }
    r->transform_source = "outputs";
  }
  r->transform_input = transform == 1;
  if (!(r->max_abs_diff <= bound)) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "logits differ from the module's by %.3g (bound %.3g)",
                  r->max_abs_diff, bound);
    throw std::runtime_error(src.not_layout + buf +
                             " (expected ceil-mode max pools and a 3x3 third branch)");
  }
  r->dataset_norm = norm;
}

}  // namespace

ImportResult import_torchscript(Session& s, const ImportOptions& o) {
  Source src = load_source(o.model);
  ImportResult r;
  read_shape(src, o, &r);
  prepare_session(s, src, o, r);
  r.tensors = copy_tensors(s, src);
  apply_normalization_options(s, o, r.in_channels);
  // Geometry: no spatial kernel may see only 1x1 maps at the chosen resolution.
  check_geometry(s.net, s.data.height, s.data.width);
  const int transform = transform_setting(src, o, &r);
  verify_against_module(s, src, o, transform, &r);
  if (r.transform_input) s.norm = fold_transform_input(s.norm);
  s.net->train();
  return r;
}

}  // namespace gnconvert
