// GoogLeNet (Inception-v1, Szegedy et al. 2015) as a gnrt graph: the deployed network (no
// auxiliary heads, BatchNorm folded into the convolutions, dropout removed). One definition of
// the layer names and shapes shared by gn-convert's export, the benchmarks and the tests.
//
// Layout: conv1 7x7/2 (64) -> maxpool 3x3/2 -> conv2 1x1 (64) -> conv3 3x3 (192) -> maxpool 3x3/2
// -> inception 3a, 3b -> maxpool -> 4a..4e -> maxpool -> 5a, 5b -> global avgpool -> fc -> softmax.
// Inception branches: b1 1x1; b2 1x1 reduce -> 3x3; b3 1x1 reduce -> 5x5 (true 5x5, as in the
// paper, not torchvision's 3x3); b4 maxpool 3x3/1 pad 1 -> 1x1. Every convolution has ReLU.
// Max pools are 3x3 stride 2 with padding 1, floor mode: at 224x224 this gives the paper's
// 112 -> 56 -> 28 -> 14 -> 7, and at small inputs (48x48) it keeps inception 5 at 2x2 instead of
// collapsing it to 1x1.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "gnrt/model_builder.h"

namespace gnrt {

// kInceptionV1: the layout above (the paper's, gn-convert's own models).
// kTorchvision: torchvision.models.googlenet's layout, for models imported from PyTorch: the third
// inception branch is 3x3 pad 1 (torchvision's known deviation from the paper, vision#906; the
// layer names stay b3_reduce / b3), and the max pools are ceil mode without padding: pool1..pool3
// 3x3/2, pool4 2x2/2, the b4 pools 3x3/1 pad 1 (ceil mode, which there equals floor mode).
enum class GoogLeNetLayout { kInceptionV1, kTorchvision };

// "inception_v1" / "torchvision".
const char* googlenet_layout_name(GoogLeNetLayout layout);
// Inverse of googlenet_layout_name; throws std::invalid_argument naming the accepted values.
GoogLeNetLayout parse_googlenet_layout(const std::string& name);

struct GoogLeNetConfig {
  GoogLeNetLayout layout = GoogLeNetLayout::kInceptionV1;
  int in_channels = 3;
  int num_classes = 1000;
  int height = 224;  // default input size recorded in the file
  int width = 224;
  bool softmax = true;  // append a softmax; false leaves logits as the output
};

struct InceptionSpec {
  const char* name;  // "inception3a"
  int b1, b2_reduce, b2, b3_reduce, b3, b4;
};

// The nine inception blocks of the paper (Table 1 of Szegedy et al.).
const std::vector<InceptionSpec>& googlenet_inception_specs();

// A weighted layer of the deployed graph, in graph order.
struct LayerSpec {
  std::string name;        // "conv1", "inception3a.b2_reduce", "inception3a.b2", ..., "fc"
  std::vector<int> shape;  // OIHW for convolutions, [out, in] for fc
  bool is_fc = false;
};

std::vector<LayerSpec> googlenet_layers(const GoogLeNetConfig& config);

struct LayerWeights {
  std::vector<float> weights;  // dense, prod(shape) floats, zeros are pruned connections
  std::vector<float> bias;     // shape[0] floats
};

using WeightProvider = std::function<LayerWeights(const LayerSpec& layer)>;

// Builds the graph, asking `provider` for each layer's weights.
std::vector<std::uint8_t> build_googlenet(const GoogLeNetConfig& config,
                                          const WeightProvider& provider,
                                          const ModelMetadata& metadata,
                                          const WeightOptions& weight_options = {});

// Seeded random weights (He-normal), magnitude-pruned to `density` per layer (the fraction of
// weights kept, 0 < density <= 1), for benchmarks and tests.
WeightProvider random_pruned_weights(unsigned seed, double density);

}  // namespace gnrt
