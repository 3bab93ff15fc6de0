// gnrt info MODEL [--json]: what a model file holds, per layer and in total. The text format is
// stable and documented in docs/cli.md; so is the JSON.
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_commands.h"
#include "cli_common.h"
#include "fileio.h"
#include "model_inspect.h"

namespace gnrt::cli {
namespace {

using nlohmann::json;

std::string fixed(double value, int digits) {
  char buffer[64];
  std::snprintf(buffer, sizeof(buffer), "%.*f", digits, value);
  return buffer;
}

std::string density_string(std::uint64_t nonzeros, std::uint64_t params) {
  return params ? fixed(double(nonzeros) / double(params), 4) : "-";
}

json density_json(std::uint64_t nonzeros, std::uint64_t params) {
  return params ? json(double(nonzeros) / double(params)) : json(nullptr);
}

std::string version_string(std::uint32_t version) {
  return std::to_string(version / 1000) + "." + std::to_string(version % 1000);
}

// Table cells never contain blanks: a model may name an operator "a b" or worse.
std::string cell(const std::string& text) {
  if (text.empty()) return "-";
  std::string out = tools::printable(text);
  for (char& c : out) {
    if (c == ' ') c = '_';
  }
  return out;
}

std::string shapes_string(const std::vector<std::vector<int>>& shapes) {
  if (shapes.empty()) return "-";
  std::string out;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    if (i) out += ',';
    out += shape_string(shapes[i]);
  }
  return out;
}

struct PlanSummary {
  bool ok = false;
  std::string error;
  std::string isa;
  std::size_t arena_bytes = 0;
  std::size_t weight_bytes = 0;
  std::vector<std::string> op_names;
  std::vector<std::string> op_kernels;
};

PlanSummary summarize_plan(const Model& model) {
  PlanSummary summary;
  try {
    Plan plan(model, 0, 0);
    summary.ok = true;
    const char* isa = gnrt_plan_isa(plan.get());
    summary.isa = isa ? isa : "";
    summary.arena_bytes = gnrt_plan_arena_bytes(plan.get());
    summary.weight_bytes = gnrt_plan_weight_bytes(plan.get());
    const int n = gnrt_plan_num_operators(plan.get());
    for (int i = 0; i < n; ++i) {
      const char* name = gnrt_plan_operator_name(plan.get(), i);
      const char* kernel = gnrt_plan_operator_kernel(plan.get(), i);
      summary.op_names.push_back(name ? name : "");
      summary.op_kernels.push_back(kernel ? kernel : "");
    }
  } catch (const CliError& e) {
    summary.error = e.what();
  }
  return summary;
}

// The kernel the plan chose for file operator `index` named `name`: matched by position when the
// plan lists the same operators, else by unique name.
std::string kernel_for(const PlanSummary& plan, std::size_t count, std::size_t index,
                       const std::string& name) {
  if (plan.op_names.size() == count && plan.op_names[index] == name) return plan.op_kernels[index];
  std::string found;
  int matches = 0;
  for (std::size_t i = 0; i < plan.op_names.size(); ++i) {
    if (plan.op_names[i] == name) {
      found = plan.op_kernels[i];
      ++matches;
    }
  }
  return matches == 1 ? found : std::string();
}

void print_table(const std::vector<std::vector<std::string>>& rows,
                 const std::vector<bool>& right_align) {
  std::vector<std::size_t> widths(rows.front().size(), 0);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < row.size(); ++c) widths[c] = std::max(widths[c], row[c].size());
  }
  for (const auto& row : rows) {
    std::string line;
    for (std::size_t c = 0; c < row.size(); ++c) {
      const std::string pad(widths[c] - row[c].size(), ' ');
      if (c) line += "  ";
      line += right_align[c] ? pad + row[c] : (c + 1 == row.size() ? row[c] : row[c] + pad);
    }
    std::printf("%s\n", line.c_str());
  }
}

// Everything `gnrt info` prints, in either format.
struct InfoData {
  std::string path;
  std::size_t file_bytes = 0;
  ModelDetails details;
  gnrt_model_info info{};
  PlanSummary plan;
  std::vector<std::string> labels;
  std::vector<float> means, stds;
  std::uint64_t weight_bytes = 0, layer_params = 0, layer_nonzeros = 0;
};

void print_info_json(const InfoData& d) {
  const auto& [path, file_bytes, details, info, plan, labels, means, stds, weight_bytes,
               layer_params, layer_nonzeros] = d;
  json out;
  out["file"] = path;
  out["file_bytes"] = file_bytes;
  out["format_version"] = version_string(details.format_version);
  out["name"] = info.name ? info.name : "";
  out["description"] = details.description;
  out["producer"] = details.producer;
  out["input"] = {{"channels", info.input_channels},
                  {"height", info.default_height},
                  {"width", info.default_width}};
  out["num_classes"] = info.num_classes;
  out["labels"] = labels;
  out["normalization"] = {{"mean", means}, {"std", stds}};
  out["num_operators"] = info.num_operators;
  out["num_tensors"] = info.num_tensors;
  out["params_dense"] = info.params_dense;
  out["nonzeros"] = info.nonzeros;
  out["density"] = density_json(info.nonzeros, info.params_dense);
  out["weight_bytes"] = weight_bytes;
  json pruning = {
      {"params_dense_training", info.params_dense_training},
      {"nonzeros_training", info.nonzeros_training},
      {"density_training", density_json(info.nonzeros_training, info.params_dense_training)},
      {"macs_dense", details.macs_dense},
      {"macs_sparse", details.macs_sparse},
      {"training_height", details.training_height},
      {"training_width", details.training_width},
      {"method", details.pruning_method},
      {"recipe", details.pruning_recipe}};
  out["pruning"] = details.has_pruning ? pruning : json(nullptr);
  out["test_accuracy"] = info.test_accuracy >= 0 ? json(info.test_accuracy) : json(nullptr);
  out["isa"] = plan.ok ? json(plan.isa) : json(nullptr);
  out["arena_bytes"] = plan.ok ? json(plan.arena_bytes) : json(nullptr);
  out["plan_weight_bytes"] = plan.ok ? json(plan.weight_bytes) : json(nullptr);
  if (!plan.ok) out["plan_error"] = plan.error;
  json layers = json::array();
  for (const LayerDetails& layer : details.layers) {
    const std::string kernel =
        kernel_for(plan, details.layers.size(), std::size_t(layer.index), layer.name);
    layers.push_back(
        {{"index", layer.index},
         {"name", layer.name},
         {"type", layer.type},
         {"activation", layer.activation == "-" ? json(nullptr) : json(layer.activation)},
         {"attributes", layer.attributes},
         {"inputs", layer.input_shapes},
         {"output", layer.output_shape},
         {"params_dense", layer.params_dense},
         {"nonzeros", layer.nonzeros},
         {"density", density_json(layer.nonzeros, layer.params_dense)},
         {"bytes", layer.bytes},
         {"weight_layout", layer.has_weights ? json(layer.weight_layout) : json(nullptr)},
         {"value_type", layer.has_weights ? json(layer.value_type) : json(nullptr)},
         {"precision", layer.precision},
         {"kernel", kernel.empty() ? json(nullptr) : json(kernel)}});
  }
  out["layers"] = std::move(layers);
  // Strings from the file may hold invalid UTF-8: replace it rather than fail.
  std::printf("%s\n", out.dump(2, ' ', false, json::error_handler_t::replace).c_str());
}

void print_info_text(const InfoData& d) {
  const auto& [path, file_bytes, details, info, plan, labels, means, stds, weight_bytes,
               layer_params, layer_nonzeros] = d;
  auto line = [](const char* key, const std::string& value) {
    std::printf("%s: %s\n", key, tools::printable(value).c_str());
  };
  auto join_floats = [](const std::vector<float>& values) {
    std::string out;
    for (std::size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + fixed(values[i], 4);
    return out;
  };
  line("file", path);
  line("file_bytes", std::to_string(file_bytes));
  line("format_version", version_string(details.format_version));
  line("name", info.name ? info.name : "");
  line("description", details.description);
  line("producer", details.producer);
  line("input", std::to_string(info.input_channels) + "x" + std::to_string(info.default_height) +
                    "x" + std::to_string(info.default_width));
  line("classes", std::to_string(info.num_classes));
  {
    std::string text = std::to_string(labels.size());
    const std::size_t shown = std::min<std::size_t>(labels.size(), 10);
    for (std::size_t i = 0; i < shown; ++i) text += (i ? ", " : " (") + labels[i];
    if (labels.size() > shown) text += ", ... " + std::to_string(labels.size() - shown) + " more";
    if (shown) text += ")";
    line("labels", text);
  }
  line("normalization", "mean=" + join_floats(means) + " std=" + join_floats(stds));
  line("params_dense", std::to_string(info.params_dense));
  line("nonzeros", std::to_string(info.nonzeros));
  line("density", density_string(info.nonzeros, info.params_dense));
  line("weight_bytes", std::to_string(weight_bytes));
  if (details.has_pruning) {
    // 0 means "not recorded" (e.g. a model that was never trained).
    auto count = [](std::uint64_t n) { return n ? std::to_string(n) : std::string("-"); };
    line("pruning", "method=" + cell(details.pruning_method) +
                        " params_dense_training=" + count(info.params_dense_training) +
                        " nonzeros_training=" + count(info.nonzeros_training) +
                        " density_training=" +
                        density_string(info.nonzeros_training, info.params_dense_training));
    line("macs", "dense=" + std::to_string(details.macs_dense) +
                     " sparse=" + std::to_string(details.macs_sparse) + " at " +
                     std::to_string(details.training_height) + "x" +
                     std::to_string(details.training_width));
  } else {
    line("pruning", "-");
  }
  line("test_accuracy", info.test_accuracy >= 0 ? fixed(info.test_accuracy, 4) : "-");
  line("isa", plan.ok ? cell(plan.isa) : "-");
  line("arena_bytes", plan.ok ? std::to_string(plan.arena_bytes) : "-");
  line("plan_weight_bytes", plan.ok ? std::to_string(plan.weight_bytes) : "-");
  std::printf("\n");

  std::vector<std::vector<std::string>> rows;
  rows.push_back({"index", "name", "type", "window", "act", "input", "output", "params_dense",
                  "nonzeros", "density", "bytes", "precision", "kernel"});
  for (const LayerDetails& layer : details.layers) {
    const std::string kernel =
        kernel_for(plan, details.layers.size(), std::size_t(layer.index), layer.name);
    rows.push_back({std::to_string(layer.index), cell(layer.name), cell(layer.type),
                    cell(layer.window), cell(layer.activation), shapes_string(layer.input_shapes),
                    shape_string(layer.output_shape), std::to_string(layer.params_dense),
                    std::to_string(layer.nonzeros),
                    density_string(layer.nonzeros, layer.params_dense), std::to_string(layer.bytes),
                    cell(layer.precision), cell(kernel)});
  }
  rows.push_back({"total", "-", "-", "-", "-", "-", "-", std::to_string(layer_params),
                  std::to_string(layer_nonzeros), density_string(layer_nonzeros, layer_params),
                  std::to_string(weight_bytes), "-", "-"});
  print_table(rows, {true, false, false, false, false, false, false, true, true, true, true, false,
                     false});
}

}  // namespace

int cmd_info(const InfoArgs& args) {
  // The C API validates the whole file (structure and semantics) before we look inside.
  Model model(args.model);
  InfoData d;
  d.path = args.model;
  const std::vector<std::uint8_t> bytes = tools::read_file(args.model);
  d.file_bytes = bytes.size();
  d.details = inspect_model(bytes, args.model);
  d.info = model.info();
  d.plan = summarize_plan(model);
  if (!d.plan.ok) std::fprintf(stderr, "gnrt: warning: %s\n", d.plan.error.c_str());

  for (int i = 0; i < d.info.num_classes; ++i) {
    const char* label = gnrt_model_label(model.get(), i);
    if (!label) break;
    d.labels.push_back(label);
  }
  for (int c = 0; c < d.info.input_channels; ++c) {
    float mean = 0, std_dev = 1;
    check_status(gnrt_model_normalization(model.get(), c, &mean, &std_dev),
                 "cannot read the normalization of channel " + std::to_string(c));
    d.means.push_back(mean);
    d.stds.push_back(std_dev);
  }
  for (const LayerDetails& layer : d.details.layers) {
    d.weight_bytes += layer.bytes;
    d.layer_params += layer.params_dense;
    d.layer_nonzeros += layer.nonzeros;
  }
  if (args.json) {
    print_info_json(d);
  } else {
    print_info_text(d);
  }
  return kExitOk;
}

}  // namespace gnrt::cli
