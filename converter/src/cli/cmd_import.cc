// gn-convert import: a torchvision GoogLeNet saved as TorchScript becomes a gn-convert checkpoint
// (then eval, prune, train --init, export); an ONNX model (MODEL.onnx or --format onnx) becomes a
// sparse .gnrt file (docs/onnx.md, "Import").
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "import/onnx_checkpoint.h"
#include "import/onnx_import.h"
#include "import/torchscript_import.h"
#include "train/checkpoint.h"
#include "train/session.h"
#include "util/files.h"
#include "util/options_json.h"

namespace gnconvert {
namespace {

using json = nlohmann::json;

// The ONNX path's own options (the TorchScript path's are ImportOptions).
struct OnnxCliOptions {
  std::string format = "auto";  // auto (by extension) | torchscript | onnx
  std::string output;           // .gnrt
  std::string labels_file;      // one label per line
  std::string checkpoint;       // gn-convert checkpoint of a recognized GoogLeNet
  std::string encoding = "auto";
  bool float16 = false;
};

bool is_onnx(const ImportOptions& o, const OnnxCliOptions& x) {
  if (x.format != "auto") return x.format == "onnx";
  std::string tail = o.model.size() >= 5 ? o.model.substr(o.model.size() - 5) : "";
  std::transform(tail.begin(), tail.end(), tail.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return tail == ".onnx";
}

std::vector<std::string> read_labels(const std::string& path) {
  std::vector<std::string> labels;
  const std::string text = read_file(path);
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    labels.push_back(line);
    start = end + 1;
  }
  if (labels.empty()) throw std::runtime_error(path + ": no labels");
  return labels;
}

std::string join(const std::vector<float>& v) {
  std::string s;
  for (float x : v) s += (s.empty() ? "" : ",") + std::to_string(x);
  return s.empty() ? "-" : s;
}

int run_onnx_import(const ImportOptions& o, const OnnxCliOptions& x, int size) {
  OnnxImportSettings settings;
  settings.size = size;
  settings.mean = o.mean;
  settings.std = o.std;
  if (!x.labels_file.empty()) settings.labels = read_labels(x.labels_file);
  settings.encoding = x.encoding;
  settings.float16 = x.float16;
  const auto start = std::chrono::steady_clock::now();
  const OnnxImportResult r = import_onnx(read_file(o.model), o.model, settings);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!x.checkpoint.empty()) {
    std::string why;
    const std::string layout = match_googlenet_layout(r, &why);
    if (layout.empty()) {
      throw std::runtime_error(o.model +
                               ": --checkpoint needs one of gn-convert's GoogLeNet "
                               "layouts (torchvision, inception_v1): " +
                               why);
    }
    const OnnxCheckpointResult c =
        write_onnx_checkpoint(r, layout, o.data, o.model, x.checkpoint, o.run.command_line);
    std::printf(
        "checkpoint: GoogLeNet, %s layout, BatchNorm identity (folded by the exporter), "
        "%d masked layers, LibTorch vs libgnrt %.3g (max |output| %.3g); wrote %s\n",
        layout.c_str(), c.masked_layers, c.max_abs_diff, c.max_abs_logit, x.checkpoint.c_str());
  }
  write_file_atomic(x.output, std::string(r.bytes.begin(), r.bytes.end()));
  std::printf(
      "imported %s: opset %d, %d nodes (%d BatchNorm folded, %d Relu fused, %d dropped), "
      "%zu conv/fc layers, input %dx%dx%d (size from %s), %d outputs%s\n",
      o.model.c_str(), r.opset, r.nodes, r.folded_batchnorms, r.fused_relus, r.dropped,
      r.layers.size(), r.channels, r.height, r.width, r.size_source.c_str(), r.classes,
      r.softmax_output ? " (softmax)" : "");
  std::printf("normalization (%s): mean %s std %s; %zu labels\n", r.norm_source.c_str(),
              join(r.mean).c_str(), join(r.std).c_str(), r.labels.size());
  std::printf("weights: %llu, nonzero %llu (density %.4f)\n",
              static_cast<unsigned long long>(r.params),
              static_cast<unsigned long long>(r.nonzeros),
              r.params ? double(r.nonzeros) / double(r.params) : 0.0);
  std::printf("wrote %s: %zu bytes in %.2f s\n", x.output.c_str(), r.bytes.size(), seconds);
  return 0;
}

int run_import(const ImportOptions& o) {
  set_threads(o.run.threads);
  Session s;
  s.run = o.run;
  s.quiet = true;
  ImportResult r = import_torchscript(s, o);

  make_dirs(s.run.out_dir);
  const std::string ckpt = s.checkpoint_path();
  if (file_exists(ckpt) && !o.force) {
    throw std::runtime_error(ckpt + " exists; choose another --out or pass --force");
  }
  json info = {
      {"source", o.model},
      {"layout", "torchvision"},
      {"in_channels", r.in_channels},
      {"classes", r.classes},
      {"aux_heads", r.aux_heads},
      {"transform_input", r.transform_input},
      {"transform_input_from", r.transform_source},
      {"tensors", r.tensors},
      {"verify_images", r.images},
      {"max_abs_diff", r.max_abs_diff},
      {"max_abs_logit", r.max_abs_logit},
      {"normalization", {{"mean", s.norm.mean}, {"std", s.norm.std}}},
      {"dataset_normalization", {{"mean", r.dataset_norm.mean}, {"std", r.dataset_norm.std}}},
      {"data", s.data}};
  s.extra["import"] = info;
  s.command_lines = {o.run.command_line};
  save_checkpoint(s, ckpt, nullptr);
  write_file_atomic(s.run.out_dir + "/import.json", info.dump(2) + "\n");
  std::printf(
      "imported %s: torchvision GoogLeNet, %d input channel(s), %d classes, aux heads %s, "
      "transform_input %s (%s), %d tensors, %lld weights\n",
      o.model.c_str(), r.in_channels, r.classes, r.aux_heads ? "yes" : "no",
      r.transform_input ? "on, folded into the normalization" : "off", r.transform_source.c_str(),
      r.tensors, static_cast<long long>(count_params(s.net, false)));
  std::printf(
      "verify: %d images, largest |logit difference| TorchScript vs import %.3g "
      "(bound %.3g)\n",
      r.images, r.max_abs_diff, o.tolerance * std::max(1.0, r.max_abs_logit));
  std::printf("wrote %s\n", ckpt.c_str());
  return 0;
}

}  // namespace

Command add_import_command(CLI::App& app) {
  auto o = std::make_shared<ImportOptions>();
  auto* cmd = app.add_subcommand(
      "import",
      "turn a torchvision GoogLeNet saved as TorchScript into a gn-convert checkpoint "
      "(then eval, prune, train --init, export), or an ONNX model into a sparse .gnrt");
  auto x = std::make_shared<OnnxCliOptions>();
  cmd->add_option("model", o->model,
                  "TorchScript file (torch.jit.script(model).save or torch.jit.trace) or ONNX "
                  "model (.onnx)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--format", x->format, "auto (.onnx files are ONNX) | torchscript | onnx")
      ->check(CLI::IsMember({"auto", "torchscript", "onnx"}))
      ->capture_default_str();
  cmd->add_option("--out", o->run.out_dir,
                  "TorchScript: output directory (checkpoint.pt, import.json)");
  cmd->add_option("-o,--output", x->output, "ONNX: output .gnrt file");
  cmd->add_option("--labels-file", x->labels_file,
                  "ONNX: class labels, one per line (default: metadata gnrt.labels)");
  cmd->add_option("--encoding", x->encoding, "ONNX: weight encoding auto | sparse | dense")
      ->check(CLI::IsMember({"auto", "sparse", "dense"}))
      ->capture_default_str();
  cmd->add_flag("--float16", x->float16, "ONNX: store weight values as float16");
  cmd->add_option("--checkpoint", x->checkpoint,
                  "ONNX: also write a gn-convert checkpoint (the graph must be one of "
                  "gn-convert's GoogLeNet layouts; --dataset names its data)");
  cmd->add_option("--classes", o->classes, "expected number of classes (checked)")
      ->check(CLI::Range(2, 100000));
  cmd->add_option("--channels", o->in_channels, "expected input channels (checked)")
      ->check(CLI::Range(1, 64));
  add_data_options(cmd, &o->data, true);
  cmd->add_option("--mean", o->mean,
                  "normalization mean of pixel/255 per channel (default: the training "
                  "split's, as train computes it)");
  cmd->add_option("--std", o->std, "normalization standard deviation per channel");
  cmd->add_option("--transform-input", o->transform_input,
                  "torchvision's transform_input: auto (the scripted module's flag, else "
                  "detected from its outputs) | on (fold it into the normalization) | off")
      ->check(CLI::IsMember({"auto", "on", "off"}))
      ->capture_default_str();
  cmd->add_option("--verify-images", o->verify_images,
                  "images on which the TorchScript module and the import must agree")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_option("--tolerance", o->tolerance,
                  "largest |logit difference| allowed, times max(1, largest |logit|)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_flag("--force", o->force, "overwrite an existing <out>/checkpoint.pt");
  cmd->add_option("--threads", o->run.threads, "torch threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();

  Command c;
  c.app = cmd;
  c.check = [o, x, cmd]() -> std::string {
    if (is_onnx(*o, *x)) {
      if (x->output.empty()) return "import of an ONNX model needs --output FILE.gnrt";
      if (!o->run.out_dir.empty()) return "--out is for TorchScript; ONNX import writes --output";
      return "";
    }
    if (o->run.out_dir.empty()) return "--out is required";
    for (const char* name :
         {"--output", "--labels-file", "--encoding", "--float16", "--checkpoint"}) {
      if (cmd->get_option(name)->count() > 0) return std::string(name) + " is for ONNX models";
    }
    return "";
  };
  c.run = [o, x, cmd](const std::string& command_line) {
    o->run.command_line = command_line;
    if (is_onnx(*o, *x)) {
      return run_onnx_import(*o, *x, cmd->get_option("--size")->count() > 0 ? o->data.height : 0);
    }
    return run_import(*o);
  };
  return c;
}

}  // namespace gnconvert
