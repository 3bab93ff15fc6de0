#include "import/onnx_checkpoint.h"

#include <cmath>
#include <map>
#include <random>
#include <stdexcept>

#include "gnrt/gnrt.h"
#include "gnrt/googlenet.h"
#include "train/checkpoint.h"
#include "train/masks.h"
#include "train/session.h"

namespace gnconvert {
namespace {

struct Loaded {
  gnrt_model* model = nullptr;
  gnrt_plan* plan = nullptr;
  ~Loaded() {
    gnrt_plan_destroy(plan);
    gnrt_model_destroy(model);
  }
};

// libgnrt's output for `input` (C x H x W at the model's default size).
std::vector<float> run_gnrt(const std::vector<std::uint8_t>& bytes, const std::vector<float>& input,
                            int height, int width) {
  Loaded h;
  gnrt_options options;
  gnrt_options_init(&options);
  options.input_height = height;
  options.input_width = width;
  if (gnrt_model_load_buffer(bytes.data(), bytes.size(), &h.model) != GNRT_OK ||
      gnrt_plan_create(h.model, &options, &h.plan) != GNRT_OK) {
    throw std::runtime_error(std::string("libgnrt cannot plan the imported model: ") +
                             gnrt_last_error());
  }
  int dims[4] = {0, 0, 0, 0};
  gnrt_plan_output_shape(h.plan, dims);
  std::vector<float> out(static_cast<std::size_t>(dims[0]) * dims[1] * dims[2] * dims[3]);
  if (gnrt_plan_set_input(h.plan, input.data(), input.size()) != GNRT_OK ||
      gnrt_plan_run(h.plan) != GNRT_OK ||
      gnrt_plan_get_output(h.plan, out.data(), out.size()) != GNRT_OK) {
    throw std::runtime_error(std::string("libgnrt failed on the imported model: ") +
                             gnrt_last_error());
  }
  return out;
}

std::vector<float> random_input(const OnnxImportResult& r) {
  std::mt19937 rng(16);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> x(static_cast<std::size_t>(r.channels) * r.height * r.width);
  for (float& v : x) v = normal(rng);
  return x;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return INFINITY;
  double d = 0;
  for (std::size_t i = 0; i < a.size(); ++i) d = std::max(d, std::fabs(double(a[i]) - b[i]));
  return d;
}

double max_abs(const std::vector<float>& v) {
  double m = 0;
  for (float x : v) m = std::max(m, std::fabs(double(x)));
  return m;
}

std::string shape_text(const std::vector<int>& s) {
  std::string t;
  for (int d : s) t += (t.empty() ? "" : "x") + std::to_string(d);
  return t;
}

}  // namespace

std::string match_googlenet_layout(const OnnxImportResult& r, std::string* why) {
  if (r.layers.empty() || !r.layers.back().is_fc) {
    *why = "the last layer is not fully connected";
    return "";
  }
  std::vector<float> x;
  std::vector<float> reference;
  for (gnrt::GoogLeNetLayout layout :
       {gnrt::GoogLeNetLayout::kTorchvision, gnrt::GoogLeNetLayout::kInceptionV1}) {
    const std::string name = gnrt::googlenet_layout_name(layout);
    gnrt::GoogLeNetConfig config;
    config.layout = layout;
    config.in_channels = r.channels;
    config.num_classes = r.layers.back().shape[0];
    config.height = r.height;
    config.width = r.width;
    config.softmax = r.softmax_output;
    const std::vector<gnrt::LayerSpec> specs = gnrt::googlenet_layers(config);
    std::string mismatch;
    if (specs.size() != r.layers.size()) {
      mismatch = std::to_string(r.layers.size()) + " conv/fc layers, " + name + " has " +
                 std::to_string(specs.size());
    }
    for (std::size_t k = 0; mismatch.empty() && k < specs.size(); ++k) {
      if (specs[k].shape != r.layers[k].shape || specs[k].is_fc != r.layers[k].is_fc) {
        mismatch = "layer " + std::to_string(k + 1) + " ('" + r.layers[k].name + "') is " +
                   shape_text(r.layers[k].shape) + ", " + name + "'s " + specs[k].name + " is " +
                   shape_text(specs[k].shape);
      }
    }
    if (mismatch.empty()) {
      std::map<std::string, const OnnxLayer*> by_name;
      for (std::size_t k = 0; k < specs.size(); ++k) by_name[specs[k].name] = &r.layers[k];
      auto provider = [&](const gnrt::LayerSpec& spec) {
        const OnnxLayer* l = by_name.at(spec.name);
        return gnrt::LayerWeights{l->weights, l->bias};
      };
      const auto bytes = gnrt::build_googlenet(config, provider, gnrt::ModelMetadata{});
      if (x.empty()) {
        x = random_input(r);
        reference = run_gnrt(r.bytes, x, r.height, r.width);
      }
      const double d = max_abs_diff(run_gnrt(bytes, x, r.height, r.width), reference);
      if (d <= 1e-5 * std::max(1.0, max_abs(reference))) return name;
      mismatch = name + "'s graph with these weights differs by " + std::to_string(d) +
                 " (strides, padding or pooling differ)";
    }
    *why += (why->empty() ? "" : "; ") + mismatch;
  }
  return "";
}

OnnxCheckpointResult write_onnx_checkpoint(const OnnxImportResult& r, const std::string& layout,
                                           const DataOptions& data, const std::string& source,
                                           const std::string& path,
                                           const std::string& command_line) {
  Session s;
  s.quiet = true;
  s.data = data;
  s.data.height = r.height;
  s.data.width = r.width;
  s.model = ModelOptions{};
  load_data(s);
  if (s.model.in_channels != r.channels || s.model.classes != r.layers.back().shape[0]) {
    throw std::runtime_error("--checkpoint: the model takes " + std::to_string(r.channels) +
                             " channel(s) and has " + std::to_string(r.layers.back().shape[0]) +
                             " classes; " + s.data.dataset + " has " +
                             std::to_string(s.model.in_channels) + " and " +
                             std::to_string(s.model.classes) + " (choose --dataset)");
  }
  s.model.aux_heads = false;
  s.model.layout = layout;
  create_model(s);
  if (!r.mean.empty()) s.norm.mean = r.mean;
  if (!r.std.empty()) s.norm.std = r.std;
  OnnxCheckpointResult out;
  out.layout = layout;
  {
    torch::NoGradGuard no_grad;
    std::vector<Layer> layers;
    for (Layer& l : model_layers(s.net)) {
      if (l.deployed) layers.push_back(l);
    }
    if (layers.size() != r.layers.size()) throw std::logic_error("layer count changed");
    for (std::size_t k = 0; k < layers.size(); ++k) {
      Layer& l = layers[k];
      const OnnxLayer& src = r.layers[k];
      auto w =
          torch::from_blob(const_cast<float*>(src.weights.data()), l.weight.sizes(), torch::kFloat);
      l.weight.copy_(w);
      auto b = torch::from_blob(const_cast<float*>(src.bias.data()),
                                {static_cast<long>(src.bias.size())}, torch::kFloat);
      if (l.is_fc) {
        l.bias.copy_(b);
      } else {  // identity BatchNorm carrying the folded bias
        l.bn->weight.fill_(1.0f);
        l.bn->bias.copy_(b);
        l.bn->running_mean.zero_();
        l.bn->running_var.fill_(1.0 - l.bn->options.eps());
      }
      if ((l.weight == 0).any().item<bool>()) {
        s.masks[l.name] = (l.weight != 0).to(torch::kFloat);
        ++out.masked_layers;
      }
    }
    s.net->eval();
    const std::vector<float> x = random_input(r);
    auto input = torch::from_blob(const_cast<float*>(x.data()), {1, r.channels, r.height, r.width},
                                  torch::kFloat);
    torch::Tensor y = s.net->forward(input);
    if (r.softmax_output) y = torch::softmax(y, 1);
    y = y.flatten().contiguous();
    const std::vector<float> got(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
    const std::vector<float> want = run_gnrt(r.bytes, x, r.height, r.width);
    out.max_abs_diff = max_abs_diff(got, want);
    out.max_abs_logit = max_abs(want);
    if (!(out.max_abs_diff <= 1e-4 * std::max(1.0, out.max_abs_logit))) {
      throw std::runtime_error(
          "--checkpoint: the checkpoint's network differs from the import by " +
          std::to_string(out.max_abs_diff));
    }
  }
  s.net->train();
  s.extra["import"] = {{"source", source},
                       {"format", "onnx"},
                       {"layout", layout},
                       {"batchnorm", "identity (folded by the exporter)"},
                       {"masked_layers", out.masked_layers},
                       {"max_abs_diff", out.max_abs_diff}};
  s.command_lines = {command_line};
  save_checkpoint(s, path, nullptr);
  return out;
}

}  // namespace gnconvert
