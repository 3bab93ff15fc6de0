// Models built in code for tests: a GoogLeNet of the deployed graph with seeded random weights,
// magnitude-pruned to a density, at a small input size.
#pragma once

#include <cstdint>
#include <vector>

#include "gnrt/googlenet.h"

namespace gnrt::testing {

struct SmallGoogLeNet {
  int in_channels = 3;
  int classes = 10;
  int size = 48;  // default input height = width
  unsigned seed = 1;
  double density = 0.0625;
  ModelMetadata metadata;
  WeightOptions weights;
};

// The serialized model (gnrt::build_googlenet with gnrt::random_pruned_weights).
std::vector<std::uint8_t> small_googlenet(const SmallGoogLeNet& spec);

}  // namespace gnrt::testing
