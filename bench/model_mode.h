// bench_sparse's default mode: the whole model through libgnrt and the XNNPACK dense baseline,
// alternately, with a per-layer breakdown (model_mode.cc has the details).
#pragma once

namespace gnrt_bench {

// Parses bench_sparse's model-mode flags from the whole command line and runs. Returns the exit
// code.
int model_mode_main(int argc, char** argv);

}  // namespace gnrt_bench
