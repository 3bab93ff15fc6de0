#include "export/int8_graph.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

#include "model.h"  // the runtime's decoder (gnrt_runtime_internals)
#include "export/graph_padding.h"

namespace gnconvert {
namespace {

std::size_t at(int index) { return static_cast<std::size_t>(index); }

const gnrt::TensorDesc& quantized_tensor(const gnrt::Model& model, int t, const std::string& who) {
  const gnrt::TensorDesc& d = model.tensors.at(at(t));
  if (!d.quantized)
    throw std::runtime_error("int8 graph: " + who + " reads or writes float tensor '" + d.name +
                             "' where a quantized tensor is needed");
  return d;
}

// sum over the row of w * x for integer-valued float tensors, |x| <= 255, |w| <= 127, exactly
// (as double). float32 sums of integers are exact below 2^24 whatever the order, so x is split
// into 16 * hi + lo (lo in 0..15, hi in -16..15) and each part convolved in float32 when a row is
// short enough; otherwise the convolution runs in double (exact below 2^53).
template <typename Op>
torch::Tensor exact_integer_product(const torch::Tensor& x, std::int64_t row_length, Op op) {
  constexpr std::int64_t kExactFloat = std::int64_t{1} << 24;
  if (row_length * 16 * 127 < kExactFloat) {
    const torch::Tensor hi = torch::floor(x / 16.0f);
    const torch::Tensor lo = x - 16.0f * hi;
    return op(hi, torch::kFloat).to(torch::kDouble) * 16.0 +
           op(lo, torch::kFloat).to(torch::kDouble);
  }
  return op(x.to(torch::kDouble), torch::kDouble);
}

// The runtime's requantization of int32 accumulators (platforms/include/gnrt/qkernels.h).
torch::Tensor requantize(const torch::Tensor& acc, const torch::Tensor& multiplier, int zero_point,
                         int lo) {
  torch::Tensor y = acc.to(torch::kFloat) * multiplier;  // float(acc) rounds to nearest even
  y = torch::round(torch::clamp(y, -512.0, 512.0)) + static_cast<float>(zero_point);
  return torch::clamp(y, static_cast<double>(lo), 255.0);
}

torch::Tensor bias_tensor(const gnrt::OpDesc& op) {
  torch::Tensor b = torch::zeros({op.out_channels}, torch::kDouble);
  if (op.bias_i32) {
    auto a = b.accessor<double, 1>();
    for (int o = 0; o < op.out_channels; ++o) a[o] = static_cast<double>(op.bias_i32[o]);
  }
  return b;
}

torch::Tensor weight_tensor(const gnrt::OpDesc& op, std::vector<std::int64_t> dims) {
  const std::vector<std::int8_t> q = dense_int8_weights(op);
  torch::Tensor w = torch::empty({static_cast<std::int64_t>(q.size())}, torch::kFloat);
  float* p = w.data_ptr<float>();
  for (std::size_t i = 0; i < q.size(); ++i) p[i] = static_cast<float>(q[i]);
  return w.view(dims);
}

torch::Tensor conv(const gnrt::Model& model, const gnrt::OpDesc& op, const torch::Tensor& q_in) {
  const gnrt::TensorDesc& in = quantized_tensor(model, op.inputs.at(0), op.name);
  const gnrt::TensorDesc& out = quantized_tensor(model, op.output, op.name);
  if (!op.weights.int8) throw std::runtime_error("int8 graph: " + op.name + " has float weights");
  const std::int64_t in_per_group = q_in.size(1) / op.groups;
  const torch::Tensor w =
      weight_tensor(op, {op.out_channels, in_per_group, op.kernel_h, op.kernel_w});
  // Padding holds the zero point: (q_in - z_in) is 0 there.
  const torch::Tensor x = pad(q_in - static_cast<float>(in.zero_point), op, 0.0);
  const std::vector<std::int64_t> stride = {op.stride_h, op.stride_w}, none = {0, 0},
                                  dilation = {op.dilation_h, op.dilation_w};
  torch::Tensor acc = exact_integer_product(
      x, op.weights.row_length, [&](const torch::Tensor& part, torch::ScalarType type) {
        return torch::conv2d(part.to(type), w.to(type), {}, stride, none, dilation, op.groups);
      });
  acc = acc + bias_tensor(op).view({1, -1, 1, 1});
  std::vector<float> m(at(op.out_channels));
  for (int o = 0; o < op.out_channels; ++o)
    m[at(o)] = static_cast<float>(static_cast<double>(in.scale) *
                                  static_cast<double>(op.weights.scales[o]) /
                                  static_cast<double>(out.scale));
  return requantize(acc, torch::tensor(m).view({1, -1, 1, 1}), out.zero_point,
                    op.relu ? out.zero_point : 0);
}

torch::Tensor fully_connected(const gnrt::Model& model, const gnrt::OpDesc& op,
                              const torch::Tensor& q_in) {
  const gnrt::TensorDesc& in = quantized_tensor(model, op.inputs.at(0), op.name);
  if (!op.weights.int8) throw std::runtime_error("int8 graph: " + op.name + " has float weights");
  const torch::Tensor w = weight_tensor(op, {op.out_channels, op.weights.row_length});
  const torch::Tensor x = q_in.flatten(1) - static_cast<float>(in.zero_point);
  torch::Tensor acc = exact_integer_product(
      x, op.weights.row_length, [&](const torch::Tensor& part, torch::ScalarType type) {
        return torch::linear(part.to(type), w.to(type));
      });
  acc = acc + bias_tensor(op).view({1, -1});
  std::vector<float> m(at(op.out_channels));
  for (int o = 0; o < op.out_channels; ++o)
    m[at(o)] = static_cast<float>(static_cast<double>(in.scale) *
                                  static_cast<double>(op.weights.scales[o]));
  torch::Tensor y = acc.to(torch::kFloat) * torch::tensor(m).view({1, -1});
  return op.relu ? torch::relu(y) : y;
}

// round_half_even(sum / count) for exact integer sums and counts of the same shape (a true
// division, never by a reciprocal; double division of integers lands on a tie exactly when the
// quotient is one).
torch::Tensor rounded_average(const torch::Tensor& sum, const torch::Tensor& count) {
  return torch::round(sum.to(torch::kDouble) / count.to(torch::kDouble)).to(torch::kFloat);
}

torch::Tensor pool(const gnrt::Model& model, const gnrt::OpDesc& op, const torch::Tensor& q) {
  const gnrt::TensorDesc& in = quantized_tensor(model, op.inputs.at(0), op.name);
  quantized_tensor(model, op.output, op.name);
  const float z = static_cast<float>(in.zero_point);
  if (op.type == gnrt::OpType::kGlobalAvgPool) {
    const torch::Tensor sum = q.to(torch::kDouble).sum({2, 3}, /*keepdim=*/true);
    return rounded_average(sum, torch::full_like(sum, static_cast<double>(q.size(2) * q.size(3))));
  }
  const std::vector<std::int64_t> kernel = {op.kernel_h, op.kernel_w};
  const std::vector<std::int64_t> stride = {op.stride_h, op.stride_w};
  const bool symmetric = symmetric_padding(op);
  const std::vector<std::int64_t> padding = symmetric
                                                ? std::vector<std::int64_t>{op.pad_top, op.pad_left}
                                                : std::vector<std::int64_t>{0, 0};
  if (op.type == gnrt::OpType::kMaxPool) {
    const torch::Tensor x = symmetric ? q : pad(q, op, -std::numeric_limits<double>::infinity());
    return torch::max_pool2d(x, kernel, stride, padding, {1, 1}, op.ceil_mode);
  }
  if (!symmetric && !op.count_include_pad)
    throw std::runtime_error("int8 graph: average pool " + op.name +
                             " has asymmetric padding that it does not count");
  // Sum of (q - z) over the taps inside the input (PyTorch pads with 0), the taps inside the
  // input, and PyTorch's divisor (taps inside the input, or the window clipped to the padded
  // input with count_include_pad); padding taps add z each, so sum q = sum (q - z) + z * divisor.
  const torch::Tensor centred =
      symmetric ? q.to(torch::kDouble) - z : pad(q.to(torch::kDouble) - z, op, 0.0);
  const torch::Tensor ones =
      symmetric ? torch::ones_like(q, torch::kDouble)
                : pad(torch::ones_like(q, torch::kDouble), op, 1.0);  // padding counted
  const torch::Tensor sum =
      torch::avg_pool2d(centred, kernel, stride, padding, op.ceil_mode, true, 1);
  const torch::Tensor inside = torch::avg_pool2d(ones, kernel, stride, padding, op.ceil_mode, true, 1);
  const torch::Tensor mean_of_ones =
      torch::avg_pool2d(ones, kernel, stride, padding, op.ceil_mode, op.count_include_pad);
  const torch::Tensor divisor = torch::round(inside / mean_of_ones);
  return rounded_average(sum + static_cast<double>(z) * divisor, divisor);
}

}  // namespace

std::vector<std::int8_t> dense_int8_weights(const gnrt::OpDesc& op) {
  const gnrt::WeightRef& w = op.weights;
  if (!w.int8 || !w.values_i8)
    throw std::runtime_error("operator " + op.name + " has no int8 weights");
  const std::size_t rows = at(w.rows), row_length = at(w.row_length);
  std::vector<std::int8_t> dense(rows * row_length, 0);
  if (!w.sparse) {
    std::copy_n(w.values_i8, dense.size(), dense.begin());
    return dense;
  }
  const std::size_t taps =
      op.type == gnrt::OpType::kConv2D ? at(op.kernel_h) * at(op.kernel_w) : std::size_t{1};
  const std::size_t block = at(w.block_size);
  std::size_t entry_pos = 0, delta_pos = 0, value_pos = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    long long previous = -1;
    for (std::uint32_t k = 0; k < w.row_nonzeros[r]; ++k, ++entry_pos) {
      std::size_t entry = 0;
      if (w.indices_delta) {
        long long skip = 0;
        while (delta_pos < w.indices_delta_count && w.indices_delta[delta_pos] == 0) {
          skip += 255;
          ++delta_pos;
        }
        if (delta_pos >= w.indices_delta_count)
          throw std::runtime_error("operator " + op.name + ": indices_delta ends early");
        previous += skip + w.indices_delta[delta_pos++];
        entry = static_cast<std::size_t>(previous);
      } else if (w.indices_u8) {
        entry = w.indices_u8[entry_pos];
      } else if (w.indices_u16) {
        entry = w.indices_u16[entry_pos];
      } else {
        entry = w.indices_u32[entry_pos];
      }
      const std::size_t channel_block = entry / taps, tap = entry % taps;
      for (std::size_t j = 0; j < block; ++j) {
        const std::size_t ic = channel_block * block + j;
        const std::size_t col = ic * taps + tap;
        if (col >= row_length || value_pos >= w.value_count)
          throw std::runtime_error("operator " + op.name + ": sparse entry out of range");
        dense[r * row_length + col] = w.values_i8[value_pos++];
      }
    }
  }
  return dense;
}

std::vector<torch::Tensor> run_int8_graph_tensors(const gnrt::Model& model,
                                                  const torch::Tensor& float_input) {
  torch::NoGradGuard no_grad;
  if (!model.int8) throw std::runtime_error("int8 graph: the model is not int8 (format 1.1)");
  std::vector<torch::Tensor> t(model.tensors.size());
  {
    const gnrt::TensorDesc& in = quantized_tensor(model, model.input, "the graph input");
    // Divided by a full tensor of s: LibTorch may turn a division by a scalar into a
    // multiplication by its reciprocal, which rounds differently.
    const torch::Tensor x_f = float_input.to(torch::kFloat).contiguous();
    torch::Tensor x = torch::round(x_f / torch::full_like(x_f, in.scale)) +
                      static_cast<float>(in.zero_point);
    t[at(model.input)] = torch::clamp(x, 0.0, 255.0);
  }
  for (const gnrt::OpDesc& op : model.ops) {
    const torch::Tensor& x = t[at(op.inputs.at(0))];
    torch::Tensor y;
    switch (op.type) {
      case gnrt::OpType::kConv2D:
        y = conv(model, op, x);
        break;
      case gnrt::OpType::kFullyConnected:
        y = fully_connected(model, op, x);
        break;
      case gnrt::OpType::kMaxPool:
      case gnrt::OpType::kAvgPool:
      case gnrt::OpType::kGlobalAvgPool: {
        y = pool(model, op, x);
        if (op.relu)
          y = torch::clamp_min(y, static_cast<double>(model.tensors[at(op.output)].zero_point));
        break;
      }
      case gnrt::OpType::kConcat: {
        std::vector<torch::Tensor> parts;
        for (int in : op.inputs) parts.push_back(t[at(in)]);
        y = torch::cat(parts, 1);
        if (op.relu)
          y = torch::clamp_min(y, static_cast<double>(model.tensors[at(op.output)].zero_point));
        break;
      }
      case gnrt::OpType::kSoftmax:
        if (model.tensors[at(op.inputs[0])].quantized)
          throw std::runtime_error("int8 graph: softmax " + op.name + " reads a quantized tensor");
        y = torch::softmax(x * op.beta, 1);
        if (op.relu) y = torch::relu(y);
        break;
    }
    t[at(op.output)] = y;
  }
  return t;
}

torch::Tensor graph_logits(const gnrt::Model& model, const std::vector<torch::Tensor>& tensors) {
  const int output = model.outputs.at(0);
  const int producer = model.tensors.at(at(output)).producer;
  if (producer >= 0 && model.ops.at(at(producer)).type == gnrt::OpType::kSoftmax)
    return tensors.at(at(model.ops[at(producer)].inputs.at(0))).flatten(1);
  return tensors.at(at(output)).flatten(1);
}

torch::Tensor run_int8_graph(const gnrt::Model& int8_model, const torch::Tensor& float_input) {
  return graph_logits(int8_model, run_int8_graph_tensors(int8_model, float_input));
}

}  // namespace gnconvert
