// The gnrt CLI subcommands. Each returns the process exit code or throws CliError /
// tools::InputError, which main() turns into one line on stderr.
#pragma once

#include <string>
#include <vector>

namespace gnrt::cli {

struct InfoArgs {
  std::string model;
  bool json = false;
};

struct RunArgs {
  std::string model;
  std::string input;
  int size = 0;                // 0: the model's default
  bool raw = false;            // force raw float32 input (also implied by a .f32 name)
  std::vector<int> raw_shape;  // C,H,W for raw input; empty: the plan's input shape
  int top = 5;
  bool json = false;
  int threads = 1;
  int profile_runs = 0;  // > 0: also time each operator over this many runs (after 2 warm-ups)
};

struct EvalArgs {
  std::string model;
  bool fashion_mnist = false;
  std::string images;
  std::string labels;
  int size = 0;
  int limit = 0;  // 0: all
  int threads = 1;
};

int cmd_info(const InfoArgs& args);
int cmd_run(const RunArgs& args);
int cmd_eval(const EvalArgs& args);

// Directory of the Fashion-MNIST files used by `eval --fashion-mnist`: $GNRT_FASHION_MNIST_DIR
// or the Debian package's /usr/share/datasets/fashion-mnist.
std::string fashion_mnist_dir();

}  // namespace gnrt::cli
