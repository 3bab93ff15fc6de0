// gnrt_corrupt_sweep: issue 2's done-criterion, from outside the process. Writes hundreds of
// corrupted variants of a model (truncations, flipped bytes, overwritten 32-bit words at many
// positions) and runs `gnrt info` and `gnrt run` on each. Every run must end by itself within
// the timeout with exit 0, or with a nonzero exit and a message on stderr; a signal, a hang or a
// sanitizer report is a failure, and the offending variant is kept in WORKDIR/failures/.
//
//   gnrt_corrupt_sweep GNRT MODEL IMAGE WORKDIR [--variants N] [--timeout S] [--seed S]
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "subprocess.h"

namespace {

struct Variant {
  std::string kind;  // "truncate", "flip", "word"
  std::string description;
  std::vector<std::uint8_t> bytes;
};

std::vector<std::uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

bool write_all(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
  return bool(out);
}

std::vector<Variant> make_variants(const std::vector<std::uint8_t>& model, int target,
                                   unsigned seed) {
  std::vector<Variant> variants;
  std::mt19937 rng(seed);
  const std::size_t size = model.size();
  auto position = [&](std::size_t limit) {
    return std::uniform_int_distribution<std::size_t>(0, limit - 1)(rng);
  };

  // Truncations: every length in the header region (root offset, identifier, root table),
  // then lengths spread over the whole file.
  const int truncations = std::max(10, target / 4);
  for (std::size_t len = 0; len < std::min<std::size_t>(size, 48); len += 3) {
    variants.push_back({"truncate", "length " + std::to_string(len),
                        std::vector<std::uint8_t>(model.begin(), model.begin() + long(len))});
  }
  for (int i = 1; i <= truncations; ++i) {
    const std::size_t len = size * std::size_t(i) / std::size_t(truncations + 1);
    variants.push_back({"truncate", "length " + std::to_string(len),
                        std::vector<std::uint8_t>(model.begin(), model.begin() + long(len))});
  }
  variants.push_back({"truncate", "length " + std::to_string(size - 1),
                      std::vector<std::uint8_t>(model.begin(), model.end() - 1)});

  // Single flipped bytes: densely at the start (where the FlatBuffer's root table, vtables and
  // offsets to the graph live), then at random positions over the file.
  const int flips = std::max(10, target / 3);
  for (std::size_t pos = 0; pos < std::min<std::size_t>(size, 64); pos += 2) {
    Variant v{"flip", "byte " + std::to_string(pos) + " ^= 0xff", model};
    v.bytes[pos] ^= 0xff;
    variants.push_back(std::move(v));
  }
  for (int i = 0; i < flips; ++i) {
    const std::size_t pos = position(size);
    const std::uint8_t mask = static_cast<std::uint8_t>(1u << (rng() % 8));
    Variant v{"flip", "byte " + std::to_string(pos) + " ^= " + std::to_string(mask), model};
    v.bytes[pos] ^= mask;
    variants.push_back(std::move(v));
  }

  // Overwritten aligned 32-bit words: hits offsets, vector lengths and integer fields (shapes,
  // kernel sizes, strides, counts) with the values most likely to break arithmetic.
  static const std::uint32_t kWords[] = {0xffffffffu, 0x7fffffffu, 0x80000000u, 0u,
                                         1u,          0x10000u,    0x01000000u, 0xfffffffeu};
  const int words = std::max(10, target - int(variants.size()));
  for (int i = 0; i < words; ++i) {
    const std::size_t pos = position(size / 4) * 4;
    const std::uint32_t word = kWords[rng() % (sizeof(kWords) / sizeof(kWords[0]))];
    char text[64];
    std::snprintf(text, sizeof(text), "word at %zu = 0x%08x", pos, word);
    Variant v{"word", text, model};
    for (int b = 0; b < 4 && pos + std::size_t(b) < size; ++b) {
      v.bytes[pos + std::size_t(b)] = static_cast<std::uint8_t>(word >> (8 * b));
    }
    variants.push_back(std::move(v));
  }
  return variants;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr,
                 "usage: gnrt_corrupt_sweep GNRT MODEL IMAGE WORKDIR [--variants N] "
                 "[--timeout S] [--seed S]\n");
    return 2;
  }
  const std::string gnrt = argv[1], model_path = argv[2], image = argv[3], workdir = argv[4];
  int target = 300;
  double timeout = 30;
  unsigned seed = 20240601;
  for (int i = 5; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--variants") {
      target = std::atoi(argv[i + 1]);
    } else if (flag == "--timeout") {
      timeout = std::atof(argv[i + 1]);
    } else if (flag == "--seed") {
      seed = static_cast<unsigned>(std::strtoul(argv[i + 1], nullptr, 10));
    } else {
      std::fprintf(stderr, "gnrt_corrupt_sweep: unknown option %s\n", flag.c_str());
      return 2;
    }
  }

  const std::vector<std::uint8_t> model = read_all(model_path);
  if (model.size() < 64) {
    std::fprintf(stderr, "gnrt_corrupt_sweep: cannot read model %s\n", model_path.c_str());
    return 2;
  }
  mkdir(workdir.c_str(), 0755);
  const std::string failures_dir = workdir + "/failures";
  const std::string variant_path = workdir + "/variant.gnrt";

  const std::vector<Variant> variants = make_variants(model, target, seed);
  int runs = 0, succeeded = 0, rejected = 0, failures = 0;
  for (std::size_t i = 0; i < variants.size(); ++i) {
    const Variant& v = variants[i];
    if (!write_all(variant_path, v.bytes)) {
      std::fprintf(stderr, "gnrt_corrupt_sweep: cannot write %s\n", variant_path.c_str());
      return 2;
    }
    const std::vector<std::vector<std::string>> commands = {
        {gnrt, "info", variant_path},
        {gnrt, "run", variant_path, "--input", image},
    };
    for (const auto& command : commands) {
      const gnrt::testing::ProcessResult r = gnrt::testing::run_process(command, timeout, workdir);
      ++runs;
      std::string problem;
      if (!r.started) {
        problem = "could not start: " + r.error;
      } else if (r.timed_out) {
        problem = "no exit within " + std::to_string(timeout) + " s";
      } else if (r.signaled) {
        problem = "killed by signal " + std::to_string(r.signal);
      } else if (r.err.find("Sanitizer") != std::string::npos ||
                 r.err.find("runtime error:") != std::string::npos) {
        problem = "sanitizer report";
      } else if (r.exit_code != 0 && r.err.find("error") == std::string::npos) {
        problem = "nonzero exit without an error message";
      }
      if (problem.empty()) {
        (r.exit_code == 0 ? succeeded : rejected)++;
        continue;
      }
      ++failures;
      mkdir(failures_dir.c_str(), 0755);
      const std::string kept = failures_dir + "/variant-" + std::to_string(i) + ".gnrt";
      write_all(kept, v.bytes);
      std::printf("FAIL variant %zu (%s): %s: %s\n  kept as %s\n  stderr: %s\n", i,
                  v.description.c_str(), gnrt::testing::command_line(command).c_str(),
                  problem.c_str(), kept.c_str(), r.err.substr(0, 500).c_str());
    }
  }
  unlink(variant_path.c_str());
  std::printf("variants=%zu runs=%d succeeded=%d rejected=%d failures=%d\n", variants.size(), runs,
              succeeded, rejected, failures);
  // A sweep where nothing is rejected tests nothing: the truncations alone must be refused.
  if (rejected == 0) {
    std::printf("FAIL: no variant was rejected\n");
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
