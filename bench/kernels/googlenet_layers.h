// GoogLeNet (Inception-v1, paper layout with true 5x5 branches) convolution shapes at 224x224,
// and the zero border the planner gives each resolution (the widest any consumer needs).
#pragma once

#include <string>
#include <vector>

namespace gnrt_bench {

struct ConvLayer {
  std::string name;
  int in_channels, out_channels;
  int size;  // input height = width
  int kernel, stride, pad;
};

inline int out_size(const ConvLayer& l) { return (l.size + 2 * l.pad - l.kernel) / l.stride + 1; }

// Border width of tensors of a spatial size, as the planner lays them out for GoogLeNet.
inline int border_for(int size) {
  if (size >= 224) return 3;  // the 7x7 stem's input
  if (size >= 56) return 1;   // 112 and 56: 3x3 convolutions and pooling only
  return 2;                   // inception resolutions: 5x5 branches
}

inline std::vector<ConvLayer> googlenet_convs(int input = 224) {
  std::vector<ConvLayer> layers;
  const int s112 = (input + 6 - 7) / 2 + 1;
  const int s56 = (s112 - 3 + 1) / 2 + 1;  // ceil-mode 3x3/2 max pools
  const int s28 = (s56 - 3 + 1) / 2 + 1;
  const int s14 = (s28 - 3 + 1) / 2 + 1;
  const int s7 = (s14 - 2 + 1) / 2 + 1;  // 2x2/2 ceil
  layers.push_back({"conv1_7x7s2", 3, 64, input, 7, 2, 3});
  layers.push_back({"conv2_1x1", 64, 64, s56, 1, 1, 0});
  layers.push_back({"conv3_3x3", 64, 192, s56, 3, 1, 1});
  struct Inception {
    const char* name;
    int size, in, c1, r3, c3, r5, c5, pp;
  };
  const Inception blocks[] = {
      {"3a", s28, 192, 64, 96, 128, 16, 32, 32},     {"3b", s28, 256, 128, 128, 192, 32, 96, 64},
      {"4a", s14, 480, 192, 96, 208, 16, 48, 64},    {"4b", s14, 512, 160, 112, 224, 24, 64, 64},
      {"4c", s14, 512, 128, 128, 256, 24, 64, 64},   {"4d", s14, 512, 112, 144, 288, 32, 64, 64},
      {"4e", s14, 528, 256, 160, 320, 32, 128, 128}, {"5a", s7, 832, 256, 160, 320, 32, 128, 128},
      {"5b", s7, 832, 384, 192, 384, 48, 128, 128},
  };
  for (const Inception& b : blocks) {
    const std::string n = b.name;
    layers.push_back({n + "_1x1", b.in, b.c1, b.size, 1, 1, 0});
    layers.push_back({n + "_3x3red", b.in, b.r3, b.size, 1, 1, 0});
    layers.push_back({n + "_3x3", b.r3, b.c3, b.size, 3, 1, 1});
    layers.push_back({n + "_5x5red", b.in, b.r5, b.size, 1, 1, 0});
    layers.push_back({n + "_5x5", b.r5, b.c5, b.size, 5, 1, 2});
    layers.push_back({n + "_poolproj", b.in, b.pp, b.size, 1, 1, 0});
  }
  return layers;
}

}  // namespace gnrt_bench
