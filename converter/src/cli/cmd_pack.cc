// gn-convert pack: a checkpoint without optimizer state, optionally with float16 weights.
#include <sys/stat.h>

#include <cstdio>
#include <memory>

#include "cli/command.h"
#include "train/checkpoint.h"
#include "train/session.h"

namespace gnconvert {
namespace {

int run_pack(const PackOptions& o) {
  Session s;
  load_checkpoint(s, o.checkpoint, /*weights_only=*/false);
  s.optimizer_state.clear();
  s.extra["packed_from"] = o.checkpoint;
  s.extra["weights_dtype"] = o.float16 ? "float16" : "float32";
  if (o.float16) s.net->to(torch::kHalf);
  save_checkpoint(s, o.output, nullptr);
  struct stat st {};
  long long size = ::stat(o.output.c_str(), &st) == 0 ? static_cast<long long>(st.st_size) : -1;
  std::printf("wrote %s: %lld bytes, %s weights, %lld / %lld nonzero\n", o.output.c_str(), size,
              o.float16 ? "float16" : "float32",
              static_cast<long long>(count_nonzeros(s.net, false)),
              static_cast<long long>(count_params(s.net, false)));
  return 0;
}

}  // namespace

Command add_pack_command(CLI::App& app) {
  auto o = std::make_shared<PackOptions>();
  auto* cmd = app.add_subcommand(
      "pack", "write a checkpoint without optimizer state, optionally with float16 weights");
  cmd->add_option("checkpoint", o->checkpoint, "gn-convert checkpoint")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", o->output, "output checkpoint")->required();
  cmd->add_flag("--float16", o->float16, "store weights and BatchNorm statistics as float16");

  Command c;
  c.app = cmd;
  c.run = [o](const std::string&) { return run_pack(*o); };
  return c;
}

}  // namespace gnconvert
