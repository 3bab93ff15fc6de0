#include "gnrt/googlenet.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace gnrt {

const std::vector<InceptionSpec>& googlenet_inception_specs() {
  // name, 1x1, 3x3 reduce, 3x3, 5x5 reduce, 5x5, pool proj (Szegedy et al. 2015, Table 1).
  static const std::vector<InceptionSpec> specs = {
      {"inception3a", 64, 96, 128, 16, 32, 32},     {"inception3b", 128, 128, 192, 32, 96, 64},
      {"inception4a", 192, 96, 208, 16, 48, 64},    {"inception4b", 160, 112, 224, 24, 64, 64},
      {"inception4c", 128, 128, 256, 24, 64, 64},   {"inception4d", 112, 144, 288, 32, 64, 64},
      {"inception4e", 256, 160, 320, 32, 128, 128}, {"inception5a", 256, 160, 320, 32, 128, 128},
      {"inception5b", 384, 192, 384, 48, 128, 128},
  };
  return specs;
}

const char* googlenet_layout_name(GoogLeNetLayout layout) {
  return layout == GoogLeNetLayout::kTorchvision ? "torchvision" : "inception_v1";
}

GoogLeNetLayout parse_googlenet_layout(const std::string& name) {
  if (name == "inception_v1") return GoogLeNetLayout::kInceptionV1;
  if (name == "torchvision") return GoogLeNetLayout::kTorchvision;
  throw std::invalid_argument("unknown GoogLeNet layout '" + name +
                              "' (expected inception_v1 or torchvision)");
}

namespace {

// Walks the deployed graph once; `visit` sees every weighted layer in graph order, and the
// builder (when non-null) gets the operators.
struct GraphWalker {
  const GoogLeNetConfig& config;
  std::vector<LayerSpec> layers;
  ModelBuilder* builder = nullptr;
  const WeightProvider* provider = nullptr;
  WeightOptions weight_options;

  // Returns the output tensor id (or -1 without a builder); `channels` tracks the shapes.
  TensorId conv(const std::string& name, TensorId input, int in_channels, int out_channels,
                int kernel, int stride, int pad) {
    LayerSpec spec{name, {out_channels, in_channels, kernel, kernel}, false};
    layers.push_back(spec);
    if (!builder) return -1;
    LayerWeights w = (*provider)(spec);
    ConvParams p;
    p.out_channels = out_channels;
    p.kernel_h = p.kernel_w = kernel;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
    p.relu = true;
    return builder->conv2d(name, input, p, w.weights, w.bias, weight_options);
  }

  TensorId max_pool(const std::string& name, TensorId input, int kernel, int stride, int pad,
                    bool ceil_mode = false) {
    if (!builder) return -1;
    PoolParams p;
    p.kernel_h = p.kernel_w = kernel;
    p.stride_h = p.stride_w = stride;
    p.pad_top = p.pad_left = p.pad_bottom = p.pad_right = pad;
    p.ceil_mode = ceil_mode;
    return builder->max_pool(name, input, p);
  }

  bool torchvision() const { return config.layout == GoogLeNetLayout::kTorchvision; }

  // The stride-2 pools between stages: 3x3/2 pad 1 floor mode (Inception-v1), or kernel x kernel
  // /2 without padding in ceil mode (torchvision).
  TensorId stage_pool(const std::string& name, TensorId input, int torchvision_kernel) {
    if (torchvision()) return max_pool(name, input, torchvision_kernel, 2, 0, true);
    return max_pool(name, input, 3, 2, 1);
  }

  TensorId inception(const InceptionSpec& s, TensorId input, int in_channels) {
    const std::string n = s.name;
    TensorId b1 = conv(n + ".b1", input, in_channels, s.b1, 1, 1, 0);
    TensorId b2r = conv(n + ".b2_reduce", input, in_channels, s.b2_reduce, 1, 1, 0);
    TensorId b2 = conv(n + ".b2", b2r, s.b2_reduce, s.b2, 3, 1, 1);
    TensorId b3r = conv(n + ".b3_reduce", input, in_channels, s.b3_reduce, 1, 1, 0);
    const int k3 = torchvision() ? 3 : 5;
    TensorId b3 = conv(n + ".b3", b3r, s.b3_reduce, s.b3, k3, 1, k3 / 2);
    TensorId b4p = max_pool(n + ".b4_pool", input, 3, 1, 1, torchvision());
    TensorId b4 = conv(n + ".b4", b4p, in_channels, s.b4, 1, 1, 0);
    if (!builder) return -1;
    return builder->concat(n, {b1, b2, b3, b4});
  }

  TensorId run() {
    TensorId x = -1;
    if (builder) x = builder->input("input", config.in_channels, config.height, config.width);
    x = conv("conv1", x, config.in_channels, 64, 7, 2, 3);
    x = stage_pool("pool1", x, 3);
    x = conv("conv2", x, 64, 64, 1, 1, 0);
    x = conv("conv3", x, 64, 192, 3, 1, 1);
    x = stage_pool("pool2", x, 3);
    int channels = 192;
    for (const InceptionSpec& s : googlenet_inception_specs()) {
      const std::string n = s.name;
      if (n == "inception4a") x = stage_pool("pool3", x, 3);
      if (n == "inception5a") x = stage_pool("pool4", x, torchvision() ? 2 : 3);
      x = inception(s, x, channels);
      channels = s.b1 + s.b2 + s.b3 + s.b4;
    }
    layers.push_back({"fc", {config.num_classes, channels}, true});
    if (!builder) return -1;
    PoolParams gap;
    gap.global = true;
    x = builder->avg_pool("avgpool", x, gap);
    LayerWeights w = (*provider)(layers.back());
    x = builder->fully_connected("fc", x, config.num_classes, w.weights, w.bias, false,
                                 weight_options);
    if (config.softmax) x = builder->softmax("softmax", x);
    return x;
  }
};

}  // namespace

std::vector<LayerSpec> googlenet_layers(const GoogLeNetConfig& config) {
  GraphWalker walker{config, {}};
  walker.run();
  return walker.layers;
}

std::vector<std::uint8_t> build_googlenet(const GoogLeNetConfig& config,
                                          const WeightProvider& provider,
                                          const ModelMetadata& metadata,
                                          const WeightOptions& weight_options) {
  if (config.in_channels <= 0 || config.num_classes <= 0 || config.height <= 0 || config.width <= 0)
    throw std::invalid_argument("build_googlenet: channels, classes and size must be positive");
  ModelBuilder builder;
  GraphWalker walker{config, {}, &builder, &provider, weight_options};
  const TensorId out = walker.run();
  builder.set_metadata(metadata);
  return builder.finish({out});
}

WeightProvider random_pruned_weights(unsigned seed, double density) {
  if (!(density > 0.0 && density <= 1.0))
    throw std::invalid_argument("random_pruned_weights: density must be in (0, 1]");
  return [seed, density](const LayerSpec& layer) {
    std::size_t count = 1;
    for (int d : layer.shape) count *= static_cast<std::size_t>(d);
    const std::size_t fan_in = count / static_cast<std::size_t>(layer.shape[0]);
    // Seed per layer from its name so that every layer is reproducible on its own.
    std::seed_seq seq{seed,
                      static_cast<unsigned>(std::hash<std::string>{}(layer.name) & 0xffffffffu),
                      static_cast<unsigned>(count)};
    std::mt19937 rng(seq);
    std::normal_distribution<float> normal(0.0f, std::sqrt(2.0f / static_cast<float>(fan_in)));
    LayerWeights w;
    w.weights.resize(count);
    for (float& v : w.weights) v = normal(rng);
    w.bias.resize(static_cast<std::size_t>(layer.shape[0]));
    std::uniform_real_distribution<float> small(-0.05f, 0.05f);
    for (float& b : w.bias) b = small(rng);
    const std::size_t keep =
        std::max<std::size_t>(1, static_cast<std::size_t>(std::llround(density * count)));
    if (keep < count) {
      std::vector<float> magnitudes(count);
      for (std::size_t i = 0; i < count; ++i) magnitudes[i] = std::fabs(w.weights[i]);
      std::nth_element(magnitudes.begin(), magnitudes.begin() + (count - keep), magnitudes.end());
      const float threshold = magnitudes[count - keep];
      std::size_t kept = 0;
      // Keep exactly `keep` weights: those above the threshold, then ties in order.
      for (std::size_t i = 0; i < count; ++i) {
        if (std::fabs(w.weights[i]) > threshold) ++kept;
      }
      for (std::size_t i = 0; i < count; ++i) {
        const float m = std::fabs(w.weights[i]);
        if (m > threshold) continue;
        if (m == threshold && kept < keep) {
          ++kept;
          continue;
        }
        w.weights[i] = 0.0f;
      }
    }
    return w;
  };
}

}  // namespace gnrt
