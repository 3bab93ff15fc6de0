#include "bench_common.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "gnrt/googlenet.h"
#include "gnrt/model_builder.h"

namespace gnrt_bench {

int report_error(const std::string& message) {
  std::fprintf(stderr, "bench_sparse: error: %s\n", message.c_str());
  return 1;
}

std::vector<std::uint8_t> build_random_googlenet(const RandomGoogLeNet& spec) {
  gnrt::GoogLeNetConfig config;
  config.in_channels = spec.in_channels;
  config.num_classes = spec.num_classes;
  config.height = config.width = spec.size;
  gnrt::ModelMetadata metadata;
  char name[96];
  std::snprintf(name, sizeof name, "googlenet-random-d%g-s%u", spec.density, spec.seed);
  metadata.name = name;
  metadata.description =
      "GoogLeNet with seeded random He-normal weights, magnitude-pruned per layer (bench_sparse)";
  metadata.producer = "bench_sparse";
  gnrt::WeightOptions weight_options;
  weight_options.storage =
      spec.float16 ? gnrt::ValueStorage::kFloat16 : gnrt::ValueStorage::kFloat32;
  return gnrt::build_googlenet(config, gnrt::random_pruned_weights(spec.seed, spec.density),
                               metadata, weight_options);
}

Stats stats_of(std::vector<double> v) {
  Stats s;
  if (v.empty()) return s;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  s.median = n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
  s.min = v.front();
  s.max = v.back();
  return s;
}

double median_of(std::vector<double> v) { return stats_of(std::move(v)).median; }

Comparison compare(const std::vector<float>& got, const std::vector<float>& want) {
  Comparison c;
  double peak = 0;
  for (float w : want) peak = std::max(peak, static_cast<double>(std::fabs(w)));
  const double floor = std::max(1e-3 * peak, 1e-30);
  for (std::size_t i = 0; i < want.size(); ++i) {
    if (!std::isfinite(got[i]) || !std::isfinite(want[i])) c.finite = false;
    const double diff = std::fabs(static_cast<double>(got[i]) - want[i]);
    c.max_abs_error = std::max(c.max_abs_error, diff);
    c.max_relative_error =
        std::max(c.max_relative_error, diff / std::max<double>(std::fabs(want[i]), floor));
  }
  c.argmax_got = static_cast<int>(std::max_element(got.begin(), got.end()) - got.begin());
  c.argmax_want = static_cast<int>(std::max_element(want.begin(), want.end()) - want.begin());
  return c;
}

}  // namespace gnrt_bench
