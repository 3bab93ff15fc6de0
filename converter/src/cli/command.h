// gn-convert's subcommands, one per cli/cmd_<name>.cc: each registers its options on the
// application and returns how to check and run itself.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace gnconvert {

struct Command {
  CLI::App* app = nullptr;
  // Option combinations CLI11 cannot check: a message makes it a command line error (exit 2).
  std::function<std::string()> check;
  // Runs the command; returns the exit status. Throws on failure (main prints one line).
  std::function<int(const std::string& command_line)> run;
};

Command add_summary_command(CLI::App& app);
Command add_train_command(CLI::App& app);
Command add_prune_command(CLI::App& app);
Command add_eval_command(CLI::App& app);
Command add_export_command(CLI::App& app);
Command add_pack_command(CLI::App& app);
Command add_import_command(CLI::App& app);
Command add_results_command(CLI::App& app);
Command add_export_onnx_command(CLI::App& app);
Command add_quantize_command(CLI::App& app);

}  // namespace gnconvert
