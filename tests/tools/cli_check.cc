// gnrt_cli_check: runs one command and checks how it ended, for ctest cases that exercise the
// CLI from outside. Never passes a command that died by a signal, hung, or reported a sanitizer
// error.
//
//   gnrt_cli_check [checks...] -- PROGRAM ARGS...
//
//   --exit N | --exit nonzero   expected exit code (default 0)
//   --stdout-lines N            stdout has exactly N lines
//   --stdout-line REGEX         some stdout line matches REGEX entirely (repeatable)
//   --last-line REGEX           the last stdout line matches REGEX entirely
//   --stderr REGEX              stderr contains a match of REGEX (repeatable)
//   --stderr-one-line           stderr is exactly one line ending in '\n'
//   --stderr-empty              nothing on stderr
//   --stdout-json               stdout is one JSON object
//   --timeout SECONDS           default 120
#include <cstdio>
#include <cstdlib>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "subprocess.h"

namespace {

int usage(const char* message) {
  std::fprintf(stderr, "gnrt_cli_check: %s\n", message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  bool expect_nonzero = false;
  int expect_exit = 0;
  int stdout_lines = -1;
  std::vector<std::string> stdout_line_patterns, stderr_patterns;
  std::string last_line_pattern;
  bool has_last_line = false, stderr_one_line = false, stderr_empty = false, stdout_json = false;
  double timeout = 120;
  std::vector<std::string> command;

  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "gnrt_cli_check: %s needs a value\n", arg.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--") {
      for (++i; i < argc; ++i) command.push_back(argv[i]);
      break;
    } else if (arg == "--exit") {
      const std::string v = value();
      if (v == "nonzero") {
        expect_nonzero = true;
      } else {
        expect_exit = std::atoi(v.c_str());
      }
    } else if (arg == "--stdout-lines") {
      stdout_lines = std::atoi(value().c_str());
    } else if (arg == "--stdout-line") {
      stdout_line_patterns.push_back(value());
    } else if (arg == "--last-line") {
      last_line_pattern = value();
      has_last_line = true;
    } else if (arg == "--stderr") {
      stderr_patterns.push_back(value());
    } else if (arg == "--stderr-one-line") {
      stderr_one_line = true;
    } else if (arg == "--stderr-empty") {
      stderr_empty = true;
    } else if (arg == "--stdout-json") {
      stdout_json = true;
    } else if (arg == "--timeout") {
      timeout = std::atof(value().c_str());
    } else {
      return usage(("unknown option " + arg).c_str());
    }
  }
  if (command.empty()) return usage("no command after --");

  const gnrt::testing::ProcessResult r = gnrt::testing::run_process(command, timeout);
  std::vector<std::string> problems;
  if (!r.started) problems.push_back("could not start: " + r.error);
  if (r.timed_out) problems.push_back("timed out after " + std::to_string(timeout) + " s");
  if (r.signaled) problems.push_back("died by signal " + std::to_string(r.signal));
  if (r.err.find("Sanitizer") != std::string::npos ||
      r.err.find("runtime error:") != std::string::npos) {
    problems.push_back("sanitizer report on stderr");
  }
  if (r.started && !r.timed_out && !r.signaled) {
    if (expect_nonzero && r.exit_code == 0) problems.push_back("exit code 0, expected nonzero");
    if (!expect_nonzero && r.exit_code != expect_exit) {
      problems.push_back("exit code " + std::to_string(r.exit_code) + ", expected " +
                         std::to_string(expect_exit));
    }
  }
  const std::vector<std::string> out_lines = gnrt::testing::split_lines(r.out);
  if (stdout_lines >= 0 && int(out_lines.size()) != stdout_lines) {
    problems.push_back("stdout has " + std::to_string(out_lines.size()) + " lines, expected " +
                       std::to_string(stdout_lines));
  }
  for (const std::string& pattern : stdout_line_patterns) {
    const std::regex re(pattern);
    bool found = false;
    for (const std::string& line : out_lines) found = found || std::regex_match(line, re);
    if (!found) problems.push_back("no stdout line matches /" + pattern + "/");
  }
  if (has_last_line) {
    if (out_lines.empty() || !std::regex_match(out_lines.back(), std::regex(last_line_pattern))) {
      problems.push_back("last stdout line does not match /" + last_line_pattern + "/");
    }
  }
  for (const std::string& pattern : stderr_patterns) {
    if (!std::regex_search(r.err, std::regex(pattern))) {
      problems.push_back("stderr does not contain /" + pattern + "/");
    }
  }
  if (stderr_one_line &&
      (r.err.empty() || r.err.back() != '\n' || r.err.find('\n') != r.err.size() - 1)) {
    problems.push_back("stderr is not exactly one line");
  }
  if (stderr_empty && !r.err.empty()) problems.push_back("stderr is not empty");
  if (stdout_json) {
    const nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded() || !j.is_object()) problems.push_back("stdout is not one JSON object");
  }

  std::printf("command: %s\nexit: %d%s%s\n--- stdout ---\n%s--- stderr ---\n%s",
              gnrt::testing::command_line(command).c_str(), r.exit_code,
              r.signaled ? " (signal)" : "", r.timed_out ? " (timeout)" : "", r.out.c_str(),
              r.err.c_str());
  for (const std::string& p : problems) std::printf("FAIL: %s\n", p.c_str());
  return problems.empty() ? 0 : 1;
}
