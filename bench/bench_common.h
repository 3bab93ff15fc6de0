// Pieces shared by bench_sparse's two modes (model_mode.cc, kernel_mode.cc): the random GoogLeNet
// both build, the error line, run statistics and the output comparison. Depends on neither mode.
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

// "bench_sparse: error: <message>" on stderr, one line; returns the exit code to use (1).
int report_error(const std::string& message);

struct Stats {
  double median = 0, min = 0, max = 0;
};

// Median (mean of the middle two for an even count), minimum and maximum; zeros when empty.
Stats stats_of(std::vector<double> values);
double median_of(std::vector<double> values);

// Relative error of `got` against `want`: max_i |got_i - want_i| / max(|want_i|, floor), where
// floor = 1e-3 * max_j |want_j|, so that outputs below 0.1% of the largest one (tiny softmax
// probabilities) are judged against that 0.1% instead of against themselves.
struct Comparison {
  double max_relative_error = 0;
  double max_abs_error = 0;
  int argmax_got = -1, argmax_want = -1;
  bool finite = true;
};

Comparison compare(const std::vector<float>& got, const std::vector<float>& want);

}  // namespace gnrt_bench
