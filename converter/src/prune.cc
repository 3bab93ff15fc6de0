#include "prune.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <sys/stat.h>

#include "options_json.h"
#include "plot.h"

namespace gnconvert {

using json = nlohmann::json;

void make_dirs(const std::string& path);  // commands.cc
bool file_exists(const std::string& path);
std::string shape_string(const std::vector<int64_t>& shape);
void check_geometry(GoogLeNet& net, int height, int width);

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
    torch::Tensor alive = w.abs();
    auto it = s.masks.find(layer.name);
    if (it != s.masks.end()) alive = alive.masked_select(it->second.flatten() > 0.5);
    alive = std::get<0>(alive.sort()).contiguous();
    p.survivors.assign(alive.data_ptr<float>(), alive.data_ptr<float>() + alive.numel());
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

void apply_decision(Session& s, const std::vector<PruneLayer>& layers, const PruneDecision& d) {
  torch::NoGradGuard no_grad;
  auto model = model_layers(s.net);
  for (std::size_t i = 0; i < model.size(); ++i) {
    const Layer& layer = model[i];
    if (layer.name != layers[i].name) throw std::logic_error("layer order changed");
    auto keep = (layer.weight.abs() > d.threshold[i]).to(torch::kFloat);
    auto it = s.masks.find(layer.name);
    if (it != s.masks.end()) keep.mul_(it->second);
    s.masks[layer.name] = keep;
  }
  apply_masks(s);
  json thresholds = json::object();
  for (std::size_t i = 0; i < layers.size(); ++i) thresholds[layers[i].name] = d.threshold[i];
  s.report["last_thresholds"] = thresholds;
}

namespace {

int cost_height(const Session& s, const PruneRecipe& r) {
  return r.cost_height > 0 ? r.cost_height : s.data.height;
}
int cost_width(const Session& s, const PruneRecipe& r) {
  return r.cost_width > 0 ? r.cost_width : s.data.width;
}

}  // namespace

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

PruneDecision prune_to(Session& s, const PruneRecipe& r, std::int64_t target,
                       std::int64_t aux_target) {
  auto layers = prune_layers(s, r, cost_height(s, r), cost_width(s, r));
  auto d = decide_groups(layers, r, target, aux_target);
  apply_decision(s, layers, d);
  return d;
}

PruneDecision prune_with_knob(Session& s, const PruneRecipe& r, double knob) {
  auto layers = prune_layers(s, r, cost_height(s, r), cost_width(s, r));
  auto d = decide(layers, r, knob, r.scope == "deployed");
  apply_decision(s, layers, d);
  return d;
}

json layer_report(Session& s) {
  auto at_train = measure_geometry(s.net, s.data.height, s.data.width);
  auto at_224 = measure_geometry(s.net, 224, 224);
  auto layers = model_layers(s.net);
  json rows = json::array();
  struct Totals {
    std::int64_t params = 0, nonzeros = 0, macs = 0, macs_kept = 0, macs_224 = 0, macs_kept_224 = 0;
  } training, deployed;
  for (std::size_t i = 0; i < layers.size(); ++i) {
    const auto& g = at_train[i];
    std::int64_t nz = layers[i].weight.ne(0).sum().item<int64_t>();
    std::int64_t per_weight = g.is_fc ? 1 : static_cast<std::int64_t>(g.out_h) * g.out_w;
    std::int64_t per_weight_224 =
        at_224[i].is_fc ? 1 : static_cast<std::int64_t>(at_224[i].out_h) * at_224[i].out_w;
    json row = {{"name", g.name},
                {"threshold", s.report.contains("last_thresholds")
                                  ? s.report["last_thresholds"].value(g.name, -1.0)
                                  : -1.0},
                {"shape", g.shape},
                {"deployed", g.deployed},
                {"params", g.params},
                {"nonzeros", nz},
                {"density", g.params ? static_cast<double>(nz) / g.params : 0.0},
                {"macs", g.macs},
                {"macs_kept", nz * per_weight},
                {"macs_224", at_224[i].macs},
                {"macs_kept_224", nz * per_weight_224}};
    rows.push_back(row);
    for (Totals* t : {&training, &deployed}) {
      if (t == &deployed && !g.deployed) continue;
      t->params += g.params;
      t->nonzeros += nz;
      t->macs += g.macs;
      t->macs_kept += nz * per_weight;
      t->macs_224 += at_224[i].macs;
      t->macs_kept_224 += nz * per_weight_224;
    }
  }
  auto totals = [](const Totals& t) {
    return json{{"params", t.params},
                {"nonzeros", t.nonzeros},
                {"compression", t.nonzeros ? static_cast<double>(t.params) / t.nonzeros : 0.0},
                {"macs", t.macs},
                {"macs_kept", t.macs_kept},
                {"macs_fraction", t.macs ? static_cast<double>(t.macs_kept) / t.macs : 0.0},
                {"macs_224", t.macs_224},
                {"macs_kept_224", t.macs_kept_224},
                {"macs_fraction_224",
                 t.macs_224 ? static_cast<double>(t.macs_kept_224) / t.macs_224 : 0.0}};
  };
  return json{{"resolution", {s.data.height, s.data.width}},
              {"layers", rows},
              {"training_graph", totals(training)},
              {"deployed_graph", totals(deployed)}};
}

std::string layer_report_text(const json& report) {
  std::string out;
  char line[512];
  const int h = report["resolution"][0], w = report["resolution"][1];
  std::snprintf(line, sizeof line, "%-24s %-16s %10s %10s %8s %10s %14s %14s %16s %16s\n", "layer",
                "shape", "params", "nonzeros", "density", "threshold",
                ("MACs@" + std::to_string(h) + "x" + std::to_string(w)).c_str(), "MACs kept",
                "MACs@224", "MACs kept@224");
  out += line;
  for (const auto& row : report["layers"]) {
    char threshold[32] = "-";
    if (row.contains("threshold") && row["threshold"].get<double>() >= 0) {
      std::snprintf(threshold, sizeof threshold, "%.3g", row["threshold"].get<double>());
    }
    std::snprintf(
        line, sizeof line, "%-24s %-16s %10lld %10lld %7.2f%% %10s %14lld %14lld %16lld %16lld%s\n",
        row["name"].get<std::string>().c_str(),
        shape_string(row["shape"].get<std::vector<int64_t>>()).c_str(),
        row["params"].get<long long>(), row["nonzeros"].get<long long>(),
        100.0 * row["density"].get<double>(), threshold, row["macs"].get<long long>(),
        row["macs_kept"].get<long long>(), row["macs_224"].get<long long>(),
        row["macs_kept_224"].get<long long>(), row["deployed"].get<bool>() ? "" : "  (aux)");
    out += line;
  }
  for (const char* graph : {"training_graph", "deployed_graph"}) {
    const json& t = report[graph];
    std::snprintf(line, sizeof line,
                  "%s: %lld / %lld weights (%.1fx), MACs kept %.2f%% at %dx%d, %.2f%% at 224x224\n",
                  graph, t["nonzeros"].get<long long>(), t["params"].get<long long>(),
                  t["compression"].get<double>(), 100.0 * t["macs_fraction"].get<double>(), h, w,
                  100.0 * t["macs_fraction_224"].get<double>());
    out += line;
  }
  return out;
}

namespace {

json decision_json(Session& s, const PruneDecision& d) {
  return json{{"knob", d.knob},
              {"kept_in_scope", d.kept_in_scope},
              {"nonzeros_training", count_nonzeros(s.net, false)},
              {"nonzeros_deployed", count_nonzeros(s.net, true)}};
}

std::string pct(double f) {
  char b[32];
  std::snprintf(b, sizeof b, "%.2f%%", 100 * f);
  return b;
}

}  // namespace

int run_prune(const PruneOptions& o) {
  Session s;
  s.run = o.run;
  set_threads(s.run.threads);
  start_distributed(s);  // data-parallel group (docs/distributed.md); a no-op for one process
  make_dirs(s.run.out_dir);
  const std::string ckpt = s.checkpoint_path();
  PruneRecipe recipe;
  if (file_exists_shared(s, ckpt)) {
    if (!o.run.resume) {
      throw std::runtime_error(ckpt +
                               " exists; pass --resume to continue it or choose another --out");
    }
    json meta = read_checkpoint_meta(s, ckpt);
    if (!meta["extra"].contains("recipe")) throw std::runtime_error(ckpt + ": not a prune run");
    s.data = meta.at("data").get<DataOptions>();
    s.model = meta.at("model").get<ModelOptions>();
    load_data(s);
    load_checkpoint(s, ckpt, /*weights_only=*/false);
    recipe = parse_recipe(s.extra["recipe"].get<std::string>(), ckpt + " (saved recipe)");
    log_line(s, "resuming " + ckpt + " at stage " + std::to_string(s.stage));
  } else {
    if (o.run.resume) throw std::runtime_error("nothing to resume: " + ckpt + " does not exist");
    if (o.from_checkpoint.empty()) throw std::invalid_argument("--from is required");
    recipe = read_recipe(o.recipe_path);
    json meta = read_checkpoint_meta(o.from_checkpoint);
    s.data = meta.at("data").get<DataOptions>();
    s.model = meta.at("model").get<ModelOptions>();
    if (!o.data.data_dir.empty()) s.data.data_dir = o.data.data_dir;
    s.data.limit_train = o.data.limit_train;
    s.data.limit_validation = o.data.limit_validation;
    s.data.limit_test = o.data.limit_test;
    load_data(s);
    load_checkpoint(s, o.from_checkpoint, /*weights_only=*/true);
    s.optim = recipe.retrain;
    s.extra["recipe"] = recipe.text;
    s.extra["from"] = o.from_checkpoint;
  }
  s.command_lines.push_back(o.run.command_line);
  check_geometry(s.net, s.data.height, s.data.width);

  const bool deployed_scope = recipe.scope == "deployed";
  const std::int64_t scope_params = count_params(s.net, deployed_scope);
  const std::int64_t final_target =
      recipe.target_nonzeros > 0
          ? recipe.target_nonzeros
          : static_cast<std::int64_t>(std::llround(recipe.target_density * scope_params));
  if (final_target > scope_params) {
    throw RecipeError("target of " + std::to_string(final_target) + " nonzeros exceeds the " +
                      std::to_string(scope_params) + " weights in scope");
  }
  const std::int64_t aux_params = count_params(s.net, false) - count_params(s.net, true);
  std::int64_t aux_final = -1;
  if (recipe.aux_group) {
    aux_final =
        recipe.aux_target_nonzeros > 0 || recipe.aux_target_density == 0
            ? recipe.aux_target_nonzeros
            : static_cast<std::int64_t>(std::llround(recipe.aux_target_density * aux_params));
    if (aux_final > aux_params) {
      throw RecipeError("aux target of " + std::to_string(aux_final) + " nonzeros exceeds the " +
                        std::to_string(aux_params) + " auxiliary weights");
    }
  }
  // The auxiliary heads (aux_final >= 0) reach their target at the first pruning step: they
  // never run at inference and only regularize training, so there is nothing to gain from
  // pruning them gradually (and a gradual aux schedule would hold the training graph far above
  // its target until the last iteration).

  std::vector<Stage> stages;
  Stage baseline;
  baseline.name = "baseline";
  baseline.action = [&](Session& s) {
    EvalResult val = evaluate_validation(s), test = evaluate_test(s);
    s.report["start"] = {{"validation_accuracy", val.accuracy},
                         {"test_accuracy", test.accuracy},
                         {"nonzeros_in_scope", count_nonzeros(s.net, deployed_scope)},
                         {"nonzeros_training", count_nonzeros(s.net, false)},
                         {"nonzeros_deployed", count_nonzeros(s.net, true)}};
    s.report["iterations"] = json::array();
    log_line(s, "start: validation " + pct(val.accuracy) + ", test " + pct(test.accuracy) + ", " +
                    std::to_string(count_nonzeros(s.net, false)) + " nonzeros; target " +
                    std::to_string(final_target) + " in the " + recipe.scope + " graph");
  };
  stages.push_back(baseline);

  auto start_nonzeros = [](Session& s) {
    return s.report["start"]["nonzeros_in_scope"].get<std::int64_t>();
  };
  auto eval_after = [&](const std::string& key, int iteration) {
    return [&, key, iteration](Session& s) {
      EvalResult val = evaluate_validation(s);
      s.report["iterations"][iteration][key] = val.accuracy;
      log_line(s, "iteration " + std::to_string(iteration + 1) + " " + key + ": validation " +
                      pct(val.accuracy));
    };
  };

  if (recipe.schedule == "iterative") {
    for (int i = 0; i < recipe.iterations; ++i) {
      Stage prune;
      prune.name = "prune-" + std::to_string(i + 1);
      prune.action = [&, i, name = prune.name](Session& s) {
        PruneDecision d;
        std::int64_t target = -1;
        if (!recipe.knobs.empty()) {
          d = prune_with_knob(s, recipe, recipe.knobs[i]);
        } else {
          double density;
          if (!recipe.densities.empty()) {
            density = recipe.densities[i];
            target = static_cast<std::int64_t>(std::llround(density * scope_params));
          } else {
            double start = static_cast<double>(start_nonzeros(s));
            target = static_cast<std::int64_t>(std::llround(iterative_density(
                start, static_cast<double>(final_target), i + 1, recipe.iterations)));
          }
          d = prune_to(s, recipe, target, aux_final);
        }
        if (recipe.bn_batches > 0) recalibrate_batchnorm(s, recipe.bn_batches);
        EvalResult val = evaluate_validation(s);
        json record = decision_json(s, d);
        record["iteration"] = i + 1;
        record["target"] = target;
        record["after_prune"] = val.accuracy;
        s.report["iterations"][i] = record;
        log_line(s, name + ": " + std::to_string(record["nonzeros_training"].get<int64_t>()) +
                        " nonzeros (training graph), " +
                        std::to_string(record["nonzeros_deployed"].get<int64_t>()) +
                        " (deployed); validation after BN re-estimation " + pct(val.accuracy));
      };
      stages.push_back(prune);
      if (recipe.retrain.epochs > 0) {
        Stage retrain;
        retrain.name = "retrain-" + std::to_string(i + 1);
        retrain.train = true;
        retrain.optim = recipe.retrain;
        stages.push_back(retrain);
        Stage after;
        after.name = "eval-" + std::to_string(i + 1);
        after.action = eval_after("after_retrain", i);
        stages.push_back(after);
      }
      if (recipe.snapshots) {
        Stage snap;
        snap.name = "snapshot-" + std::to_string(i + 1);
        snap.action = [&, i](Session& s) {
          const std::string base = s.run.out_dir + "/iteration-" + std::to_string(i + 1);
          EvalResult test = evaluate_test(s);
          s.report["iterations"][i]["test_accuracy"] = test.accuracy;
          json layers = layer_report(s);
          json snapshot = {{"iteration", i + 1},
                           {"checkpoint", base + ".pt"},
                           {"record", s.report["iterations"][i]},
                           {"test_images", test.count},
                           {"training_graph", layers["training_graph"]},
                           {"deployed_graph", layers["deployed_graph"]},
                           {"layers", layers["layers"]},
                           {"resolution", layers["resolution"]}};
          save_checkpoint(s, base + ".pt", nullptr);
          write_file_atomic(base + ".json", snapshot.dump(2) + "\n");
          log_line(s, "snapshot " + base + ".pt: test " + pct(test.accuracy) + ", " +
                          std::to_string(layers["deployed_graph"]["nonzeros"].get<int64_t>()) +
                          " deployed nonzeros");
        };
        stages.push_back(snap);
      }
    }
  } else {  // gradual
    Stage gradual;
    gradual.name = "gradual";
    gradual.train = true;
    gradual.optim = recipe.retrain;
    gradual.before_step = [&](Session& s, std::int64_t step, std::int64_t total) {
      std::int64_t t0 = static_cast<std::int64_t>(recipe.gradual_begin * total);
      std::int64_t t1 =
          std::min<std::int64_t>(total - 1, static_cast<std::int64_t>(recipe.gradual_end * total));
      if (step < t0 || step > t1) return;
      if (step != t1 && (step - t0) % recipe.gradual_frequency != 0) return;
      double start = static_cast<double>(start_nonzeros(s)) / scope_params;
      double end = static_cast<double>(final_target) / scope_params;
      double progress = t1 > t0 ? static_cast<double>(step - t0) / (t1 - t0) : 1.0;
      auto target = static_cast<std::int64_t>(
          std::llround(gradual_density(start, end, progress) * scope_params));
      prune_to(s, recipe, target, aux_final);
    };
    stages.push_back(gradual);
    Stage after;
    after.name = "eval-gradual";
    after.action = [&](Session& s) {
      EvalResult val = evaluate_validation(s);
      json record = {{"iteration", 1},
                     {"nonzeros_training", count_nonzeros(s.net, false)},
                     {"nonzeros_deployed", count_nonzeros(s.net, true)},
                     {"after_retrain", val.accuracy}};
      s.report["iterations"][0] = record;
      log_line(s, "gradual pruning done: validation " + pct(val.accuracy));
    };
    stages.push_back(after);
  }
  if (recipe.final_retrain.epochs > 0) {
    Stage final_retrain;
    final_retrain.name = "final-retrain";
    final_retrain.train = true;
    final_retrain.optim = recipe.final_retrain;
    stages.push_back(final_retrain);
  }
  Stage finish;
  finish.name = "final";
  finish.action = [&](Session& s) {
    EvalResult val = evaluate_validation(s), test = evaluate_test(s);
    s.report["final"] = {{"validation_accuracy", val.accuracy},
                         {"test_accuracy", test.accuracy},
                         {"test_images", test.count}};
    s.report["test_accuracy"] = test.accuracy;
  };
  stages.push_back(finish);

  if (!run_stages(s, stages)) {
    log_line(s, "stopped after " + std::to_string(s.global_step) + " steps (--max-steps)");
    return 0;
  }
  // Pruned weights must still be exactly zero.
  for (const auto& layer : model_layers(s.net)) {
    auto it = s.masks.find(layer.name);
    if (it != s.masks.end() &&
        layer.weight.masked_select(it->second < 0.5).ne(0).any().item<bool>()) {
      throw std::logic_error("pruned weights of " + layer.name + " are not zero");
    }
  }
  json layers = layer_report(s);
  json report = {{"recipe", json::parse(recipe.text, nullptr, false, true)},
                 {"command_lines", s.command_lines},
                 {"from", s.extra.value("from", "")},
                 {"data", s.data},
                 {"start", s.report["start"]},
                 {"iterations", s.report["iterations"]},
                 {"final", s.report["final"]},
                 {"history", s.history},
                 {"layers", layers["layers"]},
                 {"training_graph", layers["training_graph"]},
                 {"deployed_graph", layers["deployed_graph"]},
                 {"resolution", layers["resolution"]}};
  s.report["pruning"] = {{"training_graph", layers["training_graph"]},
                         {"deployed_graph", layers["deployed_graph"]},
                         {"method", recipe.mode + "/" + recipe.schedule},
                         {"recipe", recipe.text}};
  save_checkpoint(s, ckpt, nullptr);
  write_file_atomic(s.run.out_dir + "/report.json", report.dump(2) + "\n");
  std::string text = "# gn-convert prune: " + o.run.command_line + "\n" + layer_report_text(layers);
  char line[256];
  std::snprintf(line, sizeof line,
                "accuracy: start validation %s test %s | final validation %s test %s\n",
                pct(s.report["start"]["validation_accuracy"]).c_str(),
                pct(s.report["start"]["test_accuracy"]).c_str(),
                pct(s.report["final"]["validation_accuracy"]).c_str(),
                pct(s.report["final"]["test_accuracy"]).c_str());
  text += line;
  write_file_atomic(s.run.out_dir + "/report.txt", text);

  // Plots: per-layer density, and accuracy across the schedule.
  std::vector<std::string> names;
  std::vector<double> densities;
  for (const auto& row : layers["layers"]) {
    names.push_back(row["name"].get<std::string>());
    densities.push_back(row["density"].get<double>());
  }
  write_file_atomic(
      s.run.out_dir + "/density.svg",
      svg_bar_chart("Density per layer (nonzero weights / weights)", names, densities));
  const double nan = std::nan("");
  std::vector<std::string> steps = {"start"};
  Series validation{"validation", {s.report["start"]["validation_accuracy"].get<double>()}};
  Series test{"test", {s.report["start"]["test_accuracy"].get<double>()}};
  for (const auto& it : s.report["iterations"]) {
    if (it.is_null()) continue;
    std::string label = "iteration " + std::to_string(it.value("iteration", 0));
    if (it.contains("after_prune")) {
      steps.push_back(label + " pruned");
      validation.values.push_back(it["after_prune"].get<double>());
      test.values.push_back(nan);
    }
    if (it.contains("after_retrain")) {
      steps.push_back(label + " retrained");
      validation.values.push_back(it["after_retrain"].get<double>());
      test.values.push_back(nan);
    }
  }
  steps.push_back("final");
  validation.values.push_back(s.report["final"]["validation_accuracy"].get<double>());
  test.values.push_back(s.report["final"]["test_accuracy"].get<double>());
  write_file_atomic(
      s.run.out_dir + "/accuracy.svg",
      svg_line_chart("Accuracy across the pruning schedule", steps, {validation, test}));
  if (!s.quiet) std::cout << text;
  return 0;
}

}  // namespace gnconvert
