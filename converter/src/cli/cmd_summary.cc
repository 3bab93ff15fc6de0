// gn-convert summary: the per-layer parameter table and feature-map sizes of GoogLeNet at a
// resolution, without data or training.
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "model/googlenet.h"
#include "train/session.h"
#include "util/options.h"
#include "util/text.h"

namespace gnconvert {
namespace {

using json = nlohmann::json;

int run_summary(const SummaryOptions& o) {
  set_threads(1);
  ModelConfig config;
  config.in_channels = o.in_channels;
  config.num_classes = o.classes;
  set_layout(&config, o.layout);
  GoogLeNet net(config);
  auto geometry = measure_geometry(net, o.height, o.width);
  auto bad = degenerate_layers(geometry);

  std::int64_t weights_training = 0, weights_deployed = 0, macs_deployed = 0, macs_training = 0;
  for (const auto& g : geometry) {
    weights_training += g.params;
    macs_training += g.macs;
    if (g.deployed) {
      weights_deployed += g.params;
      macs_deployed += g.macs;
    }
  }
  std::int64_t all_params = 0, deployed_all = 0;
  for (const auto& p : net->named_parameters()) {
    all_params += p.value().numel();
    if (p.key().rfind("aux", 0) != 0) deployed_all += p.value().numel();
  }
  // Feature maps after each stage, read from the layers that start / end them.
  auto find = [&](const std::string& name) -> const LayerGeometry& {
    for (const auto& g : geometry) {
      if (g.name == name) return g;
    }
    throw std::logic_error("no layer " + name);
  };
  auto hw = [](int h, int w) { return std::to_string(h) + "x" + std::to_string(w); };
  std::vector<std::pair<std::string, std::string>> maps = {
      {"input", hw(o.height, o.width)},
      {"conv1", hw(find("conv1").out_h, find("conv1").out_w)},
      {"pool1", hw(find("conv2").in_h, find("conv2").in_w)},
      {"conv3", hw(find("conv3").out_h, find("conv3").out_w)},
      {"inception3", hw(find("inception3a.b1").in_h, find("inception3a.b1").in_w)},
      {"inception4", hw(find("inception4a.b1").in_h, find("inception4a.b1").in_w)},
      {"inception5", hw(find("inception5a.b1").in_h, find("inception5a.b1").in_w)},
  };

  if (o.json) {
    json j;
    j["input"] = {{"channels", o.in_channels}, {"height", o.height}, {"width", o.width}};
    j["classes"] = o.classes;
    j["layout"] = o.layout;
    j["layers"] = json::array();
    for (const auto& g : geometry) {
      j["layers"].push_back({{"name", g.name},
                             {"shape", g.shape},
                             {"params", g.params},
                             {"deployed", g.deployed},
                             {"in", {g.in_h, g.in_w}},
                             {"out", {g.out_h, g.out_w}},
                             {"macs", g.macs}});
    }
    j["feature_maps"] = json::object();
    for (const auto& m : maps) j["feature_maps"][m.first] = m.second;
    j["totals"] = {{"parameters", all_params},
                   {"parameters_deployed", deployed_all},
                   {"weights_training", weights_training},
                   {"weights_deployed", weights_deployed},
                   {"macs_training", macs_training},
                   {"macs_deployed", macs_deployed}};
    j["degenerate_layers"] = bad;
    std::cout << j.dump(2) << std::endl;
  } else {
    std::printf(
        "# GoogLeNet (%s, BN, aux heads): %d input channel(s), %d classes, "
        "input %dx%d\n",
        o.layout == "torchvision" ? "torchvision layout" : "Inception-v1", o.in_channels, o.classes,
        o.height, o.width);
    std::printf("%-24s %-16s %10s %9s %9s %13s  %s\n", "layer", "shape", "params", "in", "out",
                "MACs", "graph");
    for (const auto& g : geometry) {
      std::printf("%-24s %-16s %10lld %9s %9s %13lld  %s\n", g.name.c_str(),
                  shape_string(g.shape).c_str(), static_cast<long long>(g.params),
                  g.is_fc ? "-" : hw(g.in_h, g.in_w).c_str(),
                  g.is_fc ? "-" : hw(g.out_h, g.out_w).c_str(), static_cast<long long>(g.macs),
                  g.deployed ? "deployed" : "aux");
    }
    std::printf("weights (conv+fc), training graph: %lld\n",
                static_cast<long long>(weights_training));
    std::printf("weights (conv+fc), deployed graph: %lld\n",
                static_cast<long long>(weights_deployed));
    std::printf("parameters (incl. BatchNorm and biases), training graph: %lld\n",
                static_cast<long long>(all_params));
    std::printf("parameters (incl. BatchNorm and biases), deployed graph: %lld\n",
                static_cast<long long>(deployed_all));
    std::printf("multiply-adds per image: deployed %lld, training graph %lld\n",
                static_cast<long long>(macs_deployed), static_cast<long long>(macs_training));
    std::printf("feature maps:");
    for (const auto& m : maps) std::printf(" %s %s", m.first.c_str(), m.second.c_str());
    std::printf("\n");
  }
  if (!bad.empty()) {
    std::fprintf(stderr,
                 "error: at %dx%d, %zu convolutions with 3x3/5x5/7x7 kernels see a 1x1 map "
                 "(first: %s); choose a larger --size\n",
                 o.height, o.width, bad.size(), bad.front().c_str());
    return o.force ? 0 : 2;
  }
  return 0;
}

}  // namespace

Command add_summary_command(CLI::App& app) {
  auto o = std::make_shared<SummaryOptions>();
  auto* cmd = app.add_subcommand("summary", "per-layer parameter table and feature-map sizes");
  cmd->add_option("--classes", o->classes, "number of classes")
      ->check(CLI::Range(2, 100000))
      ->capture_default_str();
  cmd->add_option("--channels", o->in_channels, "input channels")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  cmd->add_option("--size", o->height, "input resolution (square)")
      ->check(CLI::Range(1, 4096))
      ->each([o](const std::string& v) { o->width = std::stoi(v); })
      ->capture_default_str();
  cmd->add_flag("--json", o->json, "JSON output");
  cmd->add_flag("--force", o->force, "exit 0 even when a kernel sees 1x1 maps");
  cmd->add_option("--layout", o->layout,
                  "inception_v1 (5x5 third branch, floor-mode pools with padding) | "
                  "torchvision (3x3 third branch, ceil-mode pools; imported models)")
      ->check(CLI::IsMember({"inception_v1", "torchvision"}))
      ->capture_default_str();

  Command c;
  c.app = cmd;
  c.run = [o](const std::string&) { return run_summary(*o); };
  return c;
}

}  // namespace gnconvert
