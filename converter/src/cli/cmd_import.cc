// gn-convert import: a torchvision GoogLeNet saved as TorchScript becomes a gn-convert checkpoint
// (then eval, prune, train --init, export).
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "import/torchscript_import.h"
#include "train/checkpoint.h"
#include "train/session.h"
#include "util/files.h"
#include "util/options_json.h"

namespace gnconvert {
namespace {

using json = nlohmann::json;

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
      "(then eval, prune, train --init, export)");
  cmd->add_option("model", o->model,
                  "TorchScript file (torch.jit.script(model).save or torch.jit.trace)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--out", o->run.out_dir, "output directory (checkpoint.pt, import.json)")
      ->required();
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
  c.run = [o](const std::string& command_line) {
    o->run.command_line = command_line;
    return run_import(*o);
  };
  return c;
}

}  // namespace gnconvert
