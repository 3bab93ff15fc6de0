#include "train/masks.h"

#include <stdexcept>

namespace gnconvert {

void mask_gradients(GoogLeNet& net, const Masks& masks) {
  if (masks.empty()) return;
  for (const auto& layer : model_layers(net)) {
    auto it = masks.find(layer.name);
    if (it == masks.end()) continue;
    auto grad = layer.weight.mutable_grad();
    if (grad.defined()) grad.mul_(it->second);
  }
}

void apply_masks(GoogLeNet& net, const Masks& masks) {
  if (masks.empty()) return;
  torch::NoGradGuard no_grad;
  for (const auto& layer : model_layers(net)) {
    auto it = masks.find(layer.name);
    if (it != masks.end()) layer.weight.mul_(it->second);
  }
}

void check_pruned_weights_zero(GoogLeNet& net, const Masks& masks) {
  for (const auto& layer : model_layers(net)) {
    auto it = masks.find(layer.name);
    if (it != masks.end() &&
        layer.weight.masked_select(it->second < 0.5).ne(0).any().item<bool>()) {
      throw std::logic_error("pruned weights of " + layer.name + " are not zero");
    }
  }
}

std::int64_t count_params(GoogLeNet& net, bool deployed_only) {
  std::int64_t total = 0;
  for (const auto& layer : model_layers(net)) {
    if (!deployed_only || layer.deployed) total += layer.weight.numel();
  }
  return total;
}

std::int64_t count_nonzeros(GoogLeNet& net, bool deployed_only) {
  std::int64_t total = 0;
  for (const auto& layer : model_layers(net)) {
    if (!deployed_only || layer.deployed) total += layer.weight.ne(0).sum().item<int64_t>();
  }
  return total;
}

}  // namespace gnconvert
