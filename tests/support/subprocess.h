// Runs a child process (posix_spawn) with a timeout and captures its exit status, stdout and
// stderr. For tests that drive the CLI from outside, as a user would.
#pragma once

#include <string>
#include <vector>

namespace gnrt::testing {

struct ProcessResult {
  bool started = false;    // false: posix_spawn failed (see `error`)
  bool timed_out = false;  // killed with SIGKILL after the timeout
  bool signaled = false;   // died by a signal (not counting our timeout kill)
  int signal = 0;
  int exit_code = -1;  // valid when neither signaled nor timed out
  double seconds = 0;
  std::string out;
  std::string err;
  std::string error;
};

// argv[0] is the program path (no PATH search). stdin is /dev/null; stdout and stderr go to
// temporary files in scratch_dir (or $TMPDIR / /tmp when empty), read back and deleted.
ProcessResult run_process(const std::vector<std::string>& argv, double timeout_seconds,
                          const std::string& scratch_dir = "");

// "prog 'arg 1' arg2" for messages.
std::string command_line(const std::vector<std::string>& argv);

// Lines of text without their '\n' (a last line without '\n' counts too).
std::vector<std::string> split_lines(const std::string& text);

}  // namespace gnrt::testing
