// Running the gn-convert binary from the converter tests (through tests/support/subprocess.h).
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>

#include "subprocess.h"
#include "test_util.h"

namespace gnconvert_test {

struct Result {
  int status = -1;  // exit status (of /bin/sh: 128 + N when gn-convert died by signal N)
  std::string out;
  std::string err;
};

// gn-convert (GN_CONVERT_PATH) through /bin/sh, so that `args` are shell words; `shell_prefix`
// runs before it in the same shell (ulimit, trap). Output is buffered in `tmp`. Throws when the
// shell cannot start (no doctest here: the LibTorch tests include it last).
inline Result run_gn_convert(const std::string& gn_convert, const std::string& args,
                             const TempDir& tmp, const std::string& shell_prefix = "") {
  const std::string cmd = shell_prefix + gn_convert + " " + args;
  gnrt::testing::ProcessResult p =
      gnrt::testing::run_process({"/bin/sh", "-c", cmd}, 900, tmp.path);
  if (!p.started) throw std::runtime_error("cannot run " + gn_convert + ": " + p.error);
  Result r;
  r.status = p.signaled || p.timed_out ? -1 : p.exit_code;
  r.out = p.out;
  r.err = p.err;
  return r;
}

inline int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

inline nlohmann::json read_json(const std::string& path) {
  std::ifstream in(path);
  return nlohmann::json::parse(in);
}

}  // namespace gnconvert_test
