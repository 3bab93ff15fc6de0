// bench_sparse's peer engines (issue 16): XNNPACK's qs8 and f16 operators beside libgnrt and
// XNNPACK f32 on the same model, the qs8 calibration, and the Fashion-MNIST images both the
// calibration and the accuracy mode read, preprocessed by the runtime's image function (as
// `gnrt eval` does). model_mode.cc runs the engines; this file has no timing.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "idx.h"
#include "model.h"
#include "plan.h"
#include "xnnpack_googlenet.h"

namespace gnrt_bench {

// kGnrtInt8: libgnrt on a second, format 1.1 int8 file of the same model (--int8-model); not
// part of "all".
enum class Engine { kGnrt, kXnnpackF32, kXnnpackQS8, kXnnpackF16, kGnrtInt8 };

const char* engine_cli_name(Engine engine);  // --engines spelling: gnrt, xnnpack-f32, ...
const char* engine_label(Engine engine);  // output rows: libgnrt, xnnpack_dense, xnnpack_qs8, ...
const char* engine_key(Engine engine);    // accuracy_<key>: gnrt, xnnpack_f32, xnnpack_qs8, ...

// "gnrt,xnnpack-f32,xnnpack-qs8,xnnpack-f16" or "all" (every engine), in the canonical order,
// without repeats. Returns "" or an error message naming the unknown engine.
std::string parse_engines(const std::string& list, std::vector<Engine>* engines);
bool has_engine(const std::vector<Engine>& engines, Engine engine);

// Uniform in [-1, 1], seeded: the benchmark's input, and the calibration fallback's.
std::vector<float> random_input(std::size_t count, unsigned seed);

// The runtime's image preprocessing (gnrt::set_input_image: bilinear resize, gray/RGB, the
// model's mean/std) into an NCHW float vector, through a private one-thread plan.
class ImagePreprocessor {
 public:
  // `size` 0: the model's default. Returns "" or an error message.
  std::string init(const std::vector<std::uint8_t>& bytes, int size);
  std::string to_nchw(const std::uint8_t* pixels, int height, int width, std::vector<float>* out);

 private:
  gnrt::Model model_;
  std::unique_ptr<gnrt::Plan> plan_;
};

// Fashion-MNIST from gnrt::tools::fashion_mnist_dir(); `train` picks the training set, else the
// test set. Returns "" or an error message (files missing or malformed).
std::string load_fashion_mnist(bool train, gnrt::tools::IdxImages* images,
                               gnrt::tools::IdxLabels* labels);

struct CalibrationSpec {
  int images = 64;  // inputs to observe
  int size = 0;     // input size (0: the model's default)
  int threads = 1;
  bool use_dataset = true;  // false: random inputs (the built-in random GoogLeNet)
  unsigned seed = 1;
};

struct Calibration {
  std::vector<TensorRange> ranges;  // per model tensor
  bool from_dataset = false;
  int count = 0;
  std::string method;   // one line, for the output
  std::string warning;  // set when it fell back to random inputs
};

// Runs XNNPACK f32 on `spec.images` Fashion-MNIST training images (the first ones) and records
// each tensor's min/max; falls back to random inputs with a warning when use_dataset is false or
// the dataset cannot be read. Returns "" or an error message.
std::string calibrate_qs8(const std::vector<std::uint8_t>& bytes, const CalibrationSpec& spec,
                          Calibration* calibration);

}  // namespace gnrt_bench
