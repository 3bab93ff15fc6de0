#include "prune/pruner.h"

#include <nlohmann/json.hpp>
#include <stdexcept>

namespace gnconvert {
namespace {

std::vector<float> to_vector(const torch::Tensor& t) {
  auto c = t.detach().to(torch::kFloat).contiguous().flatten();
  return std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
}

torch::Tensor to_tensor(const std::vector<float>& values, c10::IntArrayRef shape) {
  return torch::from_blob(const_cast<float*>(values.data()),
                          {static_cast<std::int64_t>(values.size())}, torch::kFloat)
      .clone()
      .view(shape);
}

int cost_height(const Session& s, const PruneRecipe& r) {
  return r.cost_height > 0 ? r.cost_height : s.data.height;
}
int cost_width(const Session& s, const PruneRecipe& r) {
  return r.cost_width > 0 ? r.cost_width : s.data.width;
}

// What the thresholds compare for a layer: |w|, or its block's RMS (recipe "block").
std::vector<float> ranking_values(const Layer& layer, const PruneRecipe& recipe) {
  std::vector<float> weights = to_vector(layer.weight);
  const int block = recipe.block_input_channels;
  if (block <= 1 || !layer.deployed) return weights;
  const auto sizes = layer.weight.sizes();
  const std::int64_t out = sizes[0], in = sizes[1];
  const std::int64_t taps = layer.weight.numel() / (out * in);
  if (in % block != 0) return weights;  // the 1-channel stem
  return block_scores(weights, out, in, taps, block);
}

}  // namespace

std::vector<PruneLayer> prune_layers(Session& s, const PruneRecipe& recipe, int cost_height,
                                     int cost_width) {
  std::vector<LayerGeometry> geometry;
  if (recipe.mode == "cost") geometry = measure_geometry(s.net, cost_height, cost_width);
  std::vector<PruneLayer> result;
  std::size_t index = 0;
  for (const Layer& layer : model_layers(s.net)) {
    PruneLayer p;
    p.name = layer.name;
    p.deployed = layer.deployed;
    auto w = layer.weight.detach().flatten();
    p.params = w.numel();
    p.std_dev = w.std(/*unbiased=*/false).item<double>();
    const std::vector<float> weights = ranking_values(layer, recipe);
    auto it = s.masks.find(layer.name);
    if (it != s.masks.end()) {
      const std::vector<float> mask = to_vector(it->second);
      p.survivors = surviving_magnitudes(weights, &mask);
    } else {
      p.survivors = surviving_magnitudes(weights, nullptr);
    }
    if (!geometry.empty()) {
      const auto& g = geometry[index];
      p.cost = g.is_fc ? 1.0 : static_cast<double>(g.out_h) * g.out_w;
    }
    auto fixed = recipe.layer_sparsity.find(layer.name);
    if (fixed != recipe.layer_sparsity.end()) p.fixed_sparsity = fixed->second;
    result.push_back(std::move(p));
    ++index;
  }
  for (const auto& kv : recipe.layer_sparsity) {
    bool found = false;
    for (const auto& p : result) found = found || p.name == kv.first;
    if (!found) throw RecipeError("recipe names unknown layer '" + kv.first + "'");
  }
  return result;
}

void apply_decision(Session& s, const std::vector<PruneLayer>& layers, const PruneDecision& d,
                    const PruneRecipe& recipe) {
  torch::NoGradGuard no_grad;
  auto model = model_layers(s.net);
  for (std::size_t i = 0; i < model.size(); ++i) {
    const Layer& layer = model[i];
    if (layer.name != layers[i].name) throw std::logic_error("layer order changed");
    const std::vector<float> weights = ranking_values(layer, recipe);
    auto it = s.masks.find(layer.name);
    std::vector<float> keep;
    if (it != s.masks.end()) {
      const std::vector<float> mask = to_vector(it->second);
      keep = threshold_mask(weights, &mask, d.threshold[i]);
    } else {
      keep = threshold_mask(weights, nullptr, d.threshold[i]);
    }
    s.masks[layer.name] = to_tensor(keep, layer.weight.sizes());
  }
  apply_masks(s.net, s.masks);
  nlohmann::json thresholds = nlohmann::json::object();
  for (std::size_t i = 0; i < layers.size(); ++i) thresholds[layers[i].name] = d.threshold[i];
  s.report["last_thresholds"] = thresholds;
}

PruneDecision prune_to(Session& s, const PruneRecipe& r, std::int64_t target,
                       std::int64_t aux_target) {
  auto layers = prune_layers(s, r, cost_height(s, r), cost_width(s, r));
  auto d = decide_groups(layers, r, target, aux_target);
  apply_decision(s, layers, d, r);
  return d;
}

PruneDecision prune_with_knob(Session& s, const PruneRecipe& r, double knob) {
  auto layers = prune_layers(s, r, cost_height(s, r), cost_width(s, r));
  auto d = decide(layers, r, knob, r.scope == "deployed");
  apply_decision(s, layers, d, r);
  return d;
}

}  // namespace gnconvert
