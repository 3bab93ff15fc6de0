// bench_sparse --kernels: GoogLeNet's convolutions one by one, as Google Benchmark cases
// (kernel_mode.cc has the details).
#pragma once

namespace gnrt_bench {

// `argv` is bench_sparse's whole command line, --kernels included. Returns the exit code.
int kernel_mode_main(int argc, char** argv);

}  // namespace gnrt_bench
