#include "small_models.h"

namespace gnrt::testing {

std::vector<std::uint8_t> small_googlenet(const SmallGoogLeNet& spec) {
  GoogLeNetConfig config;
  config.in_channels = spec.in_channels;
  config.num_classes = spec.classes;
  config.height = config.width = spec.size;
  return build_googlenet(config, random_pruned_weights(spec.seed, spec.density), spec.metadata,
                         spec.weights);
}

}  // namespace gnrt::testing
