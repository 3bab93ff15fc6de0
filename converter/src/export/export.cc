#include "export/export.h"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <memory>

#include "gnrt/gnrt.h"
#include "gnrt/model_builder.h"
#include "train/batches.h"
#include "train/masks.h"

namespace gnconvert {

using json = nlohmann::json;

gnrt::WeightProvider folded_weights(GoogLeNet& net) {
  // Fold once, eagerly, so that the provider is a plain lookup.
  auto table = std::make_shared<
      std::map<std::string, std::pair<std::vector<int64_t>, gnrt::LayerWeights>>>();
  torch::NoGradGuard no_grad;
  for (const Layer& layer : model_layers(net)) {
    if (!layer.deployed) continue;
    torch::Tensor w = layer.weight.detach().to(torch::kDouble);
    torch::Tensor b;
    if (layer.is_fc) {
      b = layer.bias.detach().to(torch::kDouble);
    } else {
      auto& bn = layer.bn;
      auto scale = bn->weight.detach().to(torch::kDouble) /
                   (bn->running_var.to(torch::kDouble) + bn->options.eps()).sqrt();
      w = w * scale.view({-1, 1, 1, 1});
      b = bn->bias.detach().to(torch::kDouble) - bn->running_mean.to(torch::kDouble) * scale;
    }
    w = w.to(torch::kFloat).contiguous();
    b = b.to(torch::kFloat).contiguous();
    gnrt::LayerWeights lw;
    lw.weights.assign(w.data_ptr<float>(), w.data_ptr<float>() + w.numel());
    lw.bias.assign(b.data_ptr<float>(), b.data_ptr<float>() + b.numel());
    (*table)[layer.name] = {layer.weight.sizes().vec(), std::move(lw)};
  }
  return [table](const gnrt::LayerSpec& spec) -> gnrt::LayerWeights {
    auto it = table->find(spec.name);
    if (it == table->end()) {
      throw std::runtime_error("export: the model has no layer named " + spec.name);
    }
    std::vector<int64_t> want(spec.shape.begin(), spec.shape.end());
    if (want != it->second.first) {
      throw std::runtime_error("export: layer " + spec.name + " has shape " +
                               c10::str(c10::IntArrayRef(it->second.first)) +
                               ", the graph expects " + c10::str(c10::IntArrayRef(want)));
    }
    return it->second.second;
  };
}

std::vector<std::uint8_t> export_model(Session& s, const ExportSettings& settings) {
  gnrt::GoogLeNetConfig config;
  config.layout = gnrt::parse_googlenet_layout(s.model.layout);
  config.in_channels = s.model.in_channels;
  config.num_classes = s.model.classes;
  config.height = s.data.height;
  config.width = s.data.width;
  config.softmax = settings.softmax;

  gnrt::ModelMetadata meta;
  meta.name = "googlenet-" + s.data.dataset;
  meta.description = std::string(config.layout == gnrt::GoogLeNetLayout::kTorchvision
                                     ? "GoogLeNet (torchvision layout, imported, BN folded)"
                                     : "GoogLeNet (Inception-v1, BN folded)") +
                     " trained on " + s.data.dataset + " at " + std::to_string(s.data.height) +
                     "x" + std::to_string(s.data.width) + " by gn-convert";
  meta.producer = "gn-convert 0.1.0";
  meta.labels = s.dataset.class_names;
  meta.mean = s.norm.mean;
  meta.std = s.norm.std;
  meta.pruning.params_dense_training = static_cast<std::uint64_t>(count_params(s.net, false));
  meta.pruning.nonzeros_training = static_cast<std::uint64_t>(count_nonzeros(s.net, false));
  meta.pruning.training_height = s.data.height;
  meta.pruning.training_width = s.data.width;
  if (s.report.contains("pruning")) {
    meta.pruning.method = s.report["pruning"].value("method", "");
    meta.pruning.recipe = s.report["pruning"].value("recipe", "");
  } else {
    meta.pruning.method = s.masks.empty() ? "dense" : "masked";
  }
  meta.test_accuracy = settings.test_accuracy;

  gnrt::WeightOptions options;
  options.encoding = settings.encoding == "sparse"  ? gnrt::WeightEncoding::kSparse
                     : settings.encoding == "dense" ? gnrt::WeightEncoding::kDense
                                                    : gnrt::WeightEncoding::kAuto;
  options.storage = settings.float16 ? gnrt::ValueStorage::kFloat16 : gnrt::ValueStorage::kFloat32;
  return gnrt::build_googlenet(config, folded_weights(s.net), meta, options);
}

namespace {

struct ModelHandle {
  gnrt_model* model = nullptr;
  gnrt_plan* plan = nullptr;
  ~ModelHandle() {
    gnrt_plan_destroy(plan);
    gnrt_model_destroy(model);
  }
};

void check(gnrt_status status, const char* what) {
  if (status != GNRT_OK) {
    throw std::runtime_error(std::string("libgnrt ") + what +
                             " failed: " + gnrt_status_string(status) + ": " + gnrt_last_error());
  }
}

}  // namespace

VerifyResult verify_export(Session& s, const std::vector<std::uint8_t>& bytes, const ImageSet& set,
                           const std::vector<std::size_t>& indices, bool softmax_output) {
  ModelHandle h;
  check(gnrt_model_load_buffer(bytes.data(), bytes.size(), &h.model), "load");
  gnrt_options options;
  gnrt_options_init(&options);
  options.input_height = s.data.height;
  options.input_width = s.data.width;
  check(gnrt_plan_create(h.model, &options, &h.plan), "plan");
  int out_dims[4] = {0, 0, 0, 0};
  check(gnrt_plan_output_shape(h.plan, out_dims), "output shape");
  std::size_t out_count =
      static_cast<std::size_t>(out_dims[0]) * out_dims[1] * out_dims[2] * out_dims[3];
  if (out_count != static_cast<std::size_t>(s.model.classes)) {
    throw std::runtime_error("libgnrt output has " + std::to_string(out_count) +
                             " elements, expected " + std::to_string(s.model.classes));
  }
  torch::NoGradGuard no_grad;
  bool was_training = s.net->is_training();
  s.net->eval();
  VerifyResult r;
  std::vector<float> output(out_count);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    auto x = make_batch(set, indices, i, i + 1, s.norm, s.data.height, s.data.width, nullptr, 0);
    auto expected = s.net->forward(x);
    if (softmax_output) expected = torch::softmax(expected, 1);
    expected = expected.flatten().contiguous();
    check(gnrt_plan_set_input(h.plan, x.data_ptr<float>(), static_cast<std::size_t>(x.numel())),
          "set input");
    check(gnrt_plan_run(h.plan), "run");
    check(gnrt_plan_get_output(h.plan, output.data(), output.size()), "get output");
    const float* e = expected.data_ptr<float>();
    int arg_e = 0, arg_g = 0;
    for (std::size_t k = 0; k < out_count; ++k) {
      r.max_abs_diff = std::max(r.max_abs_diff, std::fabs(static_cast<double>(output[k]) - e[k]));
      r.max_abs_logit = std::max(r.max_abs_logit, std::fabs(static_cast<double>(e[k])));
      if (e[k] > e[arg_e]) arg_e = static_cast<int>(k);
      if (output[k] > output[arg_g]) arg_g = static_cast<int>(k);
    }
    r.argmax_agree += arg_e == arg_g;
    ++r.images;
  }
  s.net->train(was_training);
  return r;
}

}  // namespace gnconvert
