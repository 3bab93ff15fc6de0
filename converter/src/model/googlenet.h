// GoogLeNet (Inception-v1) for training in LibTorch, laid out exactly like the deployed graph of
// schema/include/gnrt/googlenet.h so that the exported file computes the same function:
//   conv1 7x7/2 pad 3 -> maxpool 3x3/2 pad 1 -> conv2 1x1 -> conv3 3x3 pad 1 -> maxpool
//   -> 3a, 3b -> maxpool -> 4a (aux1) 4b 4c 4d (aux2) 4e -> maxpool -> 5a, 5b
//   -> global average pool -> dropout 0.4 -> fc.
// Max pools are 3x3 stride 2 pad 1, floor mode. Inception branches: b1 1x1; b2_reduce 1x1 -> b2
// 3x3; b3_reduce 1x1 -> b3 true 5x5; b4 = maxpool 3x3/1 pad 1 -> 1x1. Every convolution is
// conv (no bias) -> BatchNorm -> ReLU; BatchNorm is folded into the weights at export.
// Auxiliary heads (training only): adaptive avgpool 4x4 -> 1x1 conv 128 (BN, ReLU) -> fc1
// 2048->1024 -> ReLU -> dropout 0.7 -> fc2 1024->classes.
//
// Module paths equal the canonical layer names of gnrt::googlenet_layers(): "conv1",
// "inception3a.b2_reduce", ..., "fc"; auxiliary layers are "aux1.conv", "aux1.fc1", "aux1.fc2".
#pragma once

#include <torch/torch.h>

#include "gnrt/googlenet.h"

#include <functional>
#include <string>
#include <vector>

namespace gnconvert {

// One inception block: output channels of each branch (Table 1 of the paper). The one table is
// the deployed graph's (schema/googlenet.cc), so training and export cannot disagree.
using InceptionSpec = gnrt::InceptionSpec;
inline const std::vector<InceptionSpec>& inception_specs() {
  return gnrt::googlenet_inception_specs();
}

// Replacements for the training-mode BatchNorm and dropout of every module, used by data-parallel
// training (data_parallel.cc) to compute BatchNorm statistics and dropout masks over the global
// batch of all ranks. Installed per thread by ForwardHooksGuard; without one (the default) the
// model runs LibTorch's own BatchNorm2d and Dropout.
struct ForwardHooks {
  std::function<torch::Tensor(torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x)> batch_norm;
  std::function<torch::Tensor(const torch::Tensor& x, double p)> dropout;
};
const ForwardHooks* forward_hooks();
class ForwardHooksGuard {
 public:
  explicit ForwardHooksGuard(const ForwardHooks* hooks);
  ~ForwardHooksGuard();
  ForwardHooksGuard(const ForwardHooksGuard&) = delete;
  ForwardHooksGuard& operator=(const ForwardHooksGuard&) = delete;

 private:
  const ForwardHooks* previous_;
};

struct ModelConfig {
  // kTorchvision: torchvision's GoogLeNet (3x3 third branch, ceil-mode pools without padding;
  // see gnrt/googlenet.h), for models imported with `gn-convert import`. Same module and layer
  // names, so pruning, reports and export treat both layouts alike.
  gnrt::GoogLeNetLayout layout = gnrt::GoogLeNetLayout::kInceptionV1;
  int in_channels = 1;
  int num_classes = 10;
  bool aux_heads = true;
  double dropout = 0.4;
  double aux_dropout = 0.7;
};

// Sets config.layout from its name ("inception_v1" | "torchvision"; throws
// std::invalid_argument otherwise) and the layout's final dropout (0.4 as in the paper; 0.2,
// torchvision's default).
void set_layout(ModelConfig* config, const std::string& layout);

struct ConvBNImpl : torch::nn::Module {
  ConvBNImpl(int in_channels, int out_channels, int kernel, int stride, int pad);
  torch::Tensor forward(const torch::Tensor& x);

  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};
  int kernel = 1, stride = 1, pad = 0;
  // Spatial sizes seen by the last forward (for the summary table and cost model).
  int last_in_h = 0, last_in_w = 0, last_out_h = 0, last_out_w = 0;
};
TORCH_MODULE(ConvBN);

struct InceptionImpl : torch::nn::Module {
  // b3_kernel: 5 (Inception-v1) or 3 (torchvision); ceil_pool: the b4 pool in ceil mode.
  InceptionImpl(int in_channels, int b1, int b2_reduce, int b2, int b3_reduce, int b3, int b4,
                int b3_kernel = 5, bool ceil_pool = false);
  torch::Tensor forward(const torch::Tensor& x);
  int out_channels() const { return out_channels_; }

  ConvBN b1{nullptr}, b2_reduce{nullptr}, b2{nullptr}, b3_reduce{nullptr}, b3{nullptr}, b4{nullptr};

 private:
  int out_channels_ = 0;
  bool ceil_pool_ = false;
};
TORCH_MODULE(Inception);

struct AuxHeadImpl : torch::nn::Module {
  AuxHeadImpl(int in_channels, int num_classes, double dropout);
  torch::Tensor forward(const torch::Tensor& x);

  ConvBN conv{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
  torch::nn::Dropout dropout{nullptr};
};
TORCH_MODULE(AuxHead);

struct GoogLeNetOutput {
  torch::Tensor logits;
  torch::Tensor aux1;  // undefined unless requested
  torch::Tensor aux2;
};

struct GoogLeNetImpl : torch::nn::Module {
  explicit GoogLeNetImpl(const ModelConfig& config);
  // with_aux: also run the auxiliary heads (training does; evaluation and export do not).
  GoogLeNetOutput forward_all(const torch::Tensor& x, bool with_aux);
  torch::Tensor forward(const torch::Tensor& x) { return forward_all(x, false).logits; }

  ModelConfig config;
  ConvBN conv1{nullptr}, conv2{nullptr}, conv3{nullptr};
  std::vector<Inception> inceptions;  // 3a, 3b, 4a..4e, 5a, 5b
  AuxHead aux1{nullptr}, aux2{nullptr};
  torch::nn::Dropout dropout{nullptr};
  torch::nn::Linear fc{nullptr};
  // In-features seen by the last forward of each FC layer (shape bookkeeping).
};
TORCH_MODULE(GoogLeNet);

// A weighted (prunable) layer: every convolution and fully connected layer, auxiliary included.
struct Layer {
  std::string name;                    // canonical name, e.g. "inception4a.b3"
  torch::Tensor weight;                // the parameter itself (shares storage with the module)
  torch::Tensor bias;                  // fc bias; undefined for convolutions (BN carries the shift)
  torch::nn::BatchNorm2d bn{nullptr};  // BN following a convolution; null for fc
  bool is_fc = false;
  bool deployed = true;  // false for the auxiliary heads
  int kernel = 1;        // kh = kw
  int stride = 1;
  int pad = 0;
};

// Layers in graph order: conv1, conv2, conv3, inception3a.b1, .b2_reduce, .b2, .b3_reduce, .b3,
// .b4, ..., aux1.*, aux2.* (after the inception block they hang from), fc last.
std::vector<Layer> model_layers(GoogLeNet& net);

// Per-layer geometry at one input resolution, measured by running the network once.
struct LayerGeometry {
  std::string name;
  std::vector<int64_t> shape;  // OIHW or [out, in]
  bool is_fc = false;
  bool deployed = true;
  int kernel = 1;
  int in_h = 1, in_w = 1, out_h = 1, out_w = 1;
  int64_t params = 0;
  int64_t macs = 0;  // dense multiply-adds per image
};

// Throws std::runtime_error when the input is too small for the network. Leaves the network's
// mode and parameters unchanged.
std::vector<LayerGeometry> measure_geometry(GoogLeNet& net, int height, int width);

// Layers whose 3x3/5x5/7x7 kernel only ever sees a 1x1 map at this geometry (only the centre tap
// meets data there; see issue 3).
std::vector<std::string> degenerate_layers(const std::vector<LayerGeometry>& geometry);

// Refuses resolutions at which a spatial kernel only sees 1x1 maps (std::runtime_error).
void check_geometry(GoogLeNet& net, int height, int width);

}  // namespace gnconvert
