#include "prune/recipe.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

namespace gnconvert {

using json = nlohmann::json;

namespace {

void check_keys(const json& j, const std::set<std::string>& allowed, const std::string& where,
                const std::string& what) {
  if (!j.is_object()) throw RecipeError(what + ": " + where + " must be an object");
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!allowed.count(it.key())) {
      throw RecipeError(what + ": unknown key '" + it.key() + "' in " + where);
    }
  }
}

template <typename T>
T get(const json& j, const char* key, T fallback, const std::string& where,
      const std::string& what) {
  if (!j.contains(key)) return fallback;
  try {
    return j.at(key).get<T>();
  } catch (const json::exception&) {
    throw RecipeError(what + ": " + where + "." + key + " has the wrong type");
  }
}

void range(double v, double lo, double hi, const std::string& name, const std::string& what) {
  if (!(v >= lo && v <= hi)) {
    std::ostringstream s;
    s << what << ": " << name << " = " << v << " out of range [" << lo << ", " << hi << "]";
    throw RecipeError(s.str());
  }
}

OptimOptions parse_optim(const json& j, OptimOptions o, const std::string& where,
                         const std::string& what) {
  check_keys(j,
             {"optimizer", "lr", "lr_min", "schedule", "step_epochs", "gamma", "warmup_epochs",
              "momentum", "nesterov", "weight_decay", "batch", "epochs"},
             where, what);
  o.optimizer = get(j, "optimizer", o.optimizer, where, what);
  o.lr = get(j, "lr", o.lr, where, what);
  o.lr_min = get(j, "lr_min", o.lr_min, where, what);
  o.schedule = get(j, "schedule", o.schedule, where, what);
  o.step_epochs = get(j, "step_epochs", o.step_epochs, where, what);
  o.gamma = get(j, "gamma", o.gamma, where, what);
  o.warmup_epochs = get(j, "warmup_epochs", o.warmup_epochs, where, what);
  o.momentum = get(j, "momentum", o.momentum, where, what);
  o.nesterov = get(j, "nesterov", o.nesterov, where, what);
  o.weight_decay = get(j, "weight_decay", o.weight_decay, where, what);
  o.batch = get(j, "batch", o.batch, where, what);
  o.epochs = get(j, "epochs", o.epochs, where, what);
  if (o.optimizer != "sgd" && o.optimizer != "adam") {
    throw RecipeError(what + ": " + where + ".optimizer must be sgd or adam");
  }
  if (o.schedule != "cosine" && o.schedule != "step" && o.schedule != "constant") {
    throw RecipeError(what + ": " + where + ".schedule must be cosine, step or constant");
  }
  range(o.lr, 0, 10, where + ".lr", what);
  range(o.batch, 1, 100000, where + ".batch", what);
  range(o.epochs, 0, 100000, where + ".epochs", what);
  range(o.momentum, 0, 1, where + ".momentum", what);
  range(o.weight_decay, 0, 1, where + ".weight_decay", what);
  return o;
}

void parse_target(const json& j, const std::string& what, PruneRecipe& r) {
  if (!j.contains("target")) throw RecipeError(what + ": missing 'target'");
  const json& t = j.at("target");
  check_keys(t, {"scope", "nonzeros", "density", "compression"}, "target", what);
  r.scope = get(t, "scope", r.scope, "target", what);
  if (r.scope != "training" && r.scope != "deployed") {
    throw RecipeError(what + ": target.scope must be training or deployed");
  }
  int given = t.contains("nonzeros") + t.contains("density") + t.contains("compression");
  if (given != 1) {
    throw RecipeError(what + ": target needs exactly one of nonzeros, density, compression");
  }
  if (t.contains("nonzeros")) {
    r.target_nonzeros = get<std::int64_t>(t, "nonzeros", 0, "target", what);
    if (r.target_nonzeros < 1) throw RecipeError(what + ": target.nonzeros must be >= 1");
  } else if (t.contains("density")) {
    r.target_density = get<double>(t, "density", 0, "target", what);
    if (!(r.target_density > 0 && r.target_density <= 1)) {
      throw RecipeError(what + ": target.density must be in (0, 1]");
    }
  } else {
    double c = get<double>(t, "compression", 0, "target", what);
    if (!(c >= 1)) throw RecipeError(what + ": target.compression must be >= 1");
    r.target_density = 1.0 / c;
  }
}

void parse_retraining(const json& j, const std::string& what, PruneRecipe& r) {
  r.retrain.lr = 0.01;
  r.retrain.epochs = 1;
  r.retrain.warmup_epochs = 0;
  if (j.contains("retrain")) r.retrain = parse_optim(j.at("retrain"), r.retrain, "retrain", what);
  r.final_retrain = r.retrain;
  r.final_retrain.epochs = 0;
  if (j.contains("final_retrain")) {
    r.final_retrain = parse_optim(j.at("final_retrain"), r.final_retrain, "final_retrain", what);
  }
}

void parse_schedule(const json& j, const std::string& what, PruneRecipe& r) {
  if (j.contains("schedule")) {
    const json& s = j.at("schedule");
    check_keys(s, {"type", "iterations", "densities", "knobs", "begin", "end", "frequency"},
               "schedule", what);
    r.schedule = get(s, "type", r.schedule, "schedule", what);
    if (r.schedule != "iterative" && r.schedule != "gradual" && r.schedule != "oneshot") {
      throw RecipeError(what + ": schedule.type must be iterative, gradual or oneshot");
    }
    r.iterations = get(s, "iterations", r.iterations, "schedule", what);
    r.densities = get(s, "densities", r.densities, "schedule", what);
    r.knobs = get(s, "knobs", r.knobs, "schedule", what);
    r.gradual_begin = get(s, "begin", r.gradual_begin, "schedule", what);
    r.gradual_end = get(s, "end", r.gradual_end, "schedule", what);
    r.gradual_frequency = get(s, "frequency", r.gradual_frequency, "schedule", what);
  }
  if (r.schedule == "oneshot") {
    r.iterations = 1;
    r.schedule = "iterative";
  }
  if (!r.densities.empty() && !r.knobs.empty()) {
    throw RecipeError(what + ": schedule.densities and schedule.knobs exclude each other");
  }
  if (!r.densities.empty()) r.iterations = static_cast<int>(r.densities.size());
  if (!r.knobs.empty()) r.iterations = static_cast<int>(r.knobs.size());
  range(r.iterations, 1, 1000, "schedule.iterations", what);
  for (double d : r.densities) range(d, 1e-9, 1, "schedule.densities[]", what);
  for (double k : r.knobs) range(k, 0, 1e9, "schedule.knobs[]", what);
  range(r.gradual_begin, 0, 1, "schedule.begin", what);
  range(r.gradual_end, 0, 1, "schedule.end", what);
  if (r.gradual_end < r.gradual_begin) throw RecipeError(what + ": schedule.end < schedule.begin");
  range(r.gradual_frequency, 1, 100000000, "schedule.frequency", what);
  if (r.schedule == "gradual" && r.retrain.epochs < 1) {
    throw RecipeError(what + ": gradual pruning needs retrain.epochs >= 1");
  }
}

void parse_cost(const json& j, const std::string& what, PruneRecipe& r) {
  if (j.contains("cost")) {
    const json& c = j.at("cost");
    check_keys(c, {"alpha", "size", "height", "width", "normalize"}, "cost", what);
    r.cost_alpha = get(c, "alpha", r.cost_alpha, "cost", what);
    int size = get(c, "size", 0, "cost", what);
    r.cost_height = get(c, "height", size, "cost", what);
    r.cost_width = get(c, "width", size, "cost", what);
    r.cost_normalize = get(c, "normalize", r.cost_normalize, "cost", what);
    range(r.cost_alpha, 0, 4, "cost.alpha", what);
    range(r.cost_height, 0, 4096, "cost.height", what);
    range(r.cost_width, 0, 4096, "cost.width", what);
    if (r.cost_normalize != "none" && r.cost_normalize != "std") {
      throw RecipeError(what + ": cost.normalize must be none or std");
    }
  }
  if (j.contains("layers")) {
    if (r.mode != "layer") throw RecipeError(what + ": 'layers' is only used by mode layer");
    const json& l = j.at("layers");
    if (!l.is_object()) throw RecipeError(what + ": layers must map layer names to sparsities");
    for (auto it = l.begin(); it != l.end(); ++it) {
      if (!it.value().is_number()) {
        throw RecipeError(what + ": layers." + it.key() + " must be a number");
      }
      double s = it.value().get<double>();
      range(s, 0, 1, "layers." + it.key(), what);
      r.layer_sparsity[it.key()] = s;
    }
  }
}

void parse_aux(const json& j, const std::string& what, PruneRecipe& r) {
  if (j.contains("aux")) {
    const json& a = j.at("aux");
    check_keys(a, {"mode", "nonzeros", "density", "compression"}, "aux", what);
    r.aux_group = true;
    r.aux_mode = get(a, "mode", r.aux_mode, "aux", what);
    if (r.aux_mode != "std" && r.aux_mode != "global") {
      throw RecipeError(what + ": aux.mode must be std or global");
    }
    int n = a.contains("nonzeros") + a.contains("density") + a.contains("compression");
    if (n != 1)
      throw RecipeError(what + ": aux needs exactly one of nonzeros, density, compression");
    if (a.contains("nonzeros")) {
      r.aux_target_nonzeros = get<std::int64_t>(a, "nonzeros", 0, "aux", what);
      if (r.aux_target_nonzeros < 0) throw RecipeError(what + ": aux.nonzeros must be >= 0");
    } else if (a.contains("density")) {
      r.aux_target_density = get<double>(a, "density", 0, "aux", what);
      if (!(r.aux_target_density >= 0 && r.aux_target_density <= 1)) {
        throw RecipeError(what + ": aux.density must be in [0, 1]");
      }
    } else {
      double c = get<double>(a, "compression", 0, "aux", what);
      if (!(c >= 1)) throw RecipeError(what + ": aux.compression must be >= 1");
      r.aux_target_density = 1.0 / c;
    }
    if (r.scope != "deployed") {
      throw RecipeError(what +
                        ": with 'aux', target.scope must be \"deployed\" (the auxiliary heads have "
                        "their own target)");
    }
    if (!r.knobs.empty()) throw RecipeError(what + ": 'aux' needs targets, not schedule.knobs");
  }
}

}  // namespace

PruneRecipe parse_recipe(const std::string& text, const std::string& what) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false, /*ignore_comments=*/true);
  if (j.is_discarded()) throw RecipeError(what + ": not valid JSON");
  check_keys(j,
             {"mode", "target", "schedule", "retrain", "final_retrain", "min_density",
              "bn_recalibration_batches", "cost", "layers", "description", "aux", "snapshots",
              "block", "distillation"},
             "the recipe", what);
  PruneRecipe r;
  r.text = text;
  r.mode = get(j, "mode", r.mode, "recipe", what);
  if (r.mode != "std" && r.mode != "global" && r.mode != "layer" && r.mode != "cost") {
    throw RecipeError(what + ": mode must be std, global, layer or cost (got '" + r.mode + "')");
  }

  parse_target(j, what, r);
  parse_retraining(j, what, r);
  parse_schedule(j, what, r);
  r.min_density = get(j, "min_density", r.min_density, "recipe", what);
  range(r.min_density, 0, 1, "min_density", what);
  r.bn_batches = get(j, "bn_recalibration_batches", r.bn_batches, "recipe", what);
  range(r.bn_batches, 0, 1000000, "bn_recalibration_batches", what);

  parse_cost(j, what, r);
  parse_aux(j, what, r);
  r.snapshots = get(j, "snapshots", r.snapshots, "recipe", what);
  if (j.contains("block")) {
    const json& b = j.at("block");
    check_keys(b, {"input_channels"}, "block", what);
    r.block_input_channels = get(b, "input_channels", r.block_input_channels, "block", what);
    if (r.block_input_channels != 1 && r.block_input_channels != 2 && r.block_input_channels != 4 &&
        r.block_input_channels != 8) {
      throw RecipeError(what + ": block.input_channels must be 1, 2, 4 or 8");
    }
  }
  if (j.contains("distillation")) {
    const json& d = j.at("distillation");
    check_keys(d, {"teacher", "temperature", "weight"}, "distillation", what);
    r.distill_teacher = get(d, "teacher", std::string(), "distillation", what);
    if (r.distill_teacher.empty())
      throw RecipeError(what + ": distillation.teacher must name a checkpoint (or \"from\")");
    r.distill_temperature = get(d, "temperature", r.distill_temperature, "distillation", what);
    if (!(r.distill_temperature > 0) || !(r.distill_temperature <= 100))
      throw RecipeError(what + ": distillation.temperature must be in (0, 100]");
    r.distill_weight = get(d, "weight", r.distill_weight, "distillation", what);
    range(r.distill_weight, 0, 1, "distillation.weight", what);
  }
  if (r.snapshots && r.schedule != "iterative") {
    throw RecipeError(what + ": snapshots are kept per iteration of an iterative schedule");
  }
  return r;
}

PruneRecipe read_recipe(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw RecipeError("cannot open recipe " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return parse_recipe(s.str(), path);
}

}  // namespace gnconvert
