#include "prune/stages.h"

#include <string>

#include "prune/pruner.h"
#include "report/layer_report.h"
#include "train/checkpoint.h"
#include "train/distill.h"
#include "train/evaluation.h"
#include "util/text.h"

namespace gnconvert {

using json = nlohmann::json;

namespace {

using Plan = std::shared_ptr<const PrunePlan>;

json decision_json(Session& s, const PruneDecision& d) {
  return json{{"knob", d.knob},
              {"kept_in_scope", d.kept_in_scope},
              {"nonzeros_training", count_nonzeros(s.net, false)},
              {"nonzeros_deployed", count_nonzeros(s.net, true)}};
}

std::int64_t start_nonzeros(Session& s) {
  return s.report["start"]["nonzeros_in_scope"].get<std::int64_t>();
}

Stage action(const std::string& name, std::function<void(Session&)> fn) {
  Stage stage;
  stage.name = name;
  stage.action = std::move(fn);
  return stage;
}

Stage training(const std::string& name, const OptimOptions& optim,
               std::shared_ptr<Distiller> distill) {
  Stage stage;
  stage.name = name;
  stage.train = true;
  stage.optim = optim;
  stage.distill = std::move(distill);
  return stage;
}

// Accuracies and counts before pruning: the reference of every later step.
Stage baseline(Plan plan) {
  return action("baseline", [plan](Session& s) {
    const PruneTargets& t = plan->targets;
    EvalResult val = evaluate_validation(s), test = evaluate_test(s);
    s.report["start"] = {{"validation_accuracy", val.accuracy},
                         {"test_accuracy", test.accuracy},
                         {"nonzeros_in_scope", count_nonzeros(s.net, t.deployed_scope)},
                         {"nonzeros_training", count_nonzeros(s.net, false)},
                         {"nonzeros_deployed", count_nonzeros(s.net, true)}};
    s.report["iterations"] = json::array();
    log_line(s, "start: validation " + percent(val.accuracy) + ", test " + percent(test.accuracy) +
                    ", " + std::to_string(count_nonzeros(s.net, false)) + " nonzeros; target " +
                    std::to_string(t.final_target) + " in the " + plan->recipe.scope + " graph");
  });
}

// Iteration i of an iterative schedule: prune to the iteration's target (or knob), re-estimate
// BatchNorm, evaluate.
Stage prune_step(Plan plan, int i) {
  const std::string name = "prune-" + std::to_string(i + 1);
  return action(name, [plan, i, name](Session& s) {
    const PruneRecipe& recipe = plan->recipe;
    const std::int64_t target = iterative_target(recipe, plan->targets, i, start_nonzeros(s));
    PruneDecision d = recipe.knobs.empty() ? prune_to(s, recipe, target, plan->targets.aux_final)
                                           : prune_with_knob(s, recipe, recipe.knobs[i]);
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
                    " (deployed); validation after BN re-estimation " + percent(val.accuracy));
  });
}

Stage eval_after_retrain(int i) {
  return action("eval-" + std::to_string(i + 1), [i](Session& s) {
    EvalResult val = evaluate_validation(s);
    s.report["iterations"][i]["after_retrain"] = val.accuracy;
    log_line(s, "iteration " + std::to_string(i + 1) + " after_retrain: validation " +
                    percent(val.accuracy));
  });
}

// iteration-<i>.pt and iteration-<i>.json: one point of the trade-off curve.
Stage snapshot(int i) {
  return action("snapshot-" + std::to_string(i + 1), [i](Session& s) {
    const std::string base = s.run.out_dir + "/iteration-" + std::to_string(i + 1);
    EvalResult test = evaluate_test(s);
    s.report["iterations"][i]["test_accuracy"] = test.accuracy;
    json layers = layer_report(s);
    json record = {{"iteration", i + 1},
                   {"checkpoint", base + ".pt"},
                   {"record", s.report["iterations"][i]},
                   {"test_images", test.count},
                   {"training_graph", layers["training_graph"]},
                   {"deployed_graph", layers["deployed_graph"]},
                   {"layers", layers["layers"]},
                   {"resolution", layers["resolution"]}};
    save_checkpoint(s, base + ".pt", nullptr);
    write_output(s, base + ".json", record.dump(2) + "\n");
    log_line(s, "snapshot " + base + ".pt: test " + percent(test.accuracy) + ", " +
                    std::to_string(layers["deployed_graph"]["nonzeros"].get<int64_t>()) +
                    " deployed nonzeros");
  });
}

void add_iterative(const Plan& plan, const std::shared_ptr<Distiller>& distill,
                   std::vector<Stage>* stages) {
  const PruneRecipe& recipe = plan->recipe;
  for (int i = 0; i < recipe.iterations; ++i) {
    stages->push_back(prune_step(plan, i));
    if (recipe.retrain.epochs > 0) {
      stages->push_back(training("retrain-" + std::to_string(i + 1), recipe.retrain, distill));
      stages->push_back(eval_after_retrain(i));
    }
    if (recipe.snapshots) stages->push_back(snapshot(i));
  }
}

// One training phase that prunes before the optimizer steps the schedule picks.
void add_gradual(const Plan& plan, const std::shared_ptr<Distiller>& distill,
                 std::vector<Stage>* stages) {
  Stage gradual = training("gradual", plan->recipe.retrain, distill);
  gradual.before_step = [plan](Session& s, std::int64_t step, std::int64_t total) {
    std::int64_t target =
        gradual_target(plan->recipe, plan->targets, step, total, start_nonzeros(s));
    if (target >= 0) prune_to(s, plan->recipe, target, plan->targets.aux_final);
  };
  stages->push_back(gradual);
  stages->push_back(action("eval-gradual", [](Session& s) {
    EvalResult val = evaluate_validation(s);
    json record = {{"iteration", 1},
                   {"nonzeros_training", count_nonzeros(s.net, false)},
                   {"nonzeros_deployed", count_nonzeros(s.net, true)},
                   {"after_retrain", val.accuracy}};
    s.report["iterations"][0] = record;
    log_line(s, "gradual pruning done: validation " + percent(val.accuracy));
  }));
}

Stage final_evaluation(std::shared_ptr<Distiller> distill) {
  return action("final", [distill](Session& s) {
    EvalResult val = evaluate_validation(s), test = evaluate_test(s);
    s.report["final"] = {{"validation_accuracy", val.accuracy},
                         {"test_accuracy", test.accuracy},
                         {"test_images", test.count}};
    s.report["test_accuracy"] = test.accuracy;
    if (distill) {
      // The teacher's forward time of the batches this process trained (a resumed run counts
      // only its own part).
      json d = {{"teacher", distill->settings().teacher},
                {"temperature", distill->settings().temperature},
                {"weight", distill->settings().weight},
                {"teacher_batches_this_process", distill->teacher_batches()},
                {"teacher_seconds_this_process", distill->teacher_seconds()}};
      if (!distill->teacher_path().empty()) d["teacher_checkpoint"] = distill->teacher_path();
      s.report["distillation"] = d;
    }
  });
}

}  // namespace

std::vector<Stage> pruning_stages(Plan plan) {
  std::vector<Stage> stages;
  stages.push_back(baseline(plan));
  // The auxiliary heads (aux_final >= 0) reach their target at the first pruning step: they
  // never run at inference and only regularize training, so there is nothing to gain from
  // pruning them gradually (and a gradual aux schedule would hold the training graph far above
  // its target until the last iteration).
  std::shared_ptr<Distiller> distill;
  if (!plan->recipe.distill_teacher.empty()) {
    distill = std::make_shared<Distiller>(DistillSettings{plan->recipe.distill_teacher,
                                                          plan->recipe.distill_temperature,
                                                          plan->recipe.distill_weight});
  }
  if (plan->recipe.schedule == "iterative") {
    add_iterative(plan, distill, &stages);
  } else {
    add_gradual(plan, distill, &stages);
  }
  if (plan->recipe.final_retrain.epochs > 0) {
    stages.push_back(training("final-retrain", plan->recipe.final_retrain, distill));
  }
  stages.push_back(final_evaluation(distill));
  return stages;
}

}  // namespace gnconvert
