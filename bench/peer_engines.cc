#include "peer_engines.h"

#include <exception>
#include <random>
#include <sstream>

#include "datasets.h"
#include "image.h"

namespace gnrt_bench {

namespace {
constexpr Engine kAllEngines[] = {Engine::kGnrt, Engine::kXnnpackF32, Engine::kXnnpackQS8,
                                  Engine::kXnnpackF16};
}  // namespace

const char* engine_cli_name(Engine engine) {
  switch (engine) {
    case Engine::kGnrt:
      return "gnrt";
    case Engine::kXnnpackF32:
      return "xnnpack-f32";
    case Engine::kXnnpackQS8:
      return "xnnpack-qs8";
    case Engine::kXnnpackF16:
      return "xnnpack-f16";
    case Engine::kGnrtInt8:
      return "gnrt-int8";
  }
  return "?";
}

const char* engine_label(Engine engine) {
  switch (engine) {
    case Engine::kGnrt:
      return "libgnrt";
    case Engine::kXnnpackF32:
      return "xnnpack_dense";
    case Engine::kXnnpackQS8:
      return "xnnpack_qs8";
    case Engine::kXnnpackF16:
      return "xnnpack_f16";
    case Engine::kGnrtInt8:
      return "libgnrt_int8";
  }
  return "?";
}

const char* engine_key(Engine engine) {
  switch (engine) {
    case Engine::kGnrt:
      return "gnrt";
    case Engine::kXnnpackF32:
      return "xnnpack_f32";
    case Engine::kXnnpackQS8:
      return "xnnpack_qs8";
    case Engine::kXnnpackF16:
      return "xnnpack_f16";
    case Engine::kGnrtInt8:
      return "gnrt_int8";
  }
  return "?";
}

std::string parse_engines(const std::string& list, std::vector<Engine>* engines) {
  std::vector<bool> chosen(5, false);
  std::stringstream in(list);
  std::string name;
  bool any = false;
  while (std::getline(in, name, ',')) {
    if (name == "all") {
      for (Engine e : kAllEngines) chosen[static_cast<std::size_t>(e)] = true;
      any = true;
      continue;
    }
    bool known = false;
    for (Engine e : kAllEngines) {
      if (name == engine_cli_name(e)) {
        chosen[static_cast<std::size_t>(e)] = known = any = true;
      }
    }
    if (!known)
      return "--engines: unknown engine '" + name +
             "' (known: gnrt, xnnpack-f32, xnnpack-qs8, xnnpack-f16, all)";
  }
  if (!any) return "--engines: empty list";
  engines->clear();
  for (Engine e : kAllEngines)
    if (chosen[static_cast<std::size_t>(e)]) engines->push_back(e);
  return "";
}

bool has_engine(const std::vector<Engine>& engines, Engine engine) {
  for (Engine e : engines)
    if (e == engine) return true;
  return false;
}

std::vector<float> random_input(std::size_t count, unsigned seed) {
  std::vector<float> input(count);
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
  for (float& v : input) v = uniform(rng);
  return input;
}

std::string ImagePreprocessor::init(const std::vector<std::uint8_t>& bytes, int size) {
  gnrt::Status status = gnrt::load_model(bytes.data(), bytes.size(), &model_);
  if (!status.ok()) return "not a valid .gnrt model: " + status.message;
  gnrt::PlanConfig config;
  config.height = config.width = size;
  status = gnrt::Plan::create(model_, config, &plan_);
  if (!status.ok()) return "preprocessing plan: " + status.message;
  return "";
}

std::string ImagePreprocessor::to_nchw(const std::uint8_t* pixels, int height, int width,
                                       std::vector<float>* out) {
  const gnrt::Status status = gnrt::set_input_image(plan_.get(), pixels, height, width, 1);
  if (!status.ok()) return "preprocessing: " + status.message;
  const int t = plan_->input_tensor();
  const gnrt::TensorLayout& l = plan_->layout(t);
  const float* data = plan_->tensor_data(t);
  out->resize(static_cast<std::size_t>(l.channels) * l.height * l.width);
  std::size_t i = 0;
  for (int c = 0; c < l.channels; ++c)
    for (int y = 0; y < l.height; ++y)
      for (int x = 0; x < l.width; ++x)
        (*out)[i++] = data[c * l.channel_stride + y * l.row_stride + x];
  return "";
}

std::string load_fashion_mnist(bool train, gnrt::tools::IdxImages* images,
                               gnrt::tools::IdxLabels* labels) {
  const std::string dir = gnrt::tools::fashion_mnist_dir();
  const std::string prefix = dir + (train ? "/train" : "/t10k");
  try {
    *images = gnrt::tools::read_idx_images(prefix + "-images-idx3-ubyte.gz");
    *labels = gnrt::tools::read_idx_labels(prefix + "-labels-idx1-ubyte.gz");
  } catch (const std::exception& e) {
    return std::string("Fashion-MNIST: ") + e.what();
  }
  if (static_cast<std::size_t>(images->count) != labels->labels.size())
    return "Fashion-MNIST: " + prefix + ": image and label counts differ";
  if (images->count == 0) return "Fashion-MNIST: " + prefix + ": empty";
  return "";
}

std::string calibrate_qs8(const std::vector<std::uint8_t>& bytes, const CalibrationSpec& spec,
                          Calibration* calibration) {
  XnnpackBaselineOptions options;
  options.num_threads = spec.threads;
  options.input_height = options.input_width = spec.size;
  std::string error;
  std::unique_ptr<XnnpackBaseline> f32 =
      XnnpackBaseline::create(bytes.data(), bytes.size(), options, &error);
  if (!f32) return "qs8 calibration: " + error;
  const auto shape = f32->input_shape();
  const std::size_t count = static_cast<std::size_t>(shape[1]) * shape[2] * shape[3];

  gnrt::tools::IdxImages images;
  gnrt::tools::IdxLabels labels;
  ImagePreprocessor pre;
  calibration->from_dataset = false;
  if (spec.use_dataset) {
    error = load_fashion_mnist(true, &images, &labels);
    if (error.empty()) error = pre.init(bytes, spec.size);
    if (error.empty()) {
      calibration->from_dataset = true;
    } else {
      calibration->warning = "qs8 calibration falls back to random inputs: " + error;
    }
  } else {
    calibration->warning =
        "qs8 calibration uses random inputs (built-in random model, no real data)";
  }
  const int n = calibration->from_dataset ? std::min(spec.images, images.count) : spec.images;
  std::vector<float> input;
  calibration->ranges.clear();
  for (int i = 0; i < n; ++i) {
    if (calibration->from_dataset) {
      error = pre.to_nchw(images.image(i), images.height, images.width, &input);
      if (!error.empty()) return "qs8 calibration: " + error;
    } else {
      input = random_input(count, spec.seed + 1000u + static_cast<unsigned>(i));
    }
    if (!f32->set_input(input.data(), input.size()) || !f32->collect_ranges(&calibration->ranges))
      return "qs8 calibration: " + f32->last_error();
  }
  calibration->count = n;
  std::ostringstream method;
  method << "per-tensor min/max of XNNPACK f32 over " << n
         << (calibration->from_dataset ? " Fashion-MNIST training images (the first ones)"
                                       : " random uniform [-1,1] inputs")
         << "; asymmetric int8 over [min(lo,0),max(hi,0)]; concat inputs and max-pool in/out "
            "share their group's range; weights symmetric per output channel (conv), per tensor "
            "(fc)";
  calibration->method = method.str();
  return "";
}

}  // namespace gnrt_bench
