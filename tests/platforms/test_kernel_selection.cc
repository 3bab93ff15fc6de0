// The kernel the selector picks for every layer of real plans, pinned per ISA level: the random
// 1/16 GoogLeNet of bench_sparse (seed 1) and the shipped 16x model, at 224x224 and 48x48.
// tests/platforms/selection/<isa>.txt holds the expected lines ("model size layer kernel");
// GNRT_UPDATE_SELECTION=1 rewrites the files of the levels this CPU runs instead of comparing
// (only after a deliberate change of the selection, reviewed in the diff).
#include <doctest/doctest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gnrt/kernels.h"
#include "plan_layers.h"

namespace k = gnrt::kernels;

namespace {

std::vector<k::Isa> levels() {
  const k::Isa top = k::detect_isa();
  std::vector<k::Isa> result{k::Isa::kScalar};
  if (top == k::Isa::kNeon) result.push_back(k::Isa::kNeon);
  if (top == k::Isa::kAvx2 || top == k::Isa::kAvx512) result.push_back(k::Isa::kAvx2);
  if (top == k::Isa::kAvx512) result.push_back(k::Isa::kAvx512);
  return result;
}

std::string file_for(k::Isa isa) {
  std::string name = isa == k::Isa::kAvx2 ? "avx2" : k::isa_name(isa);
#if defined(__aarch64__)
  if (isa == k::Isa::kNeon) name += "-aarch64";
#elif defined(__arm__)
  if (isa == k::Isa::kNeon) name += "-armv7";
#endif
  return std::string(GNRT_SELECTION_DIR) + "/" + name + ".txt";
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<std::uint8_t>(std::istreambuf_iterator<char>(in), {});
}

std::string chosen(const gnrt_bench::PlanLayer& layer, k::Isa isa) {
  switch (layer.kind) {
    case gnrt_bench::LayerKind::kConv:
      return k::select_conv_kernel(layer.conv, isa, false).name;
    case gnrt_bench::LayerKind::kFc:
      return k::select_fc_kernel(layer.fc, isa, false).name;
    case gnrt_bench::LayerKind::kPool:
      return k::select_pool_kernel(layer.pool, isa, false).name;
  }
  return "";
}

// "model size layer kernel" per layer and level; the plan's own choice (detected ISA) as layer
// "<name>@plan" in the detected level's lines.
std::vector<std::string> selection_lines(k::Isa isa) {
  struct Model {
    const char* tag;
    std::vector<std::uint8_t> bytes;
  };
  const Model models[] = {
      {"random-d0.0625", gnrt_bench::random_googlenet(0.0625, 1, 224)},
      {"googlenet-fmnist-16x",
       read_bytes(std::string(GNRT_MODELS_DIR) + "/googlenet-fmnist-16x.gnrt")},
  };
  std::vector<std::string> lines;
  for (const Model& m : models) {
    REQUIRE_MESSAGE(!m.bytes.empty(), m.tag);
    for (int size : {224, 48}) {
      std::vector<std::unique_ptr<gnrt_bench::PlanLayer>> layers;
      std::string error;
      REQUIRE_MESSAGE(gnrt_bench::plan_layers(m.bytes, size, &layers, &error), error);
      for (const auto& layer : layers) {
        const std::string head = std::string(m.tag) + " " + std::to_string(size) + " ";
        lines.push_back(head + layer->name + " " + chosen(*layer, isa));
        if (isa == k::detect_isa())
          lines.push_back(head + layer->name + "@plan " + layer->planned_kernel);
      }
    }
  }
  return lines;
}

}  // namespace

TEST_CASE("every layer of real plans gets the pinned kernel at every ISA level this CPU runs") {
  const char* update = std::getenv("GNRT_UPDATE_SELECTION");
  for (k::Isa isa : levels()) {
    const std::string path = file_for(isa);
    CAPTURE(path);
    const std::vector<std::string> lines = selection_lines(isa);
    if (update != nullptr && std::string(update) == "1") {
      std::ofstream out(path);
      for (const std::string& line : lines) out << line << "\n";
      continue;
    }
    std::ifstream in(path);
    REQUIRE_MESSAGE(in.good(), "no expectations for this level (GNRT_UPDATE_SELECTION=1)");
    std::vector<std::string> expected;
    for (std::string line; std::getline(in, line);) expected.push_back(line);
    CHECK(lines.size() == expected.size());
    for (std::size_t i = 0; i < lines.size() && i < expected.size(); ++i) {
      CAPTURE(i);
      CHECK(lines[i] == expected[i]);
    }
  }
}
