// A small graph description that both writes a .gnrt model (through ModelBuilder) and evaluates
// itself with the naive operators at any input size: the oracle for whole-model tests.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "gnrt/model_builder.h"
#include "naive.h"

namespace testing_graph {

struct Step {
  enum Kind { kConv, kMaxPool, kAvgPool, kConcat, kFc, kSoftmax } kind;
  std::string name;
  std::vector<int> inputs;  // step indices (-1 = graph input)
  gnrt::ConvParams conv;
  gnrt::PoolParams pool;
  int out_features = 0;
  bool relu = false;
  std::vector<float> weights, bias;
};

struct Graph {
  int in_channels = 3, height = 16, width = 16;
  std::vector<Step> steps;
  gnrt::WeightOptions weight_options;

  int add(Step s) {
    steps.push_back(std::move(s));
    return static_cast<int>(steps.size()) - 1;
  }

  std::vector<std::uint8_t> build(const gnrt::ModelMetadata& metadata = {}) const {
    gnrt::ModelBuilder b;
    std::vector<gnrt::TensorId> ids(steps.size());
    const gnrt::TensorId input = b.input("input", in_channels, height, width);
    auto id = [&](int step) { return step < 0 ? input : ids[step]; };
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const Step& s = steps[i];
      switch (s.kind) {
        case Step::kConv:
          ids[i] = b.conv2d(s.name, id(s.inputs[0]), s.conv, s.weights, s.bias, weight_options);
          break;
        case Step::kMaxPool:
          ids[i] = b.max_pool(s.name, id(s.inputs[0]), s.pool);
          break;
        case Step::kAvgPool:
          ids[i] = b.avg_pool(s.name, id(s.inputs[0]), s.pool);
          break;
        case Step::kConcat: {
          std::vector<gnrt::TensorId> in;
          for (int k : s.inputs) in.push_back(id(k));
          ids[i] = b.concat(s.name, in);
          break;
        }
        case Step::kFc:
          ids[i] = b.fully_connected(s.name, id(s.inputs[0]), s.out_features, s.weights, s.bias,
                                     s.relu, weight_options);
          break;
        case Step::kSoftmax:
          ids[i] = b.softmax(s.name, id(s.inputs[0]));
          break;
      }
    }
    b.set_metadata(metadata);
    return b.finish({ids.back()});
  }

  naive::Tensor evaluate(const naive::Tensor& input) const {
    std::vector<naive::Tensor> values(steps.size());
    auto val = [&](int step) -> const naive::Tensor& { return step < 0 ? input : values[step]; };
    for (std::size_t i = 0; i < steps.size(); ++i) {
      const Step& s = steps[i];
      switch (s.kind) {
        case Step::kConv:
          values[i] = naive::conv(val(s.inputs[0]), s.conv, s.weights, s.bias);
          break;
        case Step::kMaxPool:
          values[i] = naive::pool(val(s.inputs[0]), s.pool, true);
          break;
        case Step::kAvgPool:
          values[i] = naive::pool(val(s.inputs[0]), s.pool, false);
          break;
        case Step::kConcat: {
          std::vector<const naive::Tensor*> parts;
          for (int k : s.inputs) parts.push_back(&val(k));
          values[i] = naive::concat(parts);
          break;
        }
        case Step::kFc:
          values[i] = naive::fc(val(s.inputs[0]), s.out_features, s.weights, s.bias, s.relu);
          break;
        case Step::kSoftmax:
          values[i] = naive::softmax(val(s.inputs[0]));
          break;
      }
    }
    return values.back();
  }
};

// Helpers that create steps with random weights.
struct GraphMaker {
  Graph graph;
  std::mt19937 rng;
  double density;
  std::vector<int> channels;  // per step

  GraphMaker(int in_channels, int height, int width, unsigned seed, double density_)
      : rng(seed), density(density_) {
    graph.in_channels = in_channels;
    graph.height = height;
    graph.width = width;
  }
  int ch(int step) const { return step < 0 ? graph.in_channels : channels[step]; }

  int conv(int input, int out, int k, int stride, int pad, bool relu = true, int groups = 1,
           int dilation = 1, int pad_extra_br = 0) {
    Step s{Step::kConv, "conv" + std::to_string(graph.steps.size()), {input}};
    s.conv.out_channels = out;
    s.conv.kernel_h = s.conv.kernel_w = k;
    s.conv.stride_h = s.conv.stride_w = stride;
    s.conv.pad_top = s.conv.pad_left = pad;
    s.conv.pad_bottom = s.conv.pad_right = pad + pad_extra_br;
    s.conv.dilation_h = s.conv.dilation_w = dilation;
    s.conv.groups = groups;
    s.conv.relu = relu;
    s.weights = naive::random_weights(
        rng, static_cast<std::size_t>(out) * (ch(input) / groups) * k * k, density);
    s.bias = naive::random_vector(rng, out, -0.1f, 0.1f);
    channels.push_back(out);
    return graph.add(std::move(s));
  }
  int pool(int input, bool max, int k, int stride, int pad, bool ceil_mode = false,
           bool include_pad = false) {
    Step s{max ? Step::kMaxPool : Step::kAvgPool,
           "pool" + std::to_string(graph.steps.size()),
           {input}};
    s.pool.kernel_h = s.pool.kernel_w = k;
    s.pool.stride_h = s.pool.stride_w = stride;
    s.pool.pad_top = s.pool.pad_left = s.pool.pad_bottom = s.pool.pad_right = pad;
    s.pool.ceil_mode = ceil_mode;
    s.pool.count_include_pad = include_pad;
    channels.push_back(ch(input));
    return graph.add(std::move(s));
  }
  int global_pool(int input) {
    Step s{Step::kAvgPool, "gap" + std::to_string(graph.steps.size()), {input}};
    s.pool.global = true;
    channels.push_back(ch(input));
    return graph.add(std::move(s));
  }
  int concat(std::vector<int> inputs) {
    Step s{Step::kConcat, "concat" + std::to_string(graph.steps.size()), inputs};
    int c = 0;
    for (int i : inputs) c += ch(i);
    channels.push_back(c);
    return graph.add(std::move(s));
  }
  int fc(int input, int in_features, int out, bool relu = false) {
    Step s{Step::kFc, "fc" + std::to_string(graph.steps.size()), {input}};
    s.out_features = out;
    s.relu = relu;
    s.weights = naive::random_weights(rng, static_cast<std::size_t>(out) * in_features, density);
    s.bias = naive::random_vector(rng, out, -0.1f, 0.1f);
    channels.push_back(out);
    return graph.add(std::move(s));
  }
  int softmax(int input) {
    Step s{Step::kSoftmax, "softmax" + std::to_string(graph.steps.size()), {input}};
    channels.push_back(ch(input));
    return graph.add(std::move(s));
  }
};

}  // namespace testing_graph
