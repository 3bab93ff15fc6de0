// gn-convert results MANIFEST.json: the results table (docs/results.md's format) of a pipeline
// run, from its JSON outputs. No LibTorch in what it calls.
#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli/command.h"
#include "report/results.h"

namespace gnconvert {
namespace {

using json = nlohmann::json;

int run_results(const std::string& manifest_path, const std::string& output) {
  std::ifstream in(manifest_path);
  if (!in) throw std::runtime_error("cannot open " + manifest_path);
  json m = json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (m.is_discarded()) throw std::runtime_error(manifest_path + ": not valid JSON");
  std::string text = render_results(m);
  if (output.empty() || output == "-") {
    std::fputs(text.c_str(), stdout);
  } else {
    std::ofstream f(output);
    f << text;
    if (!f) throw std::runtime_error("cannot write " + output);
  }
  return 0;
}

}  // namespace

Command add_results_command(CLI::App& app) {
  struct ResultsArgs {
    std::string manifest, output;
  };
  auto o = std::make_shared<ResultsArgs>();
  auto* cmd =
      app.add_subcommand("results", "render the results table of a pipeline run (Markdown)");
  cmd->add_option("manifest", o->manifest, "manifest JSON written by scripts/pipeline.sh")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", o->output, "output file (default: stdout)");

  Command c;
  c.app = cmd;
  c.run = [o](const std::string&) { return run_results(o->manifest, o->output); };
  return c;
}

}  // namespace gnconvert
