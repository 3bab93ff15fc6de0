// gn-convert: command-line front end. Each subcommand lives in cli/cmd_<name>.cc; main parses
// the arguments, runs the chosen command, and turns every failure into one line on stderr and a
// nonzero exit status (2: the command line, 1: the command).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/command.h"
#include "cli/common_options.h"
#include "dist/process_group.h"

using namespace gnconvert;

namespace {

// Leaves the data-parallel group (if any) when main returns, after the error handler has told the
// other ranks why this one stops.
struct GroupLeaver {
  ~GroupLeaver() { leave_group(); }
};

int command_line_error(const std::string& message) {
  std::fprintf(stderr, "gn-convert: error: %s (see --help)\n", message.c_str());
  return 2;
}

int command_error(const std::exception& e) {
  std::string msg = e.what();
  // LibTorch messages carry a C++ backtrace after the first line; keep the first line.
  auto newline = msg.find('\n');
  if (newline != std::string::npos) msg = msg.substr(0, newline);
  if (ProcessGroup* group = current_group()) {
    // Tell the other ranks why this one stops (a DistError is already about them).
    if (!dynamic_cast<const DistError*>(&e)) group->report_failure(msg);
    std::fprintf(stderr, "gn-convert: error: rank %d: %s\n", group->rank(), msg.c_str());
    return 1;
  }
  std::fprintf(stderr, "gn-convert: error: %s\n", msg.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"gn-convert: train, threshold-prune, retrain and export GoogLeNet (.gnrt)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gn-convert 0.1.0");
  const std::vector<Command> commands = {
      add_summary_command(app), add_train_command(app),   add_prune_command(app),
      add_eval_command(app),    add_export_command(app),  add_pack_command(app),
      add_import_command(app),  add_results_command(app), add_export_onnx_command(app),
      add_quantize_command(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string msg = e.what();
    return command_line_error(msg.empty() ? "invalid command line" : msg);
  }

  for (const Command& command : commands) {
    if (!*command.app) continue;
    if (command.check) {
      const std::string error = command.check();
      if (!error.empty()) return command_line_error(error);
    }
    const std::string command_line = join_args(argc, argv);
    GroupLeaver leaver;
    try {
      return command.run(command_line);
    } catch (const std::exception& e) {
      return command_error(e);
    }
  }
  return 1;
}
