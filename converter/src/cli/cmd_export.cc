// gn-convert export: folds BatchNorm, drops the auxiliary heads, writes the .gnrt file and
// verifies it in libgnrt against LibTorch before writing.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "export/export.h"
#include "train/checkpoint.h"
#include "train/evaluation.h"
#include "train/session.h"
#include "util/files.h"
#include "util/options_json.h"

namespace gnconvert {
namespace {

using json = nlohmann::json;

int run_export(const ExportOptions& o) {
  Session s;
  s.run = o.run;
  set_threads(s.run.threads);
  json meta = read_checkpoint_meta(o.checkpoint);
  s.data = meta.at("data").get<DataOptions>();
  s.model = meta.at("model").get<ModelOptions>();
  if (!o.data.data_dir.empty()) s.data.data_dir = o.data.data_dir;
  s.data.limit_test = o.data.limit_test;
  s.data.limit_train = 0;
  s.data.limit_validation = 0;
  load_data(s);
  load_checkpoint(s, o.checkpoint, /*weights_only=*/true);
  s.report = meta.value("report", json::object());

  ExportSettings settings;
  settings.softmax = o.softmax;
  settings.float16 = o.float16;
  settings.encoding = o.encoding;
  if (!o.skip_test_eval) {
    EvalResult test = evaluate_test(s);
    settings.test_accuracy = static_cast<float>(test.accuracy);
    std::printf("LibTorch test accuracy %.2f%% on %lld images\n", 100.0 * test.accuracy,
                static_cast<long long>(test.count));
  } else if (s.report.contains("test_accuracy")) {
    settings.test_accuracy = s.report["test_accuracy"].get<float>();
  }
  auto bytes = export_model(s, settings);

  // Verify before writing, on logits: a second, identical graph without the softmax.
  std::vector<std::size_t> images(
      s.split.validation.begin(),
      s.split.validation.begin() +
          std::min<std::size_t>(s.split.validation.size(),
                                static_cast<std::size_t>(o.verify_images)));
  if (!images.empty()) {
    ExportSettings logits_settings = settings;
    logits_settings.softmax = false;
    auto logits_bytes = export_model(s, logits_settings);
    VerifyResult v = verify_export(s, logits_bytes, s.dataset.train, images, false);
    // float16 weights round each weight to 11 significant bits: the logits move by ~1e-2.
    const double tolerance = o.tolerance >= 0 ? o.tolerance : (o.float16 ? 3e-2 : 1e-4);
    double bound = tolerance * std::max(1.0, v.max_abs_logit);
    std::printf(
        "verify: %d validation images, largest |logit difference| %.3g (bound %.3g), "
        "argmax agrees on %d/%d\n",
        v.images, v.max_abs_diff, bound, v.argmax_agree, v.images);
    if (!(v.max_abs_diff <= bound)) {
      throw std::runtime_error(
          "export verification failed: libgnrt and LibTorch logits differ by " +
          std::to_string(v.max_abs_diff) + " > " + std::to_string(bound));
    }
    if (o.softmax) {
      VerifyResult p = verify_export(s, bytes, s.dataset.train, images, true);
      if (!(p.max_abs_diff <= tolerance)) {
        throw std::runtime_error("export verification failed: probabilities differ by " +
                                 std::to_string(p.max_abs_diff));
      }
    }
  }
  write_file_atomic(o.output, std::string(bytes.begin(), bytes.end()));
  std::printf("wrote %s: %zu bytes, %lld / %lld deployed weights nonzero\n", o.output.c_str(),
              bytes.size(), static_cast<long long>(count_nonzeros(s.net, true)),
              static_cast<long long>(count_params(s.net, true)));
  return 0;
}

}  // namespace

Command add_export_command(CLI::App& app) {
  auto o = std::make_shared<ExportOptions>();
  auto* cmd =
      app.add_subcommand("export", "fold BatchNorm, drop aux heads, write .gnrt and verify it");
  cmd->add_option("checkpoint", o->checkpoint, "gn-convert checkpoint")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", o->output, "output .gnrt file")->required();
  cmd->add_flag("--float16", o->float16, "store weights as float16");
  cmd->add_option("--encoding", o->encoding, "auto | sparse | dense")
      ->check(CLI::IsMember({"auto", "sparse", "dense"}))
      ->capture_default_str();
  cmd->add_flag("!--no-softmax", o->softmax, "leave logits as the model output");
  cmd->add_option("--verify-images", o->verify_images,
                  "validation images compared between libgnrt and LibTorch")
      ->check(CLI::Range(0, 100000))
      ->capture_default_str();
  cmd->add_option("--tolerance", o->tolerance,
                  "largest |difference| allowed, times max(1, largest |logit|) "
                  "(default 1e-4, with --float16 3e-2)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_flag("--skip-test-eval", o->skip_test_eval,
                "do not evaluate the test set for the metadata");
  cmd->add_option("--data-dir", o->data.data_dir, "dataset directory");
  cmd->add_option("--limit-test", o->data.limit_test, "use only N test images")
      ->check(CLI::Range(0, 100000000));
  add_run_options(cmd, &o->run, false);

  Command c;
  c.app = cmd;
  c.run = [o](const std::string& command_line) {
    o->run.command_line = command_line;
    return run_export(*o);
  };
  return c;
}

}  // namespace gnconvert
