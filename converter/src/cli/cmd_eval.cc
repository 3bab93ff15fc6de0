// gn-convert eval: accuracy, loss and nonzero counts of a checkpoint on a split.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "cli/common_options.h"
#include "train/checkpoint.h"
#include "train/evaluation.h"
#include "train/session.h"
#include "util/options_json.h"

namespace gnconvert {
namespace {

using json = nlohmann::json;

// FNV-1a over the bytes of every parameter and buffer, in registration order: equal digests mean
// bitwise-equal models (used to check determinism and resume).
std::string weights_digest(GoogLeNet& net) {
  std::uint64_t h = 1469598103934665603ull;
  auto eat = [&h](const torch::Tensor& t) {
    auto c = t.detach().contiguous();
    const auto* p = static_cast<const unsigned char*>(c.data_ptr());
    const std::size_t n = static_cast<std::size_t>(c.numel()) * c.element_size();
    for (std::size_t i = 0; i < n; ++i) {
      h ^= p[i];
      h *= 1099511628211ull;
    }
  };
  for (const auto& p : net->parameters()) eat(p);
  for (const auto& b : net->buffers()) eat(b);
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

int run_eval(const EvalOptions& o) {
  Session s;
  s.run = o.run;
  set_threads(s.run.threads);
  json meta = read_checkpoint_meta(o.checkpoint);
  s.data = meta.at("data").get<DataOptions>();
  if (!o.data.data_dir.empty()) s.data.data_dir = o.data.data_dir;
  s.data.limit_test = o.data.limit_test;
  s.data.limit_validation = o.data.limit_validation;
  s.data.limit_train = o.data.limit_train;
  s.model = meta.at("model").get<ModelOptions>();
  load_data(s);
  // The checkpoint's normalization (that of its training split) replaces the one just computed.
  load_checkpoint(s, o.checkpoint, /*weights_only=*/true);
  EvalResult r;
  if (o.split == "test") {
    r = evaluate_test(s);
  } else if (o.split == "validation") {
    r = evaluate_validation(s);
  } else if (o.split == "train") {
    r = evaluate(s, s.dataset.train, s.split.train);
  } else {
    throw std::invalid_argument("--split must be test, validation or train");
  }
  std::int64_t nz = count_nonzeros(s.net, false), params = count_params(s.net, false);
  std::int64_t nz_dep = count_nonzeros(s.net, true), params_dep = count_params(s.net, true);
  if (o.json) {
    json j = {{"checkpoint", o.checkpoint},
              {"split", o.split},
              {"images", r.count},
              {"accuracy", r.accuracy},
              {"loss", r.loss},
              {"nonzeros_training", nz},
              {"params_training", params},
              {"nonzeros_deployed", nz_dep},
              {"params_deployed", params_dep},
              {"weights_digest", weights_digest(s.net)}};
    std::cout << j.dump(2) << std::endl;
  } else {
    std::printf(
        "%s: %s accuracy %.2f%% loss %.4f on %lld images; nonzeros %lld / %lld "
        "(training graph), %lld / %lld (deployed)\n",
        o.checkpoint.c_str(), o.split.c_str(), 100.0 * r.accuracy, r.loss,
        static_cast<long long>(r.count), static_cast<long long>(nz), static_cast<long long>(params),
        static_cast<long long>(nz_dep), static_cast<long long>(params_dep));
  }
  return 0;
}

}  // namespace

Command add_eval_command(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  auto* cmd = app.add_subcommand("eval", "accuracy of a checkpoint");
  cmd->add_option("checkpoint", o->checkpoint, "gn-convert checkpoint")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--split", o->split, "test | validation | train")
      ->check(CLI::IsMember({"test", "validation", "train"}))
      ->capture_default_str();
  cmd->add_option("--data-dir", o->data.data_dir, "dataset directory");
  cmd->add_option("--limit", o->data.limit_test, "use only the first N images")
      ->check(CLI::Range(0, 100000000))
      ->each([o](const std::string& v) {
        o->data.limit_validation = o->data.limit_train = std::stoi(v);
      });
  cmd->add_flag("--json", o->json, "JSON output");
  add_run_options(cmd, &o->run, false);

  Command c;
  c.app = cmd;
  c.run = [o](const std::string&) { return run_eval(*o); };
  return c;
}

}  // namespace gnconvert
