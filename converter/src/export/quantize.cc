#include "export/quantize.h"

#include <stdexcept>

#include "dense_weights.h"  // gnrt_dense_weights
#include "gnrt/model_builder.h"
#include "model.h"  // the runtime's decoder (gnrt_runtime_internals)

namespace gnconvert {
namespace {

std::size_t at(int index) { return static_cast<std::size_t>(index); }

gnrt::PoolParams pool_params(const gnrt::OpDesc& op) {
  gnrt::PoolParams p;
  p.global = op.type == gnrt::OpType::kGlobalAvgPool;
  p.kernel_h = op.kernel_h;
  p.kernel_w = op.kernel_w;
  p.stride_h = op.stride_h;
  p.stride_w = op.stride_w;
  p.pad_top = op.pad_top;
  p.pad_left = op.pad_left;
  p.pad_bottom = op.pad_bottom;
  p.pad_right = op.pad_right;
  p.ceil_mode = op.ceil_mode;
  p.count_include_pad = op.count_include_pad;
  p.relu = op.relu;
  return p;
}

gnrt::ModelMetadata metadata(const gnrt::Model& model, const QuantizeSettings& settings) {
  gnrt::ModelMetadata m;
  m.name = model.name;
  m.description = settings.description;
  m.producer = "gn-convert quantize";
  for (const char* label : model.labels) m.labels.emplace_back(label);
  m.mean = model.mean;
  m.std = model.std_dev;
  m.test_accuracy = settings.test_accuracy;
  m.pruning.params_dense_training = model.params_dense_training;
  m.pruning.nonzeros_training = model.nonzeros_training;
  if (model.root && model.root->metadata()) {
    if (const gnrt::fb::PruningSummary* p = model.root->metadata()->pruning()) {
      m.pruning.training_height = p->training_height();
      m.pruning.training_width = p->training_width();
      if (p->method()) m.pruning.method = p->method()->str();
      if (p->recipe()) m.pruning.recipe = p->recipe()->str();
    }
  }
  return m;
}

}  // namespace

std::vector<ActivationQuant> int8_activation_quantization(const gnrt::Model& model,
                                                          const std::vector<TensorRange>& ranges) {
  return activation_quantization(model, ranges, /*all_pools=*/true);
}

std::size_t int8_weight_bytes(const std::vector<float>& w, int rows, int in_per_group, int kh,
                              int kw, bool sparse, int block) {
  const std::size_t taps = at(kh) * at(kw), row_length = at(in_per_group) * taps;
  if (w.size() != at(rows) * row_length)
    throw std::invalid_argument("int8_weight_bytes: weight count does not match the shape");
  if (!sparse) return w.size() + at(rows) * 4;  // values + scales
  if (block < 1 || in_per_group % block != 0)
    throw std::invalid_argument("int8_weight_bytes: in_per_group is not a multiple of the block");
  std::size_t entries = 0, index_bytes = 0;
  for (std::size_t r = 0; r < at(rows); ++r) {
    long long previous = -1;
    for (std::size_t cb = 0; cb < at(in_per_group / block); ++cb) {
      for (std::size_t tap = 0; tap < taps; ++tap) {
        bool any = false;
        for (std::size_t j = 0; j < at(block) && !any; ++j)
          any = w[r * row_length + (cb * at(block) + j) * taps + tap] != 0.0f;
        if (!any) continue;
        const long long entry = static_cast<long long>(cb * taps + tap);
        index_bytes += 1 + static_cast<std::size_t>((entry - previous - 1) / 255);
        previous = entry;
        ++entries;
      }
    }
  }
  // values + gap-coded indices + row counts + scales
  return entries * at(block) + index_bytes + at(rows) * 8;
}

int choose_block_size(const std::vector<float>& w, int rows, int in_per_group, int kh, int kw) {
  if (in_per_group % 4 != 0) return 1;
  return int8_weight_bytes(w, rows, in_per_group, kh, kw, true, 4) <
                 int8_weight_bytes(w, rows, in_per_group, kh, kw, true, 1)
             ? 4
             : 1;
}

std::vector<std::uint8_t> build_int8_model(const gnrt::Model& model,
                                           const std::vector<ActivationQuant>& quant,
                                           const QuantizeSettings& settings) {
  if (model.int8)
    throw std::runtime_error("the model is already int8 (format 1.1); quantize takes a float model");
  if (quant.size() != model.tensors.size())
    throw std::runtime_error("quantize: activation parameters for " + std::to_string(quant.size()) +
                             " tensors, the model has " + std::to_string(model.tensors.size()));
  gnrt::ModelBuilder b;
  std::vector<gnrt::TensorId> id(model.tensors.size(), -1);
  std::vector<bool> quantized(model.tensors.size(), false);
  auto quantize = [&](int t) {
    const ActivationQuant& q = quant[at(t)];
    b.set_quantization(id[at(t)], q.scale, q.zero_point);
    quantized[at(t)] = true;
  };
  auto need_quantized = [&](const gnrt::OpDesc& op, int t) {
    if (!quantized[at(t)])
      throw std::runtime_error("quantize: " + std::string(gnrt::op_type_name(op.type)) + " " +
                               op.name + " reads float tensor '" + model.tensors[at(t)].name +
                               "' (the output of a fully connected layer or softmax); format 1.1 "
                               "has no int8 operator after the logits");
  };

  const gnrt::TensorDesc& in = model.tensors.at(at(model.input));
  id[at(model.input)] = b.input(in.name, in.channels, in.default_height, in.default_width);
  quantize(model.input);

  for (const gnrt::OpDesc& op : model.ops) {
    const int x = op.inputs.at(0);
    gnrt::TensorId y = -1;
    switch (op.type) {
      case gnrt::OpType::kConv2D: {
        need_quantized(op, x);
        gnrt::ConvParams p;
        p.out_channels = op.out_channels;
        p.kernel_h = op.kernel_h;
        p.kernel_w = op.kernel_w;
        p.stride_h = op.stride_h;
        p.stride_w = op.stride_w;
        p.pad_top = op.pad_top;
        p.pad_left = op.pad_left;
        p.pad_bottom = op.pad_bottom;
        p.pad_right = op.pad_right;
        p.dilation_h = op.dilation_h;
        p.dilation_w = op.dilation_w;
        p.groups = op.groups;
        p.relu = op.relu;
        const std::vector<float> w = gnrt::dense_weights(op.weights).values;
        const int in_per_group = model.tensors[at(x)].channels / op.groups;
        gnrt::WeightOptions o;
        o.storage = gnrt::ValueStorage::kInt8;
        o.encoding = op.weights.sparse ? gnrt::WeightEncoding::kSparse : gnrt::WeightEncoding::kDense;
        o.block_size = op.weights.sparse ? choose_block_size(w, op.out_channels, in_per_group,
                                                             op.kernel_h, op.kernel_w)
                                         : 1;
        y = b.conv2d(op.name, id[at(x)], p, w, gnrt::bias_or_zeros(op), o);
        id[at(op.output)] = y;
        quantize(op.output);
        break;
      }
      case gnrt::OpType::kMaxPool:
      case gnrt::OpType::kAvgPool:
      case gnrt::OpType::kGlobalAvgPool:
        need_quantized(op, x);
        y = op.type == gnrt::OpType::kMaxPool ? b.max_pool(op.name, id[at(x)], pool_params(op))
                                              : b.avg_pool(op.name, id[at(x)], pool_params(op));
        id[at(op.output)] = y;
        quantize(op.output);
        break;
      case gnrt::OpType::kConcat: {
        if (op.relu) throw std::runtime_error("quantize: concat " + op.name + " has a fused ReLU");
        std::vector<gnrt::TensorId> parts;
        for (int t : op.inputs) {
          need_quantized(op, t);
          parts.push_back(id[at(t)]);
        }
        y = b.concat(op.name, parts);
        id[at(op.output)] = y;
        quantize(op.output);
        break;
      }
      case gnrt::OpType::kFullyConnected: {
        need_quantized(op, x);
        gnrt::WeightOptions o;
        o.storage = gnrt::ValueStorage::kInt8;
        o.encoding = op.weights.sparse ? gnrt::WeightEncoding::kSparse : gnrt::WeightEncoding::kDense;
        y = b.fully_connected(op.name, id[at(x)], op.out_channels,
                              gnrt::dense_weights(op.weights).values, gnrt::bias_or_zeros(op),
                              op.relu, o);
        id[at(op.output)] = y;  // float logits
        break;
      }
      case gnrt::OpType::kSoftmax:
        if (quantized[at(x)])
          throw std::runtime_error("quantize: softmax " + op.name +
                                   " reads a quantized tensor; format 1.1 needs float logits "
                                   "(a fully connected layer before it)");
        if (op.relu) throw std::runtime_error("quantize: softmax " + op.name + " has a fused ReLU");
        y = b.softmax(op.name, id[at(x)], op.beta);
        id[at(op.output)] = y;
        break;
    }
  }
  b.set_metadata(metadata(model, settings));
  std::vector<gnrt::TensorId> outputs;
  for (int t : model.outputs) outputs.push_back(id.at(at(t)));
  try {
    return b.finish(outputs);
  } catch (const std::invalid_argument& e) {
    throw std::runtime_error(std::string("quantize: ") + e.what());
  }
}

}  // namespace gnconvert
