#include "prune/decision.h"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <stdexcept>

namespace gnconvert {

std::vector<float> surviving_magnitudes(const std::vector<float>& weights,
                                        const std::vector<float>* mask) {
  if (mask && mask->size() != weights.size()) throw std::logic_error("mask size differs");
  std::vector<float> alive;
  alive.reserve(weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i) {
    if (!mask || (*mask)[i] > 0.5f) alive.push_back(std::fabs(weights[i]));
  }
  std::sort(alive.begin(), alive.end());
  return alive;
}

std::vector<float> threshold_mask(const std::vector<float>& weights, const std::vector<float>* mask,
                                  double threshold) {
  if (mask && mask->size() != weights.size()) throw std::logic_error("mask size differs");
  // Thresholds are survivor magnitudes (floats) or -1: compared in float, as the weights are.
  const float t = static_cast<float>(threshold);
  std::vector<float> keep(weights.size());
  for (std::size_t i = 0; i < weights.size(); ++i) {
    keep[i] = std::fabs(weights[i]) > t ? 1.0f : 0.0f;
    if (mask) keep[i] *= (*mask)[i];
  }
  return keep;
}

std::vector<float> block_scores(const std::vector<float>& weights, std::int64_t out,
                                std::int64_t in, std::int64_t taps, int block) {
  if (block < 1 || in % block != 0 || static_cast<std::int64_t>(weights.size()) != out * in * taps) {
    throw std::logic_error("block_scores: shape does not fit");
  }
  std::vector<float> scores(weights.size());
  for (std::int64_t o = 0; o < out; ++o) {
    for (std::int64_t ib = 0; ib < in; ib += block) {
      for (std::int64_t t = 0; t < taps; ++t) {
        double sum = 0;
        for (int i = 0; i < block; ++i) {
          const double w = weights[(o * in + ib + i) * taps + t];
          sum += w * w;
        }
        const float rms = static_cast<float>(std::sqrt(sum / block));
        for (int i = 0; i < block; ++i) scores[(o * in + ib + i) * taps + t] = rms;
      }
    }
  }
  return scores;
}

PruneDecision decide(const std::vector<PruneLayer>& layers, const PruneRecipe& r, double knob,
                     bool deployed_scope) {
  PruneDecision d;
  d.knob = knob;
  for (const auto& l : layers) {
    const std::int64_t alive = static_cast<std::int64_t>(l.survivors.size());
    auto count_above = [&](double t) {
      auto pos = std::upper_bound(l.survivors.begin(), l.survivors.end(), static_cast<float>(t));
      return static_cast<std::int64_t>(l.survivors.end() - pos);
    };
    std::int64_t keep = alive;
    if (l.fixed_sparsity >= 0 || r.mode == "layer") {
      double sparsity = l.fixed_sparsity >= 0 ? l.fixed_sparsity : knob;
      keep = static_cast<std::int64_t>(std::llround((1.0 - sparsity) * l.params));
    } else if (r.mode == "std") {
      keep = count_above(knob * l.std_dev);
    } else if (r.mode == "global") {
      keep = count_above(knob);
    } else if (r.mode == "cost") {
      double scale = (r.cost_normalize == "std" ? l.std_dev : 1.0) * std::pow(l.cost, r.cost_alpha);
      keep = count_above(knob * scale);
    }
    std::int64_t floor = static_cast<std::int64_t>(std::ceil(r.min_density * l.params));
    keep = std::max(keep, std::min(floor, alive));
    keep = std::min(std::max<std::int64_t>(keep, 0), alive);
    double threshold = keep == alive ? -1.0 : l.survivors[alive - keep - 1];
    // Ties at the threshold value are pruned too; recount so that `keep` is exact.
    if (keep < alive) keep = count_above(threshold);
    d.keep.push_back(keep);
    d.threshold.push_back(threshold);
    if (!deployed_scope || l.deployed) d.kept_in_scope += keep;
  }
  return d;
}

PruneDecision decide_for_target(const std::vector<PruneLayer>& layers, const PruneRecipe& r,
                                std::int64_t target, bool deployed_scope) {
  double lo = 0.0, hi = 1.0;
  if (r.mode != "layer") {
    // Magnitudes are O(1) at most; grow hi until the target is met.
    while (decide(layers, r, hi, deployed_scope).kept_in_scope > target && hi < 1e12) hi *= 2;
  }
  PruneDecision best = decide(layers, r, hi, deployed_scope);
  if (best.kept_in_scope > target) {
    std::cerr << "warning: target of " << target << " nonzeros unreachable (min_density or fixed "
              << "layer sparsities keep " << best.kept_in_scope << ")\n";
    return best;
  }
  if (decide(layers, r, lo, deployed_scope).kept_in_scope <= target) {
    return decide(layers, r, lo, deployed_scope);
  }
  for (int i = 0; i < 200 && hi - lo > 1e-12 * std::max(1.0, hi); ++i) {
    double mid = 0.5 * (lo + hi);
    PruneDecision d = decide(layers, r, mid, deployed_scope);
    if (d.kept_in_scope <= target) {
      hi = mid;
      best = d;
    } else {
      lo = mid;
    }
  }
  return best;
}

PruneDecision decide_groups(const std::vector<PruneLayer>& layers, const PruneRecipe& r,
                            std::int64_t target, std::int64_t aux_target) {
  if (!r.aux_group) return decide_for_target(layers, r, target, r.scope == "deployed");
  std::vector<PruneLayer> main_layers, aux_layers;
  for (const auto& l : layers) (l.deployed ? main_layers : aux_layers).push_back(l);
  PruneDecision main = decide_for_target(main_layers, r, target, /*deployed_scope=*/true);
  PruneDecision aux;
  if (aux_target >= 0 && !aux_layers.empty()) {
    PruneRecipe ar = r;
    ar.mode = r.aux_mode;
    ar.scope = "training";
    ar.min_density = 0.0;
    ar.layer_sparsity.clear();
    aux = decide_for_target(aux_layers, ar, aux_target, /*deployed_scope=*/false);
  }
  // Merge back in layer order; `knob` and `kept_in_scope` describe the main group.
  PruneDecision d;
  d.knob = main.knob;
  d.kept_in_scope = main.kept_in_scope;
  std::size_t m = 0, a = 0;
  for (const auto& l : layers) {
    if (l.deployed) {
      d.keep.push_back(main.keep[m]);
      d.threshold.push_back(main.threshold[m]);
      ++m;
    } else if (!aux.keep.empty()) {
      d.keep.push_back(aux.keep[a]);
      d.threshold.push_back(aux.threshold[a]);
      ++a;
    } else {
      d.keep.push_back(static_cast<std::int64_t>(l.survivors.size()));
      d.threshold.push_back(-1.0);
    }
  }
  return d;
}

}  // namespace gnconvert
