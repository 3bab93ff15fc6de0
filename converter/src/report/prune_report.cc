#include "report/prune_report.h"

#include <cmath>
#include <cstdio>
#include <vector>

#include "report/layer_report.h"
#include "report/plot.h"
#include "util/options_json.h"
#include "util/text.h"

namespace gnconvert {

using json = nlohmann::json;

namespace {

std::string density_chart(const json& layers) {
  std::vector<std::string> names;
  std::vector<double> densities;
  for (const auto& row : layers["layers"]) {
    names.push_back(row["name"].get<std::string>());
    densities.push_back(row["density"].get<double>());
  }
  return svg_bar_chart("Density per layer (nonzero weights / weights)", names, densities);
}

// Validation accuracy after every pruning step and retraining, test accuracy at start and end.
std::string accuracy_chart(json report) {
  const double nan = std::nan("");
  std::vector<std::string> steps = {"start"};
  Series validation{"validation", {report["start"]["validation_accuracy"].get<double>()}};
  Series test{"test", {report["start"]["test_accuracy"].get<double>()}};
  for (const auto& it : report["iterations"]) {
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
  validation.values.push_back(report["final"]["validation_accuracy"].get<double>());
  test.values.push_back(report["final"]["test_accuracy"].get<double>());
  return svg_line_chart("Accuracy across the pruning schedule", steps, {validation, test});
}

std::string report_text(json report, const json& layers, const std::string& command_line) {
  std::string text = "# gn-convert prune: " + command_line + "\n" + layer_report_text(layers);
  char line[256];
  std::snprintf(line, sizeof line,
                "accuracy: start validation %s test %s | final validation %s test %s\n",
                percent(report["start"]["validation_accuracy"]).c_str(),
                percent(report["start"]["test_accuracy"]).c_str(),
                percent(report["final"]["validation_accuracy"]).c_str(),
                percent(report["final"]["test_accuracy"]).c_str());
  return text + line;
}

}  // namespace

std::string write_prune_report(const Session& s, const json& layers, const std::string& recipe_text,
                               const std::string& command_line) {
  json results = s.report;  // a copy: operator[] on a missing key gives null, as it always has
  json report = {{"recipe", json::parse(recipe_text, nullptr, false, true)},
                 {"command_lines", s.command_lines},
                 {"from", s.extra.value("from", "")},
                 {"data", s.data},
                 {"start", results["start"]},
                 {"iterations", results["iterations"]},
                 {"final", results["final"]},
                 {"history", s.history},
                 {"layers", layers["layers"]},
                 {"training_graph", layers["training_graph"]},
                 {"deployed_graph", layers["deployed_graph"]},
                 {"resolution", layers["resolution"]}};
  if (results.contains("distillation")) report["distillation"] = results["distillation"];
  const std::string& out = s.run.out_dir;
  write_output(s, out + "/report.json", report.dump(2) + "\n");
  std::string text = report_text(results, layers, command_line);
  write_output(s, out + "/report.txt", text);
  write_output(s, out + "/density.svg", density_chart(layers));
  write_output(s, out + "/accuracy.svg", accuracy_chart(results));
  return text;
}

}  // namespace gnconvert
