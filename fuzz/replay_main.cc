// Replays fuzz inputs through the fuzz target's entry point without libFuzzer (any compiler), for
// the normal test suite:
//
//   fuzz_model_replay [--require-run] [--expect MANIFEST] PATH...
//
// PATH is a file or a directory (every regular file in it, sorted, dot files skipped). An input
// that breaks an invariant aborts inside the target, which fails the test.
//   --require-run      every input must load, plan at its default size and run (seed corpora are
//                      valid models).
//   --expect MANIFEST  lines "<file name> key=STATUS ..." (keys: load, plan, plan_alt; STATUS a
//                      gnrt_status name such as GNRT_INVALID_MODEL, or GNRT_OK); each listed input
//                      must be replayed and give exactly those statuses, and every replayed input
//                      must be listed. '#' starts a comment.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_model.h"

namespace {

bool read_file(const std::string& path, std::vector<std::uint8_t>* bytes) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  bytes->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return !in.bad();
}

std::string base_name(const std::string& path) {
  const std::size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool list_inputs(const std::string& path, std::vector<std::string>* files) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "fuzz_model_replay: cannot stat %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return false;
  }
  if (S_ISREG(st.st_mode)) {
    files->push_back(path);
    return true;
  }
  DIR* dir = ::opendir(path.c_str());
  if (!dir) {
    std::fprintf(stderr, "fuzz_model_replay: cannot open %s: %s\n", path.c_str(),
                 std::strerror(errno));
    return false;
  }
  std::vector<std::string> found;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const std::string full = path + "/" + e->d_name;
    struct stat fst;
    if (::stat(full.c_str(), &fst) == 0 && S_ISREG(fst.st_mode)) found.push_back(full);
  }
  ::closedir(dir);
  std::sort(found.begin(), found.end());
  if (found.empty()) {
    std::fprintf(stderr, "fuzz_model_replay: %s holds no inputs\n", path.c_str());
    return false;
  }
  files->insert(files->end(), found.begin(), found.end());
  return true;
}

using Expectations = std::map<std::string, std::map<std::string, std::string>>;

bool read_manifest(const std::string& path, Expectations* out) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "fuzz_model_replay: cannot read manifest %s\n", path.c_str());
    return false;
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::size_t hash = line.find('#');
    if (hash != std::string::npos) line.erase(hash);
    std::istringstream words(line);
    std::string name, kv;
    if (!(words >> name)) continue;
    auto& keys = (*out)[name];
    while (words >> kv) {
      const std::size_t eq = kv.find('=');
      const std::string key = kv.substr(0, eq);
      if (eq == std::string::npos || (key != "load" && key != "plan" && key != "plan_alt")) {
        std::fprintf(stderr, "%s:%d: expected load=, plan= or plan_alt=, got '%s'\n", path.c_str(),
                     number, kv.c_str());
        return false;
      }
      keys[key] = kv.substr(eq + 1);
    }
    if (keys.empty()) {
      std::fprintf(stderr, "%s:%d: '%s' has no expectations\n", path.c_str(), number, name.c_str());
      return false;
    }
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  bool require_run = false;
  std::string manifest;
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--require-run") {
      require_run = true;
    } else if (arg == "--expect" && i + 1 < argc) {
      manifest = argv[++i];
    } else if (!arg.empty() && arg[0] == '-') {
      std::fprintf(stderr, "usage: %s [--require-run] [--expect MANIFEST] PATH...\n", argv[0]);
      return 2;
    } else if (!list_inputs(arg, &files)) {
      return 1;
    }
  }
  if (files.empty()) {
    std::fprintf(stderr, "usage: %s [--require-run] [--expect MANIFEST] PATH...\n", argv[0]);
    return 2;
  }
  Expectations expected;
  if (!manifest.empty() && !read_manifest(manifest, &expected)) return 1;

  int failures = 0;
  std::map<std::string, bool> seen;
  for (const std::string& path : files) {
    std::vector<std::uint8_t> bytes;
    if (!read_file(path, &bytes)) {
      std::fprintf(stderr, "FAIL %s: cannot read\n", path.c_str());
      ++failures;
      continue;
    }
    const gnrt_fuzz::Outcome o = gnrt_fuzz::exercise(bytes.data(), bytes.size());
    std::map<std::string, std::string> got{{"load", gnrt_fuzz::status_name(o.load)},
                                           {"plan", gnrt_fuzz::status_name(o.plan)},
                                           {"plan_alt", gnrt_fuzz::status_name(o.plan_alt)}};
    std::printf("%s: load=%s plan=%s plan_alt=%s runs=%d\n", path.c_str(), got["load"].c_str(),
                got["plan"].c_str(), got["plan_alt"].c_str(), o.runs);
    if (require_run && (o.load != GNRT_OK || o.plan != GNRT_OK || o.runs == 0)) {
      std::fprintf(stderr, "FAIL %s: expected a valid model that plans and runs\n", path.c_str());
      ++failures;
    }
    if (!manifest.empty()) {
      const std::string name = base_name(path);
      seen[name] = true;
      auto it = expected.find(name);
      if (it == expected.end()) {
        std::fprintf(stderr, "FAIL %s: not listed in %s\n", path.c_str(), manifest.c_str());
        ++failures;
        continue;
      }
      for (const auto& kv : it->second) {
        if (got[kv.first] != kv.second) {
          std::fprintf(stderr, "FAIL %s: %s=%s, expected %s\n", path.c_str(), kv.first.c_str(),
                       got[kv.first].c_str(), kv.second.c_str());
          ++failures;
        }
      }
    }
  }
  for (const auto& kv : expected) {
    if (!seen.count(kv.first)) {
      std::fprintf(stderr, "FAIL %s: listed in %s but not replayed\n", kv.first.c_str(),
                   manifest.c_str());
      ++failures;
    }
  }
  std::printf("%zu inputs replayed, %d failures\n", files.size(), failures);
  return failures == 0 ? 0 : 1;
}
