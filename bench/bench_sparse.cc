// bench_sparse: libgnrt against XNNPACK dense on the same model and weights, in one process
// (docs/benchmarks.md). This file only dispatches between the two modes:
//   bench_sparse [model-mode flags]          model_mode.cc: the whole network, both engines
//   bench_sparse --kernels [kernel flags]    kernel_mode.cc: every convolution on its own
#include <cstring>

#include "kernel_mode.h"
#include "model_mode.h"

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--kernels") == 0) return gnrt_bench::kernel_mode_main(argc, argv);
  }
  return gnrt_bench::model_mode_main(argc, argv);
}
