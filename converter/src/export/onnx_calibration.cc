#include "export/onnx_calibration.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

#include "gnrt/gnrt.h"
#include "dense_weights.h"  // gnrt_dense_weights
#include "model.h"          // the runtime's decoder (gnrt_runtime_internals)
#include "export/graph_padding.h"

namespace gnconvert {
namespace {

namespace F = torch::nn::functional;

std::size_t at(int index) { return static_cast<std::size_t>(index); }

torch::Tensor weight_tensor(const gnrt::Model& model, int index, std::vector<std::int64_t> dims) {
  std::vector<float> dense = gnrt::dense_weights(model.ops.at(std::size_t(index)).weights).values;
  return torch::from_blob(dense.data(), {static_cast<std::int64_t>(dense.size())}, torch::kFloat)
      .clone()
      .view(dims);
}

torch::Tensor bias_tensor(const gnrt::OpDesc& op) {
  if (!op.bias) return torch::zeros({op.out_channels});
  return torch::from_blob(const_cast<float*>(op.bias), {op.out_channels}, torch::kFloat).clone();
}

torch::Tensor pool(const gnrt::OpDesc& op, const torch::Tensor& x) {
  const std::vector<std::int64_t> kernel = {op.kernel_h, op.kernel_w};
  const std::vector<std::int64_t> stride = {op.stride_h, op.stride_w};
  const bool symmetric = symmetric_padding(op);
  const std::vector<std::int64_t> padding = symmetric
                                                ? std::vector<std::int64_t>{op.pad_top, op.pad_left}
                                                : std::vector<std::int64_t>{0, 0};
  if (op.type == gnrt::OpType::kMaxPool) {
    // Padding never wins a max: pad with -inf where PyTorch's own padding cannot express it.
    const torch::Tensor in = symmetric ? x : pad(x, op, -std::numeric_limits<double>::infinity());
    return torch::max_pool2d(in, kernel, stride, padding, {1, 1}, op.ceil_mode);
  }
  if (!symmetric && !op.count_include_pad)
    throw std::runtime_error("calibration: average pool " + op.name +
                             " has asymmetric padding that it does not count");
  const torch::Tensor in = symmetric ? x : pad(x, op, 0.0);
  return torch::avg_pool2d(in, kernel, stride, padding, op.ceil_mode, op.count_include_pad);
}

}  // namespace

torch::Tensor preprocess_images(const gnrt::Model& model, const ImageSet& set,
                                const std::vector<std::size_t>& indices) {
  const int channels = model.input_channels;
  if (set.channels != 1 && set.channels != 3)
    throw std::runtime_error("calibration images must have 1 or 3 channels");
  auto pixels =
      torch::empty({static_cast<std::int64_t>(indices.size()), set.channels, set.height, set.width},
                   torch::kUInt8);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (indices[i] >= set.size()) throw std::runtime_error("calibration image index out of range");
    std::copy_n(set.image(indices[i]), set.image_bytes(),
                pixels.data_ptr<std::uint8_t>() + i * set.image_bytes());
  }
  torch::Tensor x =
      F::interpolate(pixels.to(torch::kFloat),
                     F::InterpolateFuncOptions()
                         .size(std::vector<std::int64_t>{model.default_height, model.default_width})
                         .mode(torch::kBilinear)
                         .align_corners(false));
  if (channels == 3 && set.channels == 1) x = x.expand({-1, 3, -1, -1});
  if (channels == 1 && set.channels == 3) {
    x = (0.299 * x.select(1, 0) + 0.587 * x.select(1, 1) + 0.114 * x.select(1, 2)).unsqueeze(1);
  }
  if (x.size(1) != channels)
    throw std::runtime_error("calibration images do not match the model's input channels");
  auto mean = torch::tensor(model.mean).view({1, -1, 1, 1});
  auto std_dev = torch::tensor(model.std_dev).view({1, -1, 1, 1});
  return ((x / 255.0f - mean) / std_dev).contiguous();
}

std::vector<torch::Tensor> run_float_graph(const gnrt::Model& model, const torch::Tensor& input) {
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> t(model.tensors.size());
  t[at(model.input)] = input;
  for (std::size_t i = 0; i < model.ops.size(); ++i) {
    const gnrt::OpDesc& op = model.ops[i];
    const torch::Tensor& x = t[at(op.inputs.at(0))];
    torch::Tensor y;
    switch (op.type) {
      case gnrt::OpType::kConv2D: {
        const std::int64_t in_per_group = x.size(1) / op.groups;
        torch::Tensor w = weight_tensor(model, static_cast<int>(i),
                                        {op.out_channels, in_per_group, op.kernel_h, op.kernel_w});
        const std::vector<std::int64_t> stride = {op.stride_h, op.stride_w}, no_padding = {0, 0},
                                        dilation = {op.dilation_h, op.dilation_w};
        y = torch::conv2d(pad(x, op, 0.0), w, bias_tensor(op), stride, no_padding, dilation,
                          op.groups);
        break;
      }
      case gnrt::OpType::kFullyConnected:
        y = torch::linear(
            x.flatten(1),
            weight_tensor(model, static_cast<int>(i), {op.out_channels, op.weights.row_length}),
            bias_tensor(op));
        break;
      case gnrt::OpType::kMaxPool:
      case gnrt::OpType::kAvgPool:
        y = pool(op, x);
        break;
      case gnrt::OpType::kGlobalAvgPool:
        y = x.mean({2, 3}, /*keepdim=*/true);
        break;
      case gnrt::OpType::kConcat: {
        std::vector<torch::Tensor> parts;
        for (int in : op.inputs) parts.push_back(t[at(in)]);
        y = torch::cat(parts, 1);
        break;
      }
      case gnrt::OpType::kSoftmax:
        y = torch::softmax(x * op.beta, 1);
        break;
    }
    if (op.relu) y = torch::relu(y);
    t[at(op.output)] = y;
  }
  return t;
}

std::vector<TensorRange> calibrate_ranges(const gnrt::Model& model, const torch::Tensor& images) {
  std::vector<TensorRange> ranges(model.tensors.size());
  constexpr std::int64_t kBatch = 32;
  for (std::int64_t start = 0; start < images.size(0); start += kBatch) {
    const std::int64_t end = std::min(images.size(0), start + kBatch);
    const std::vector<torch::Tensor> tensors = run_float_graph(model, images.slice(0, start, end));
    for (std::size_t i = 0; i < tensors.size(); ++i) {
      if (!tensors[i].defined()) continue;
      const float lo = tensors[i].min().item<float>(), hi = tensors[i].max().item<float>();
      if (!std::isfinite(lo) || !std::isfinite(hi))
        throw std::runtime_error("calibration: tensor " + model.tensors[i].name + " is not finite");
      TensorRange& r = ranges[i];
      r.min = r.seen ? std::min(r.min, lo) : lo;
      r.max = r.seen ? std::max(r.max, hi) : hi;
      r.seen = true;
    }
  }
  return ranges;
}

double compare_with_libgnrt(const std::string& path, const gnrt::Model& model,
                            const torch::Tensor& images, int count) {
  auto fail = [](const std::string& what) {
    throw std::runtime_error("libgnrt: " + what + ": " + gnrt_last_error());
  };
  gnrt_model* handle = nullptr;
  if (gnrt_model_load_file(path.c_str(), &handle) != GNRT_OK) fail("cannot load " + path);
  std::unique_ptr<gnrt_model, void (*)(gnrt_model*)> owned_model(handle, gnrt_model_destroy);
  gnrt_options options;
  gnrt_options_init(&options);
  gnrt_plan* plan_handle = nullptr;
  if (gnrt_plan_create(handle, &options, &plan_handle) != GNRT_OK) fail("cannot plan");
  std::unique_ptr<gnrt_plan, void (*)(gnrt_plan*)> plan(plan_handle, gnrt_plan_destroy);

  const int n = std::min<int>(count, static_cast<int>(images.size(0)));
  const torch::Tensor reference =
      run_float_graph(model, images.slice(0, 0, n))[at(model.outputs.at(0))].contiguous();
  const std::int64_t classes = reference.size(1);
  std::vector<float> out(static_cast<std::size_t>(classes));
  double largest_diff = 0, largest_value = 1;
  for (int i = 0; i < n; ++i) {
    const torch::Tensor image = images[i].contiguous();
    if (gnrt_plan_set_input(plan.get(), image.data_ptr<float>(),
                            static_cast<std::size_t>(image.numel())) != GNRT_OK ||
        gnrt_plan_run(plan.get()) != GNRT_OK ||
        gnrt_plan_get_output(plan.get(), out.data(), out.size()) != GNRT_OK)
      fail("cannot run the model");
    for (std::int64_t c = 0; c < classes; ++c) {
      const double want = reference[i][c].item<float>();
      largest_diff = std::max(largest_diff, std::fabs(want - out[static_cast<std::size_t>(c)]));
      largest_value = std::max(largest_value, std::fabs(want));
    }
  }
  return largest_diff / largest_value;
}

}  // namespace gnconvert
