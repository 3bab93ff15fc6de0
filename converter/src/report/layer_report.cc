#include "report/layer_report.h"

#include <cstdio>

#include "util/text.h"

namespace gnconvert {

using json = nlohmann::json;

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

}  // namespace gnconvert
