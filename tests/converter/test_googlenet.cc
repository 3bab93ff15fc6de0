// The training model: GoogLeNet's layout, parameter counts and feature-map sizes (LibTorch).
#include <cmath>
#include <set>

#include "gnrt/googlenet.h"
#include "model/googlenet.h"
#include "tiny_session.h"

#include "doctest_torch.h"  // last: after LibTorch's glog macros

using namespace gnconvert;
using namespace gnconvert_test;

TEST_CASE("GoogLeNet has the paper's layout and ~10.4M parameters with 10 classes") {
  ModelConfig config;
  config.num_classes = 10;
  config.in_channels = 3;
  GoogLeNet net(config);
  std::int64_t all = 0;
  for (const auto& p : net->parameters()) all += p.numel();
  CHECK(all >= 10300000);
  CHECK(all <= 10500000);
  CHECK(count_params(net, false) == 10318144 + 2 * 64 * 7 * 7);  // 3 input channels, not 1

  // Every deployed layer matches the shared graph definition, by name and shape, in order.
  gnrt::GoogLeNetConfig gconfig;
  gconfig.in_channels = 3;
  gconfig.num_classes = 10;
  auto specs = gnrt::googlenet_layers(gconfig);
  std::vector<Layer> deployed;
  for (const auto& l : model_layers(net)) {
    if (l.deployed) deployed.push_back(l);
  }
  REQUIRE(deployed.size() == specs.size());
  for (std::size_t i = 0; i < specs.size(); ++i) {
    CAPTURE(specs[i].name);
    CHECK(deployed[i].name == specs[i].name);
    CHECK(deployed[i].is_fc == specs[i].is_fc);
    std::vector<int64_t> want(specs[i].shape.begin(), specs[i].shape.end());
    CHECK(deployed[i].weight.sizes().vec() == want);
  }
  const auto& gspecs = gnrt::googlenet_inception_specs();
  REQUIRE(gspecs.size() == inception_specs().size());
  for (std::size_t i = 0; i < gspecs.size(); ++i) {
    CHECK(std::string(gspecs[i].name) == inception_specs()[i].name);
    CHECK(gspecs[i].b3 == inception_specs()[i].b3);
    CHECK(gspecs[i].b2_reduce == inception_specs()[i].b2_reduce);
  }
  // True 5x5 in branch 3; auxiliary heads as in the paper.
  auto layers = model_layers(net);
  auto find = [&](const std::string& name) {
    for (const auto& l : layers) {
      if (l.name == name) return l;
    }
    FAIL("missing layer " << name);
    return layers[0];
  };
  CHECK(find("inception4a.b3").weight.sizes().vec() == std::vector<int64_t>{48, 16, 5, 5});
  CHECK(find("aux1.conv").weight.sizes().vec() == std::vector<int64_t>{128, 512, 1, 1});
  CHECK(find("aux2.conv").weight.sizes().vec() == std::vector<int64_t>{128, 528, 1, 1});
  CHECK(find("aux1.fc1").weight.sizes().vec() == std::vector<int64_t>{1024, 2048});
  CHECK(find("aux2.fc2").weight.sizes().vec() == std::vector<int64_t>{10, 1024});
  CHECK(find("fc").weight.sizes().vec() == std::vector<int64_t>{10, 1024});
  CHECK_FALSE(find("aux1.fc1").deployed);
}

TEST_CASE("feature maps: 48x48 keeps inception 5 at 2x2, 32x32 collapses it") {
  ModelConfig config;
  GoogLeNet net(config);
  auto g48 = measure_geometry(net, 48, 48);
  for (const auto& g : g48) {
    if (g.name == "conv1") CHECK(g.out_h == 24);
    if (g.name == "conv3") CHECK(g.in_h == 12);
    if (g.name == "inception3a.b2") CHECK(g.in_h == 6);
    if (g.name == "inception4e.b3") CHECK(g.in_h == 3);
    if (g.name == "inception5b.b3") CHECK(g.in_h == 2);
  }
  CHECK(degenerate_layers(g48).empty());
  auto g224 = measure_geometry(net, 224, 224);
  for (const auto& g : g224) {
    if (g.name == "inception5b.b3") CHECK(g.in_h == 7);
    if (g.name == "conv3") CHECK(g.in_h == 56);
  }
  auto bad = degenerate_layers(measure_geometry(net, 32, 32));
  CHECK(std::find(bad.begin(), bad.end(), "inception5a.b3") != bad.end());
  CHECK(std::find(bad.begin(), bad.end(), "inception5a.b1") == bad.end());  // 1x1 kernels are fine
  // Tiny inputs run (padded pools keep 1x1 maps alive) but every spatial kernel degenerates.
  auto bad4 = degenerate_layers(measure_geometry(net, 4, 4));
  CHECK(std::find(bad4.begin(), bad4.end(), "conv3") != bad4.end());
  CHECK_THROWS(measure_geometry(net, 0, 0));

  net->train();
  auto out = net->forward_all(torch::randn({2, 1, 48, 48}), true);
  CHECK(out.logits.sizes().vec() == std::vector<int64_t>{2, 10});
  CHECK(out.aux1.sizes().vec() == std::vector<int64_t>{2, 10});
  CHECK(out.aux2.sizes().vec() == std::vector<int64_t>{2, 10});
  net->eval();
  CHECK_FALSE(net->forward_all(torch::randn({1, 1, 48, 48}), false).aux1.defined());
}
