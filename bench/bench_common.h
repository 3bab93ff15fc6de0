// Pieces shared by bench_sparse's two modes (model mode in bench_sparse.cc, kernel mode in
// kernel_mode.cc).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gnrt_bench {

// GoogLeNet (1000 classes unless told otherwise, 3 channels) with gnrt::random_pruned_weights(seed,
// density) in every conv and FC layer; `size` is the default input size recorded in the file.
struct RandomGoogLeNet {
  double density = 0.0625;
  unsigned seed = 1;
  int size = 224;
  int num_classes = 1000;
  int in_channels = 3;
  bool float16 =
      false;  // store weight values as float16 (the runtime and the baseline expand them)
};

// Throws std::invalid_argument on bad parameters (ModelBuilder's convention).
std::vector<std::uint8_t> build_random_googlenet(const RandomGoogLeNet& spec);

// Kernel mode: `bench_sparse --kernels [...]`. Returns the process exit code.
int kernel_mode_main(int argc, char** argv);

// "bench_sparse: error: <message>" on stderr, one line; returns the exit code to use (1).
int report_error(const std::string& message);

}  // namespace gnrt_bench
