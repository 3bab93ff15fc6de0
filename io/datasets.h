// Where the tools and gn-convert look for datasets installed by Debian packages. The one place
// that names these paths; an environment variable overrides each (tests point them elsewhere).
#pragma once

#include <cstdlib>
#include <string>

namespace gnrt::tools {

// Fashion-MNIST as installed by `dataset-fashion-mnist` (gzipped IDX files).
constexpr const char* kFashionMnistDefaultDir = "/usr/share/datasets/fashion-mnist";

// $GNRT_FASHION_MNIST_DIR when set and not empty, otherwise kFashionMnistDefaultDir.
inline std::string fashion_mnist_dir() {
  const char* env = std::getenv("GNRT_FASHION_MNIST_DIR");
  return (env != nullptr && *env != '\0') ? std::string(env) : std::string(kFashionMnistDefaultDir);
}

// Where Debian's dataset packages put each dataset gn-convert reads ("fashion-mnist", "mnist",
// "cifar10"); an empty string for an unknown name. Fashion-MNIST honours $GNRT_FASHION_MNIST_DIR.
inline std::string default_dataset_dir(const std::string& name) {
  if (name == "fashion-mnist") return fashion_mnist_dir();
  if (name == "mnist") return "/usr/share/datasets/mnist";
  if (name == "cifar10") return "/usr/share/datasets/cifar-10-batches-bin";
  return std::string();
}

}  // namespace gnrt::tools
