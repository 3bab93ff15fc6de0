// gn-convert results MANIFEST.json: renders the results table (docs/results.md's format) from the
// JSON outputs of one pipeline run. No LibTorch: this is plain JSON in, Markdown out.
#include "report/results.h"

#include <cmath>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace gnconvert {

using json = nlohmann::json;

namespace {

std::string fmt(const char* f, double v) {
  char b[64];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

std::string count(double n) {
  if (n >= 1e6) return fmt("%.2f M", n / 1e6);
  if (n >= 1e4) return fmt("%.0f K", n / 1e3);
  return fmt("%.0f", n);
}

std::string pct(double f) { return fmt("%.2f%%", 100.0 * f); }

std::string bytes(double b) {
  if (b >= 1e6) return fmt("%.2f MB", b / 1e6);
  return fmt("%.0f KB", b / 1e3);
}

const json& need(const json& j, const char* key, const std::string& where) {
  if (!j.is_object() || !j.contains(key)) {
    throw std::runtime_error("results manifest: " + where + " lacks '" + key + "'");
  }
  return j.at(key);
}

double number(const json& j, const char* key, const std::string& where) {
  const json& v = need(j, key, where);
  if (!v.is_number())
    throw std::runtime_error("results manifest: " + where + "." + key + " is not a number");
  return v.get<double>();
}

// "x ms / y ms (z.zx)" from a bench_sparse --json object.
std::string latency(const json& bench, const std::string& where) {
  const json& e = need(bench, "engines", where);
  double g = number(need(e, "libgnrt", where), "median_ms", where + ".libgnrt");
  double x = number(need(e, "xnnpack_dense", where), "median_ms", where + ".xnnpack_dense");
  double s = number(bench, "speedup_vs_xnnpack_dense", where);
  return fmt("%.3f ms", g) + " vs " + fmt("%.3f ms", x) + " (**" + fmt("%.2f", s) + "x**)";
}

}  // namespace

std::string render_results(const json& m) {
  std::ostringstream out;
  const json& dense = need(m, "dense_eval", "manifest");
  const json& report = need(m, "prune_report", "manifest");
  const json& info = need(m, "gnrt_info", "manifest");
  const json& train = need(report, "training_graph", "prune_report");
  const json& deployed = need(report, "deployed_graph", "prune_report");
  const json& res = need(report, "resolution", "prune_report");
  const int size = res.at(0).get<int>();

  // Accuracy right after pruning (validation, after BatchNorm re-estimation) at each step.
  std::string after_prune = "-";
  if (report.contains("iterations") && report["iterations"].is_array()) {
    std::string s;
    for (const auto& it : report["iterations"]) {
      if (it.is_object() && it.contains("after_prune")) {
        s += (s.empty() ? "" : ", ") + pct(it["after_prune"].get<double>());
      }
    }
    if (!s.empty()) after_prune = s + " (validation, per pruning step)";
  }
  // A full report has "final"; a snapshot (iteration-<i>.json) has its iteration's "record".
  const bool snapshot = !report.contains("final") && report.contains("record");
  if (snapshot && report["record"].contains("after_prune")) {
    after_prune = pct(report["record"]["after_prune"].get<double>()) + " (validation)";
  }
  double test_pruned = snapshot ? number(report["record"], "test_accuracy", "prune_report.record")
                                : number(need(report, "final", "prune_report"), "test_accuracy",
                                         "prune_report.final");
  double dense_acc = number(dense, "accuracy", "dense_eval");

  out << "| | Peng & Wang 2019 (as summarized in issue 5) | gnrt, this run |\n|---|---|---|\n";
  out << "| data, resolution | their setup | Fashion-MNIST, " << size << "x" << size << " |\n";
  out << "| conv+FC weights, training graph (with auxiliary heads) | about 10.4 M | "
      << count(number(train, "params", "training_graph")) << " |\n";
  out << "| conv+FC weights, deployed graph | - | "
      << count(number(deployed, "params", "deployed_graph")) << " |\n";
  out << "| nonzeros after pruning, training graph | about 650 K | "
      << count(number(train, "nonzeros", "training_graph")) << " ("
      << fmt("%.1fx", number(train, "compression", "training_graph")) << ") |\n";
  out << "| nonzeros after pruning, deployed graph | - | "
      << count(number(deployed, "nonzeros", "deployed_graph")) << " ("
      << fmt("%.1fx", number(deployed, "compression", "deployed_graph")) << ") |\n";
  out << "| multiply-adds kept, deployed graph, at " << size << "x" << size
      << " / 224x224 | not reported | " << pct(number(deployed, "macs_fraction", "deployed_graph"))
      << " / " << pct(number(deployed, "macs_fraction_224", "deployed_graph")) << " |\n";
  out << "| test accuracy, dense | equal to the pruned model's | " << pct(dense_acc) << " |\n";
  out << "| accuracy right after pruning | - | " << after_prune << " |\n";
  out << "| test accuracy after retraining (LibTorch) | equal to the dense model's | "
      << pct(test_pruned) << " (" << fmt("%+.2f", 100.0 * (test_pruned - dense_acc))
      << " points) |\n";
  if (m.contains("gnrt_eval_accuracy")) {
    out << "| test accuracy of the exported .gnrt in libgnrt (`gnrt eval`) | - | "
        << pct(m["gnrt_eval_accuracy"].get<double>()) << " |\n";
  }
  if (m.contains("gnrt_eval_accuracy_fp16")) {
    out << "| test accuracy of the float16 .gnrt in libgnrt | - | "
        << pct(m["gnrt_eval_accuracy_fp16"].get<double>()) << " |\n";
  }
  if (m.contains("gnrt_eval_accuracy_int8")) {
    out << "| test accuracy of the int8 .gnrt (`gn-convert quantize`) in libgnrt | - | "
        << pct(number(m, "gnrt_eval_accuracy_int8", "manifest")) << " |\n";
  }
  if (m.contains("shipped_gnrt_eval")) {
    const json& shipped = m["shipped_gnrt_eval"];
    out << "| the shipped pruned model (`" << shipped.value("file", std::string("?"))
        << "`), test accuracy in libgnrt | - | "
        << pct(number(shipped, "accuracy", "shipped_gnrt_eval")) << " ("
        << fmt("%+.2f", 100.0 * (number(shipped, "accuracy", "shipped_gnrt_eval") - dense_acc))
        << " points) |\n";
  }
  if (m.contains("dense_gnrt_bytes")) {
    out << "| file size, dense float32 .gnrt vs sparse .gnrt | - | "
        << bytes(m["dense_gnrt_bytes"].get<double>()) << " vs "
        << bytes(number(info, "file_bytes", "gnrt_info"));
    if (m.contains("fp16_gnrt_bytes")) {
      out << " (float16: " << bytes(m["fp16_gnrt_bytes"].get<double>());
      if (m.contains("int8_gnrt_bytes"))
        out << ", int8: " << bytes(number(m, "int8_gnrt_bytes", "manifest"));
      out << ")";
    }
    out << " |\n";
  }
  if (m.contains("bench_train_size")) {
    out << "| latency, 1 thread, libgnrt vs XNNPACK dense, " << size << "x" << size << " | - | "
        << latency(m["bench_train_size"], "bench_train_size") << " |\n";
  }
  if (m.contains("bench_224")) {
    out << "| latency, 1 thread, libgnrt vs XNNPACK dense, 224x224 | - | "
        << latency(m["bench_224"], "bench_224") << " |\n";
  }
  // bench_sparse --int8-model: libgnrt on the int8 file, timed in the same runs as the float one.
  const std::pair<const char*, std::string> benches[] = {
      {"bench_train_size", std::to_string(size) + "x" + std::to_string(size)},
      {"bench_224", "224x224"}};
  for (const auto& b : benches) {
    if (!m.contains(b.first)) continue;
    const json& e = need(m[b.first], "engines", b.first);
    if (!e.contains("libgnrt_int8")) continue;
    const std::string where = std::string(b.first) + ".engines";
    const double q = number(e["libgnrt_int8"], "median_ms", where + ".libgnrt_int8");
    const double f = number(need(e, "libgnrt", where), "median_ms", where + ".libgnrt");
    out << "| latency, 1 thread, libgnrt int8 vs libgnrt float32, " << b.second << " | - | "
        << fmt("%.3f ms", q) << " vs " << fmt("%.3f ms", f) << " (**" << fmt("%.2f", f / q)
        << "x**) |\n";
  }

  if (m.contains("tradeoff") && m["tradeoff"].is_array() && !m["tradeoff"].empty()) {
    out << "\n| recipe | deployed compression | deployed nonzeros | training-graph nonzeros | MACs "
           "kept at "
        << size
        << " / 224 | test accuracy | vs dense | 224x224, 1 thread: libgnrt vs XNNPACK dense |\n";
    out << "|---|---:|---:|---:|---:|---:|---:|---|\n";
    for (const auto& row : m["tradeoff"]) {
      const json& snap = need(row, "snapshot", "tradeoff[]");
      const json& d = need(snap, "deployed_graph", "tradeoff[].snapshot");
      const json& t = need(snap, "training_graph", "tradeoff[].snapshot");
      // A snapshot (iteration-<i>.json) has its iteration's "record"; a whole run's report "final".
      double acc = snap.contains("record")
                       ? number(snap["record"], "test_accuracy", "tradeoff[].snapshot.record")
                       : number(need(snap, "final", "tradeoff[].snapshot"), "test_accuracy",
                                "tradeoff[].snapshot.final");
      out << "| " << row.value("label", std::string("?")) << " | "
          << fmt("%.1fx", number(d, "compression", "deployed_graph")) << " | "
          << count(number(d, "nonzeros", "deployed_graph")) << " | "
          << count(number(t, "nonzeros", "training_graph")) << " | "
          << pct(number(d, "macs_fraction", "deployed_graph")) << " / "
          << pct(number(d, "macs_fraction_224", "deployed_graph")) << " | " << pct(acc) << " | "
          << fmt("%+.2f", 100.0 * (acc - dense_acc)) << " | "
          << (row.contains("bench_224") ? latency(row["bench_224"], "tradeoff[].bench_224") : "-")
          << " |\n";
    }
  }
  return out.str();
}

}  // namespace gnconvert
