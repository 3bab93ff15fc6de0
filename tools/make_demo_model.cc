// gnrt_make_demo_model: writes the bundled demo model (models/demo-googlenet-fmnist-random.gnrt):
// the real GoogLeNet layout for Fashion-MNIST-shaped input, with RANDOM, UNTRAINED weights. It
// exists so that the tools, the examples and the tests have a real-sized model to work on
// without a training run; its predictions mean nothing. Deterministic: the same arguments give
// the same bytes (a test regenerates the file and compares).
#include <cmath>
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "gnrt/googlenet.h"
#include "gnrt/model_builder.h"

int main(int argc, char** argv) {
  CLI::App app{"Write the demo GoogLeNet model (random, untrained weights)",
               "gnrt_make_demo_model"};
  std::string output;
  unsigned seed = 1;
  double density = 1.0 / 64;
  int size = 48;
  app.add_option("-o,--output", output, "Output .gnrt file")->required();
  app.add_option("--seed", seed, "Random seed (default 1)");
  app.add_option("--density", density, "Fraction of weights kept per layer (default 1/64)")
      ->check(CLI::Range(1e-6, 1.0));
  app.add_option("--size", size, "Default input size recorded in the file (default 48)")
      ->check(CLI::Range(16, 1024));
  CLI11_PARSE(app, argc, argv);

  try {
    gnrt::GoogLeNetConfig config;
    config.in_channels = 1;
    config.num_classes = 10;
    config.height = size;
    config.width = size;
    config.softmax = true;

    char density_text[32];
    std::snprintf(density_text, sizeof(density_text), "%g", density);

    gnrt::ModelMetadata meta;
    meta.name = "demo-googlenet-fmnist-random";
    meta.description =
        "DEMO ONLY - RANDOM, UNTRAINED WEIGHTS: its predictions are meaningless. GoogLeNet "
        "(Inception-v1) layout for Fashion-MNIST-shaped input (1 channel, 10 classes, default " +
        std::to_string(size) + "x" + std::to_string(size) +
        "), He-normal random weights magnitude-pruned to density " + density_text +
        " and rescaled to keep He's variance per output channel, float16 values. For demonstrating "
        "and testing the gnrt tools.";
    meta.producer = "gnrt_make_demo_model (tools/make_demo_model.cc)";
    meta.labels = {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                   "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
    // Fashion-MNIST training-set statistics, so that real images land in the usual range.
    meta.mean = {0.2860f};
    meta.std = {0.3530f};
    meta.pruning.training_height = size;
    meta.pruning.training_width = size;
    meta.pruning.method = "random-untrained";
    meta.pruning.recipe = "gnrt_make_demo_model --seed " + std::to_string(seed) + " --density " +
                          density_text + " --size " + std::to_string(size);
    meta.test_accuracy = -1.0f;

    gnrt::WeightOptions weights;
    weights.encoding = gnrt::WeightEncoding::kAuto;
    weights.storage = gnrt::ValueStorage::kFloat16;

    // Pruning He-normal weights to a small density shrinks every layer's output variance
    // (by about 8x at 1/64), so after 57 layers the logits would be just the biases and every
    // image would get the same answer. Rescale the surviving weights so that each output
    // channel keeps He's variance (sum of squares 2 per row): the model stays random, but its
    // answers depend on the input, which makes it useful for exercising the tools.
    const gnrt::WeightProvider pruned = gnrt::random_pruned_weights(seed, density);
    const gnrt::WeightProvider rescaled = [pruned](const gnrt::LayerSpec& layer) {
      gnrt::LayerWeights w = pruned(layer);
      double sum_squares = 0;
      for (float v : w.weights) sum_squares += double(v) * double(v);
      if (sum_squares > 0) {
        const double scale = std::sqrt(2.0 * double(layer.shape.at(0)) / sum_squares);
        for (float& v : w.weights) v = static_cast<float>(v * scale);
      }
      return w;
    };
    const auto bytes = gnrt::build_googlenet(config, rescaled, meta, weights);
    gnrt::write_file_atomic(output, bytes);
    std::printf("wrote %s (%zu bytes)\n", output.c_str(), bytes.size());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gnrt_make_demo_model: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
