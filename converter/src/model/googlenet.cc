#include "model/googlenet.h"

#include <stdexcept>

namespace gnconvert {

namespace F = torch::nn::functional;

namespace {
thread_local const ForwardHooks* g_forward_hooks = nullptr;

torch::Tensor run_dropout(torch::nn::Dropout& dropout, const torch::Tensor& x) {
  const ForwardHooks* hooks = g_forward_hooks;
  if (hooks && hooks->dropout && dropout->is_training())
    return hooks->dropout(x, dropout->options.p());
  return dropout(x);
}
}  // namespace

const ForwardHooks* forward_hooks() { return g_forward_hooks; }
ForwardHooksGuard::ForwardHooksGuard(const ForwardHooks* hooks) : previous_(g_forward_hooks) {
  g_forward_hooks = hooks;
}
ForwardHooksGuard::~ForwardHooksGuard() { g_forward_hooks = previous_; }

ConvBNImpl::ConvBNImpl(int in_channels, int out_channels, int kernel_size, int stride_, int pad_)
    : kernel(kernel_size), stride(stride_), pad(pad_) {
  conv = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(in_channels, out_channels, kernel)
                                    .stride(stride)
                                    .padding(pad)
                                    .bias(false)));
  bn = register_module(
      "bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(out_channels).eps(1e-3)));
}

torch::Tensor ConvBNImpl::forward(const torch::Tensor& x) {
  last_in_h = static_cast<int>(x.size(2));
  last_in_w = static_cast<int>(x.size(3));
  auto z = conv(x);
  const ForwardHooks* hooks = g_forward_hooks;
  auto y = torch::relu(hooks && hooks->batch_norm && bn->is_training() ? hooks->batch_norm(*bn, z)
                                                                       : bn(z));
  last_out_h = static_cast<int>(y.size(2));
  last_out_w = static_cast<int>(y.size(3));
  return y;
}

void set_layout(ModelConfig* config, const std::string& layout) {
  config->layout = gnrt::parse_googlenet_layout(layout);
  config->dropout = config->layout == gnrt::GoogLeNetLayout::kTorchvision ? 0.2 : 0.4;
}

InceptionImpl::InceptionImpl(int in, int n1, int n2r, int n2, int n3r, int n3, int n4,
                             int b3_kernel, bool ceil_pool)
    : out_channels_(n1 + n2 + n3 + n4), ceil_pool_(ceil_pool) {
  b1 = register_module("b1", ConvBN(in, n1, 1, 1, 0));
  b2_reduce = register_module("b2_reduce", ConvBN(in, n2r, 1, 1, 0));
  b2 = register_module("b2", ConvBN(n2r, n2, 3, 1, 1));
  b3_reduce = register_module("b3_reduce", ConvBN(in, n3r, 1, 1, 0));
  b3 = register_module("b3", ConvBN(n3r, n3, b3_kernel, 1, b3_kernel / 2));
  b4 = register_module("b4", ConvBN(in, n4, 1, 1, 0));
}

torch::Tensor InceptionImpl::forward(const torch::Tensor& x) {
  auto pooled =
      F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(1).padding(1).ceil_mode(ceil_pool_));
  return torch::cat({b1(x), b2(b2_reduce(x)), b3(b3_reduce(x)), b4(pooled)}, 1);
}

AuxHeadImpl::AuxHeadImpl(int in_channels, int num_classes, double p) {
  conv = register_module("conv", ConvBN(in_channels, 128, 1, 1, 0));
  fc1 = register_module("fc1", torch::nn::Linear(2048, 1024));
  fc2 = register_module("fc2", torch::nn::Linear(1024, num_classes));
  dropout = register_module("dropout", torch::nn::Dropout(p));
}

torch::Tensor AuxHeadImpl::forward(const torch::Tensor& x) {
  auto y = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions({4, 4}));
  y = conv(y).flatten(1);
  y = run_dropout(dropout, torch::relu(fc1(y)));
  return fc2(y);
}

GoogLeNetImpl::GoogLeNetImpl(const ModelConfig& cfg) : config(cfg) {
  if (cfg.in_channels < 1 || cfg.in_channels > 64) {
    throw std::invalid_argument("input channels must be in 1..64");
  }
  if (cfg.num_classes < 2 || cfg.num_classes > 100000) {
    throw std::invalid_argument("classes must be in 2..100000");
  }
  conv1 = register_module("conv1", ConvBN(cfg.in_channels, 64, 7, 2, 3));
  conv2 = register_module("conv2", ConvBN(64, 64, 1, 1, 0));
  conv3 = register_module("conv3", ConvBN(64, 192, 3, 1, 1));
  int channels = 192;
  const bool torchvision = cfg.layout == gnrt::GoogLeNetLayout::kTorchvision;
  for (const auto& spec : inception_specs()) {
    auto block = Inception(channels, spec.b1, spec.b2_reduce, spec.b2, spec.b3_reduce, spec.b3,
                           spec.b4, torchvision ? 3 : 5, torchvision);
    channels = block->out_channels();
    inceptions.push_back(register_module(spec.name, block));
    if (cfg.aux_heads && std::string(spec.name) == "inception4a") {
      aux1 = register_module("aux1", AuxHead(channels, cfg.num_classes, cfg.aux_dropout));
    }
    if (cfg.aux_heads && std::string(spec.name) == "inception4d") {
      aux2 = register_module("aux2", AuxHead(channels, cfg.num_classes, cfg.aux_dropout));
    }
  }
  if (inceptions.size() != 9) throw std::logic_error("GoogLeNet needs nine inception blocks");
  dropout = register_module("dropout", torch::nn::Dropout(cfg.dropout));
  fc = register_module("fc", torch::nn::Linear(channels, cfg.num_classes));

  // He initialization for convolutions (ReLU follows each), small normal for the classifiers.
  torch::NoGradGuard no_grad;
  for (auto& item : named_modules("", /*include_self=*/false)) {
    if (auto* c = item.value()->as<torch::nn::Conv2d>()) {
      torch::nn::init::kaiming_normal_(c->weight, 0.0, torch::kFanOut, torch::kReLU);
    } else if (auto* l = item.value()->as<torch::nn::Linear>()) {
      torch::nn::init::normal_(l->weight, 0.0, 0.01);
      torch::nn::init::zeros_(l->bias);
    }
  }
}

GoogLeNetOutput GoogLeNetImpl::forward_all(const torch::Tensor& input, bool with_aux) {
  // Stride-2 pools between stages (the same as gnrt/googlenet.h's for each layout).
  const bool torchvision = config.layout == gnrt::GoogLeNetLayout::kTorchvision;
  auto pool_k = [torchvision](const torch::Tensor& t, int torchvision_kernel) {
    if (torchvision) {
      return F::max_pool2d(t,
                           F::MaxPool2dFuncOptions(torchvision_kernel).stride(2).ceil_mode(true));
    }
    return F::max_pool2d(t, F::MaxPool2dFuncOptions(3).stride(2).padding(1));
  };
  auto pool = [&pool_k](const torch::Tensor& t) { return pool_k(t, 3); };
  GoogLeNetOutput out;
  auto x = pool(conv1(input));
  x = pool(conv3(conv2(x)));
  x = inceptions[0](x);  // 3a
  x = inceptions[1](x);  // 3b
  x = pool(x);
  x = inceptions[2](x);  // 4a
  if (with_aux && aux1) out.aux1 = aux1(x);
  x = inceptions[3](x);
  x = inceptions[4](x);
  x = inceptions[5](x);  // 4d
  if (with_aux && aux2) out.aux2 = aux2(x);
  x = inceptions[6](x);  // 4e
  x = pool_k(x, 2);
  x = inceptions[7](x);
  x = inceptions[8](x);
  x = F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1);
  out.logits = fc(run_dropout(dropout, x));
  return out;
}

namespace {

Layer conv_layer(const std::string& name, ConvBN& m, bool deployed) {
  Layer layer;
  layer.name = name;
  layer.weight = m->conv->weight;
  layer.bn = m->bn;
  layer.deployed = deployed;
  layer.kernel = m->kernel;
  layer.stride = m->stride;
  layer.pad = m->pad;
  return layer;
}

Layer fc_layer(const std::string& name, torch::nn::Linear& m, bool deployed) {
  Layer layer;
  layer.name = name;
  layer.weight = m->weight;
  layer.bias = m->bias;
  layer.is_fc = true;
  layer.deployed = deployed;
  return layer;
}

void add_aux(std::vector<Layer>* layers, const std::string& name, AuxHead& head) {
  if (!head) return;
  layers->push_back(conv_layer(name + ".conv", head->conv, false));
  layers->push_back(fc_layer(name + ".fc1", head->fc1, false));
  layers->push_back(fc_layer(name + ".fc2", head->fc2, false));
}

}  // namespace

std::vector<Layer> model_layers(GoogLeNet& net) {
  std::vector<Layer> layers;
  layers.push_back(conv_layer("conv1", net->conv1, true));
  layers.push_back(conv_layer("conv2", net->conv2, true));
  layers.push_back(conv_layer("conv3", net->conv3, true));
  const auto& specs = inception_specs();
  for (std::size_t i = 0; i < net->inceptions.size(); ++i) {
    std::string block = specs[i].name;
    auto& m = net->inceptions[i];
    layers.push_back(conv_layer(block + ".b1", m->b1, true));
    layers.push_back(conv_layer(block + ".b2_reduce", m->b2_reduce, true));
    layers.push_back(conv_layer(block + ".b2", m->b2, true));
    layers.push_back(conv_layer(block + ".b3_reduce", m->b3_reduce, true));
    layers.push_back(conv_layer(block + ".b3", m->b3, true));
    layers.push_back(conv_layer(block + ".b4", m->b4, true));
    if (block == "inception4a") add_aux(&layers, "aux1", net->aux1);
    if (block == "inception4d") add_aux(&layers, "aux2", net->aux2);
  }
  layers.push_back(fc_layer("fc", net->fc, true));
  return layers;
}

std::vector<LayerGeometry> measure_geometry(GoogLeNet& net, int height, int width) {
  if (height < 1 || width < 1 || height > 4096 || width > 4096) {
    throw std::runtime_error("input size " + std::to_string(height) + "x" + std::to_string(width) +
                             " out of range 1..4096");
  }
  bool was_training = net->is_training();
  net->eval();
  {
    torch::NoGradGuard no_grad;
    try {
      net->forward_all(torch::zeros({1, net->config.in_channels, height, width}), true);
    } catch (const c10::Error&) {
      net->train(was_training);
      throw std::runtime_error("input size " + std::to_string(height) + "x" +
                               std::to_string(width) + " is too small for GoogLeNet");
    }
  }
  net->train(was_training);

  std::vector<LayerGeometry> result;
  for (const Layer& layer : model_layers(net)) {
    LayerGeometry g;
    g.name = layer.name;
    g.shape = layer.weight.sizes().vec();
    g.is_fc = layer.is_fc;
    g.deployed = layer.deployed;
    g.kernel = layer.kernel;
    g.params = layer.weight.numel();
    result.push_back(g);
  }
  // Read the recorded spatial sizes back from the conv modules, in the same order.
  std::size_t index = 0;
  auto take = [&](ConvBN& m) {
    auto& g = result[index++];
    g.in_h = m->last_in_h;
    g.in_w = m->last_in_w;
    g.out_h = m->last_out_h;
    g.out_w = m->last_out_w;
  };
  auto skip_fc = [&]() { ++index; };
  take(net->conv1);
  take(net->conv2);
  take(net->conv3);
  for (std::size_t i = 0; i < net->inceptions.size(); ++i) {
    auto& m = net->inceptions[i];
    take(m->b1);
    take(m->b2_reduce);
    take(m->b2);
    take(m->b3_reduce);
    take(m->b3);
    take(m->b4);
    if (i == 2 && net->aux1) {
      take(net->aux1->conv);
      skip_fc();
      skip_fc();
    }
    if (i == 5 && net->aux2) {
      take(net->aux2->conv);
      skip_fc();
      skip_fc();
    }
  }
  skip_fc();
  for (auto& g : result) {
    g.macs = g.params * static_cast<int64_t>(g.out_h) * g.out_w;
  }
  return result;
}

std::vector<std::string> degenerate_layers(const std::vector<LayerGeometry>& geometry) {
  std::vector<std::string> names;
  for (const auto& g : geometry) {
    if (!g.is_fc && g.kernel > 1 && g.in_h == 1 && g.in_w == 1) names.push_back(g.name);
  }
  return names;
}

void check_geometry(GoogLeNet& net, int height, int width) {
  auto bad = degenerate_layers(measure_geometry(net, height, width));
  if (!bad.empty()) {
    throw std::runtime_error("at " + std::to_string(height) + "x" + std::to_string(width) + ", " +
                             std::to_string(bad.size()) + " layers (first " + bad.front() +
                             ") apply a spatial kernel to a 1x1 map; use a larger --size");
  }
}

}  // namespace gnconvert
