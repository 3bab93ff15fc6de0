#include "cli_common.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "fileio.h"

namespace gnrt::cli {

void check_status(gnrt_status status, const std::string& context) {
  if (status == GNRT_OK) return;
  const char* message = gnrt_last_error();
  std::string text = context + ": " + gnrt_status_string(status);
  if (message && *message) text += ": " + tools::printable(message);
  throw CliError(text);
}

Model::Model(const std::string& path) {
  const gnrt_status status = gnrt_model_load_file(path.c_str(), &model_);
  if (status != GNRT_OK) {
    // The runtime's message usually names the file already; name it once.
    const char* message = gnrt_last_error();
    const bool names_path = message && std::string(message).find(path) != std::string::npos;
    check_status(status,
                 names_path ? "cannot load model" : "cannot load model " + tools::printable(path));
  }
  const gnrt_status info_status = gnrt_model_get_info(model_, &info_);
  if (info_status != GNRT_OK) {
    gnrt_model_destroy(model_);
    model_ = nullptr;
    check_status(info_status, "cannot read model info of " + tools::printable(path));
  }
}

Model::~Model() { gnrt_model_destroy(model_); }

std::string Model::label(int index) const {
  const char* text = gnrt_model_label(model_, index);
  return text ? std::string(text) : std::string();
}

Plan::Plan(const Model& model, int height, int width, int num_threads) {
  gnrt_options options;
  gnrt_options_init(&options);
  options.input_height = height;
  options.input_width = width;
  options.num_threads = num_threads;
  const std::string size = (height > 0 || width > 0)
                               ? std::to_string(height) + "x" + std::to_string(width)
                               : std::string("the default size");
  check_status(gnrt_plan_create(model.get(), &options, &plan_), "cannot plan the model at " + size);
  gnrt_status status = gnrt_plan_input_shape(plan_, input_dims_);
  if (status == GNRT_OK) status = gnrt_plan_output_shape(plan_, output_dims_);
  if (status != GNRT_OK) {
    gnrt_plan_destroy(plan_);
    plan_ = nullptr;
    check_status(status, "cannot query the plan's shapes");
  }
  for (int i = 0; i < 4; ++i) {
    if (input_dims_[i] < 1 || output_dims_[i] < 1) {
      gnrt_plan_destroy(plan_);
      plan_ = nullptr;
      throw CliError("the runtime reported an empty input or output shape");
    }
  }
}

Plan::~Plan() { gnrt_plan_destroy(plan_); }

std::size_t Plan::input_count() const {
  return std::size_t(input_dims_[0]) * std::size_t(input_dims_[1]) * std::size_t(input_dims_[2]) *
         std::size_t(input_dims_[3]);
}

std::size_t Plan::output_count() const {
  return std::size_t(output_dims_[0]) * std::size_t(output_dims_[1]) *
         std::size_t(output_dims_[2]) * std::size_t(output_dims_[3]);
}

namespace {
// Strict weak order: larger first, NaN after every number, ties by index.
bool ranks_before(const std::vector<float>& v, int a, int b) {
  const bool nan_a = std::isnan(v[a]);
  const bool nan_b = std::isnan(v[b]);
  if (nan_a != nan_b) return nan_b;
  if (!nan_a && v[a] != v[b]) return v[a] > v[b];
  return a < b;
}
}  // namespace

int argmax(const float* values, std::size_t count) {
  int best = 0;
  for (std::size_t i = 1; i < count; ++i) {
    if (std::isnan(values[best]) ? !std::isnan(values[i]) : values[i] > values[best]) {
      best = static_cast<int>(i);
    }
  }
  return best;
}

std::vector<int> top_k(const std::vector<float>& values, int k) {
  std::vector<int> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  const std::size_t n =
      std::min<std::size_t>(static_cast<std::size_t>(std::max(k, 0)), order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                    [&](int a, int b) { return ranks_before(values, a, b); });
  order.resize(n);
  return order;
}

std::vector<float> softmax(const std::vector<float>& logits) {
  std::vector<float> out(logits.size());
  float max_logit = -INFINITY;
  for (float x : logits) {
    if (x > max_logit) max_logit = x;
  }
  double sum = 0;
  for (std::size_t i = 0; i < logits.size(); ++i) {
    out[i] = std::exp(logits[i] - max_logit);
    sum += out[i];
  }
  for (float& x : out) x = static_cast<float>(x / sum);
  return out;
}

std::string shape_string(const std::vector<int>& dims) {
  std::string out;
  for (std::size_t i = 0; i < dims.size(); ++i) {
    if (i) out += 'x';
    out += std::to_string(dims[i]);
  }
  return out.empty() ? "-" : out;
}

}  // namespace gnrt::cli
