#include "export/onnx_export.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>
#include <stdexcept>

#include "dense_weights.h"  // gnrt_dense_weights
#include "model.h"          // the runtime's decoder (gnrt_runtime_internals)

namespace gnconvert {
namespace {

constexpr int kOpset = 13;
// IR 7 is the version that introduced opset 13; libonnx 1.12's checker and ORT 1.30 take it.
constexpr int kIrVersion = 7;

std::string join_floats(const std::vector<float>& values) {
  std::string out;
  char buf[32];
  for (std::size_t i = 0; i < values.size(); ++i) {
    std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(values[i]));
    out += (i ? "," : "") + std::string(buf);
  }
  return out;
}

// Builds the graph: names, initializers and nodes.
class GraphWriter {
 public:
  GraphWriter(const gnrt::Model& model, const OnnxExportSettings& settings, onnx::GraphProto* graph)
      : model_(model), settings_(settings), graph_(graph) {}

  void write();

 private:
  void name_tensors();
  void add_io();
  void add_operator(int index);
  void add_conv(int index, const std::string& input);
  void add_fully_connected(int index, const std::string& input);
  void add_pool(const gnrt::OpDesc& op, const std::string& input, const std::string& output);
  void add_softmax(const gnrt::OpDesc& op, const std::string& input, const std::string& output);
  struct WeightNames {
    std::string weights, bias;
  };
  WeightNames add_weights(const std::string& name, const std::vector<std::int64_t>& dims,
                          const std::vector<float>& weights, const float* bias, int input);
  // Quantize-dequantize pair on `name` with tensor t's parameters; returns the dequantized name.
  std::string add_qdq(const std::string& name, int tensor);
  // The name an operator reads tensor t under (its dequantized copy in the int8 graph).
  std::string input_name(int tensor) const;
  bool quantized(int tensor) const { return settings_.int8 && needs_quant_[tensor]; }

  onnx::NodeProto* add_node(const std::string& type, const std::string& name,
                            const std::vector<std::string>& inputs,
                            const std::vector<std::string>& outputs);
  void add_float_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                        const std::vector<float>& values);
  template <typename T>
  void add_raw_tensor(const std::string& name, int data_type, const std::vector<std::int64_t>& dims,
                      const std::vector<T>& values);

  const gnrt::Model& model_;
  const OnnxExportSettings& settings_;
  onnx::GraphProto* graph_;
  std::vector<std::string> names_;      // per gnrt tensor
  std::vector<bool> needs_quant_;       // per gnrt tensor: read by an operator other than Softmax
  std::vector<ActivationQuant> quant_;  // per gnrt tensor (int8)
};

void set_ints(onnx::NodeProto* node, const char* name, const std::vector<std::int64_t>& values) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INTS);
  for (std::int64_t v : values) a->add_ints(v);
}

void set_int(onnx::NodeProto* node, const char* name, std::int64_t value) {
  onnx::AttributeProto* a = node->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto::INT);
  a->set_i(value);
}

onnx::NodeProto* GraphWriter::add_node(const std::string& type, const std::string& name,
                                       const std::vector<std::string>& inputs,
                                       const std::vector<std::string>& outputs) {
  onnx::NodeProto* node = graph_->add_node();
  node->set_op_type(type);
  node->set_name(name);
  for (const std::string& in : inputs) node->add_input(in);
  for (const std::string& out : outputs) node->add_output(out);
  return node;
}

template <typename T>
void GraphWriter::add_raw_tensor(const std::string& name, int data_type,
                                 const std::vector<std::int64_t>& dims,
                                 const std::vector<T>& values) {
  // raw_data is little-endian; so is every target gn-convert builds for.
  onnx::TensorProto* t = graph_->add_initializer();
  t->set_name(name);
  t->set_data_type(data_type);
  for (std::int64_t d : dims) t->add_dims(d);
  t->set_raw_data(
      std::string(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(T)));
}

void GraphWriter::add_float_tensor(const std::string& name, const std::vector<std::int64_t>& dims,
                                   const std::vector<float>& values) {
  add_raw_tensor(name, onnx::TensorProto::FLOAT, dims, values);
}

void GraphWriter::name_tensors() {
  std::set<std::string> used = {"input", "output"};
  names_.resize(model_.tensors.size());
  for (std::size_t i = 0; i < model_.tensors.size(); ++i) {
    std::string name = model_.tensors[i].name;
    if (name.empty() || used.count(name)) name += "#" + std::to_string(i);
    used.insert(name);
    names_[i] = name;
  }
  names_[static_cast<std::size_t>(model_.input)] = "input";
  names_[static_cast<std::size_t>(model_.outputs.at(0))] = "output";
  needs_quant_.assign(model_.tensors.size(), false);
  needs_quant_[static_cast<std::size_t>(model_.input)] = true;
  for (const gnrt::OpDesc& op : model_.ops) {
    if (op.type == gnrt::OpType::kSoftmax) continue;
    for (int t : op.inputs) needs_quant_[static_cast<std::size_t>(t)] = true;
  }
}

void GraphWriter::add_io() {
  const gnrt::TensorDesc& in = model_.tensors[static_cast<std::size_t>(model_.input)];
  onnx::ValueInfoProto* input = graph_->add_input();
  input->set_name("input");
  auto* type = input->mutable_type()->mutable_tensor_type();
  type->set_elem_type(onnx::TensorProto::FLOAT);
  auto* shape = type->mutable_shape();
  shape->add_dim()->set_dim_value(1);
  shape->add_dim()->set_dim_value(in.channels);
  shape->add_dim()->set_dim_param("height");
  shape->add_dim()->set_dim_param("width");

  const gnrt::TensorDesc& out = model_.tensors[static_cast<std::size_t>(model_.outputs[0])];
  onnx::ValueInfoProto* output = graph_->add_output();
  output->set_name("output");
  auto* out_type = output->mutable_type()->mutable_tensor_type();
  out_type->set_elem_type(onnx::TensorProto::FLOAT);
  out_type->mutable_shape()->add_dim()->set_dim_value(1);
  out_type->mutable_shape()->add_dim()->set_dim_value(out.channels);
}

std::string GraphWriter::input_name(int tensor) const {
  const std::string& name = names_[static_cast<std::size_t>(tensor)];
  return quantized(tensor) ? name + "_dq" : name;
}

std::string GraphWriter::add_qdq(const std::string& name, int tensor) {
  const ActivationQuant& q = quant_[static_cast<std::size_t>(tensor)];
  const std::string scale = name + "_scale", zero = name + "_zero_point";
  add_float_tensor(scale, {}, {q.scale});
  add_raw_tensor(zero, onnx::TensorProto::UINT8, {}, std::vector<std::uint8_t>{q.zero_point});
  add_node("QuantizeLinear", name + "_quantize", {name, scale, zero}, {name + "_q"});
  add_node("DequantizeLinear", name + "_dequantize", {name + "_q", scale, zero}, {name + "_dq"});
  return name + "_dq";
}

void GraphWriter::add_conv(int index, const std::string& input) {
  const gnrt::OpDesc& op = model_.ops[static_cast<std::size_t>(index)];
  const std::string out = names_[static_cast<std::size_t>(op.output)];
  const int in_channels = model_.tensors[static_cast<std::size_t>(op.inputs[0])].channels;
  const std::vector<std::int64_t> dims = {op.out_channels, in_channels / op.groups, op.kernel_h,
                                          op.kernel_w};
  const WeightNames w =
      add_weights(op.name, dims, gnrt::dense_weights(op.weights).values, op.bias, op.inputs[0]);
  const std::string conv_out = op.relu ? out + "_conv" : out;
  onnx::NodeProto* conv = add_node("Conv", op.name, {input, w.weights, w.bias}, {conv_out});
  set_ints(conv, "kernel_shape", {op.kernel_h, op.kernel_w});
  set_ints(conv, "strides", {op.stride_h, op.stride_w});
  set_ints(conv, "pads", {op.pad_top, op.pad_left, op.pad_bottom, op.pad_right});
  set_ints(conv, "dilations", {op.dilation_h, op.dilation_w});
  set_int(conv, "group", op.groups);
  if (op.relu) add_node("Relu", op.name + "_relu", {conv_out}, {out});
}

void GraphWriter::add_fully_connected(int index, const std::string& input) {
  const gnrt::OpDesc& op = model_.ops[static_cast<std::size_t>(index)];
  const std::string out = names_[static_cast<std::size_t>(op.output)];
  // gnrt flattens (c, y, x) the way ONNX Flatten(axis=1) does.
  const std::string flat = names_[static_cast<std::size_t>(op.inputs[0])] + "_flat";
  onnx::NodeProto* flatten = add_node("Flatten", op.name + "_flatten", {input}, {flat});
  set_int(flatten, "axis", 1);
  // The int8 graph quantizes the flattened tensor again with the same parameters, so that the
  // Gemm reads a DequantizeLinear directly (ORT's QGemm pattern) and Flatten runs on uint8.
  const std::string gemm_in = settings_.int8 ? add_qdq(flat, op.inputs[0]) : flat;
  const std::vector<std::int64_t> dims = {op.out_channels, op.weights.row_length};
  const WeightNames w =
      add_weights(op.name, dims, gnrt::dense_weights(op.weights).values, op.bias, op.inputs[0]);
  const std::string gemm_out = op.relu ? out + "_gemm" : out;
  onnx::NodeProto* gemm = add_node("Gemm", op.name, {gemm_in, w.weights, w.bias}, {gemm_out});
  set_int(gemm, "transB", 1);
  if (op.relu) add_node("Relu", op.name + "_relu", {gemm_out}, {out});
}

void GraphWriter::add_pool(const gnrt::OpDesc& op, const std::string& input,
                           const std::string& output) {
  if (op.type == gnrt::OpType::kGlobalAvgPool) {
    add_node("GlobalAveragePool", op.name, {input}, {output});
    return;
  }
  const bool max = op.type == gnrt::OpType::kMaxPool;
  // gnrt pools like PyTorch: max pools never take the padding, average pools count it per
  // count_include_pad; ONNX MaxPool/AveragePool mean the same with explicit pads. Ceil mode
  // (torchvision layout) is ceil_mode=1: gnrt's rule (the last window starts inside the input or
  // its leading padding) is also ONNX Runtime's (converter_onnx_export_test).
  onnx::NodeProto* pool = add_node(max ? "MaxPool" : "AveragePool", op.name, {input}, {output});
  set_ints(pool, "kernel_shape", {op.kernel_h, op.kernel_w});
  set_ints(pool, "strides", {op.stride_h, op.stride_w});
  set_ints(pool, "pads", {op.pad_top, op.pad_left, op.pad_bottom, op.pad_right});
  set_int(pool, "ceil_mode", op.ceil_mode ? 1 : 0);
  if (!max) set_int(pool, "count_include_pad", op.count_include_pad ? 1 : 0);
}

void GraphWriter::add_softmax(const gnrt::OpDesc& op, const std::string& input,
                              const std::string& output) {
  std::string logits = input;
  if (op.beta != 1.0f) {
    // Softmax has no temperature in ONNX: scale the logits first.
    const std::string beta = op.name + "_beta";
    add_float_tensor(beta, {}, {op.beta});
    logits = op.name + "_scaled";
    add_node("Mul", op.name + "_mul", {input, beta}, {logits});
  }
  set_int(add_node("Softmax", op.name, {logits}, {output}), "axis", 1);
}

void GraphWriter::add_operator(int index) {
  const gnrt::OpDesc& op = model_.ops[static_cast<std::size_t>(index)];
  const std::string out = names_[static_cast<std::size_t>(op.output)];
  if (op.inputs.empty()) throw std::runtime_error("operator " + op.name + " has no input");
  const std::string in = input_name(op.inputs[0]);
  // Convolutions and fully connected layers add their own Relu; any other operator with a fused
  // ReLU writes a temporary that a Relu turns into the tensor.
  const bool trailing_relu =
      op.relu && op.type != gnrt::OpType::kConv2D && op.type != gnrt::OpType::kFullyConnected;
  const std::string result = trailing_relu ? out + "_before_relu" : out;
  switch (op.type) {
    case gnrt::OpType::kConv2D:
      add_conv(index, in);
      break;
    case gnrt::OpType::kFullyConnected:
      add_fully_connected(index, in);
      break;
    case gnrt::OpType::kMaxPool:
    case gnrt::OpType::kAvgPool:
    case gnrt::OpType::kGlobalAvgPool:
      add_pool(op, in, result);
      break;
    case gnrt::OpType::kConcat: {
      std::vector<std::string> inputs;
      for (int t : op.inputs) inputs.push_back(input_name(t));
      set_int(add_node("Concat", op.name, inputs, {result}), "axis", 1);
      break;
    }
    case gnrt::OpType::kSoftmax:
      add_softmax(op, in, result);
      break;
  }
  if (trailing_relu) add_node("Relu", op.name + "_relu", {result}, {out});
  if (quantized(op.output)) add_qdq(out, op.output);
}

void GraphWriter::write() {
  name_tensors();
  if (settings_.int8) quant_ = activation_quantization(model_, settings_.ranges);
  add_io();
  if (settings_.int8) add_qdq("input", model_.input);
  for (int i = 0; i < static_cast<int>(model_.ops.size()); ++i) add_operator(i);
}

// Weights and bias of a Conv or Gemm: float32 initializers, or int8 weights per output channel
// (symmetric, [-127, 127], as ORT's own quantizer does so that the u8s8 products cannot saturate)
// and an int32 bias at scale in_scale * w_scale, each behind a DequantizeLinear along axis 0
// (output channels: Conv OIHW, Gemm [out, in] with transB=1).
GraphWriter::WeightNames GraphWriter::add_weights(const std::string& name,
                                                  const std::vector<std::int64_t>& dims,
                                                  const std::vector<float>& weights,
                                                  const float* bias_or_null, int input) {
  const std::size_t rows = static_cast<std::size_t>(dims[0]);
  const std::vector<std::int64_t> bias_dims = {dims[0]};
  std::vector<float> bias(rows, 0.0f);
  if (bias_or_null) bias.assign(bias_or_null, bias_or_null + rows);
  if (!settings_.int8) {
    add_float_tensor(name + ".weight", dims, weights);
    add_float_tensor(name + ".bias", bias_dims, bias);
    return {name + ".weight", name + ".bias"};
  }
  const float input_scale = quant_[static_cast<std::size_t>(input)].scale;
  const std::size_t row_length = weights.size() / rows;
  std::vector<float> w_scale(rows), b_scale(rows);
  std::vector<std::int8_t> w_q(weights.size()), w_zero(rows, 0);
  std::vector<std::int32_t> b_q(rows), b_zero(rows, 0);
  for (std::size_t r = 0; r < rows; ++r) {
    float largest = 0.0f;
    for (std::size_t k = 0; k < row_length; ++k)
      largest = std::max(largest, std::fabs(weights[r * row_length + k]));
    // An all-zero (fully pruned) row quantizes to zeros at any scale.
    w_scale[r] = largest > 0.0f ? largest / 127.0f : 1.0f;
    for (std::size_t k = 0; k < row_length; ++k) {
      const float q = std::nearbyint(weights[r * row_length + k] / w_scale[r]);
      w_q[r * row_length + k] = static_cast<std::int8_t>(std::clamp(q, -127.0f, 127.0f));
    }
    b_scale[r] = input_scale * w_scale[r];
    const double q = std::nearbyint(static_cast<double>(bias[r]) / b_scale[r]);
    b_q[r] = static_cast<std::int32_t>(std::clamp(q, -2147483647.0, 2147483647.0));
  }
  const std::string wq = name + ".weight_quantized", bq = name + ".bias_quantized";
  add_raw_tensor(wq, onnx::TensorProto::INT8, dims, w_q);
  add_float_tensor(wq + "_scale", bias_dims, w_scale);
  add_raw_tensor(wq + "_zero_point", onnx::TensorProto::INT8, bias_dims, w_zero);
  add_raw_tensor(bq, onnx::TensorProto::INT32, bias_dims, b_q);
  add_float_tensor(bq + "_scale", bias_dims, b_scale);
  add_raw_tensor(bq + "_zero_point", onnx::TensorProto::INT32, bias_dims, b_zero);
  set_int(add_node("DequantizeLinear", name + ".weight_dequantize",
                   {wq, wq + "_scale", wq + "_zero_point"}, {name + ".weight"}),
          "axis", 0);
  set_int(add_node("DequantizeLinear", name + ".bias_dequantize",
                   {bq, bq + "_scale", bq + "_zero_point"}, {name + ".bias"}),
          "axis", 0);
  return {name + ".weight", name + ".bias"};
}

void add_metadata(onnx::ModelProto* proto, const std::string& key, const std::string& value) {
  onnx::StringStringEntryProto* entry = proto->add_metadata_props();
  entry->set_key(key);
  entry->set_value(value);
}

int find_root(std::vector<int>& parent, int t) {
  while (parent[static_cast<std::size_t>(t)] != t) {
    parent[static_cast<std::size_t>(t)] =
        parent[static_cast<std::size_t>(parent[static_cast<std::size_t>(t)])];
    t = parent[static_cast<std::size_t>(t)];
  }
  return t;
}

}  // namespace

std::vector<ActivationQuant> activation_quantization(const gnrt::Model& model,
                                                     const std::vector<TensorRange>& ranges,
                                                     bool all_pools) {
  const int count = static_cast<int>(model.tensors.size());
  if (static_cast<int>(ranges.size()) != count)
    throw std::runtime_error("calibration has " + std::to_string(ranges.size()) +
                             " tensor ranges, the model " + std::to_string(count) + " tensors");
  std::vector<int> parent(static_cast<std::size_t>(count));
  for (int t = 0; t < count; ++t) parent[static_cast<std::size_t>(t)] = t;
  auto unite = [&parent](int a, int b) {
    parent[static_cast<std::size_t>(find_root(parent, a))] = find_root(parent, b);
  };
  for (const gnrt::OpDesc& op : model.ops) {
    if (op.type == gnrt::OpType::kConcat) {
      for (int t : op.inputs) unite(t, op.output);
    } else if ((op.type == gnrt::OpType::kMaxPool ||
                (all_pools && (op.type == gnrt::OpType::kAvgPool ||
                               op.type == gnrt::OpType::kGlobalAvgPool))) &&
               !op.inputs.empty()) {
      unite(op.inputs[0], op.output);
    }
  }
  // Each group's range: the union of its members' ranges, widened to include 0.
  std::vector<TensorRange> group(static_cast<std::size_t>(count));
  for (int t = 0; t < count; ++t) {
    const TensorRange& r = ranges[static_cast<std::size_t>(t)];
    if (!r.seen) continue;
    TensorRange& g = group[static_cast<std::size_t>(find_root(parent, t))];
    g.min = std::min({g.min, r.min, 0.0f});
    g.max = std::max({g.max, r.max, 0.0f});
    g.seen = true;
  }
  std::vector<ActivationQuant> out(static_cast<std::size_t>(count));
  for (int t = 0; t < count; ++t) {
    const TensorRange& g = group[static_cast<std::size_t>(find_root(parent, t))];
    if (!g.seen) continue;  // the writer asks only for tensors it quantizes (checked there)
    ActivationQuant& q = out[static_cast<std::size_t>(t)];
    const float span = g.max - g.min;
    q.scale = span > 0.0f ? span / 255.0f : 1.0f;
    q.zero_point =
        static_cast<std::uint8_t>(std::clamp(std::nearbyint(-g.min / q.scale), 0.0f, 255.0f));
  }
  for (const gnrt::OpDesc& op : model.ops) {
    for (int t : op.inputs) {
      if (op.type != gnrt::OpType::kSoftmax &&
          !group[static_cast<std::size_t>(find_root(parent, t))].seen)
        throw std::runtime_error("calibration recorded no range for tensor " +
                                 model.tensors[static_cast<std::size_t>(t)].name);
    }
  }
  return out;
}

std::string export_onnx(const gnrt::Model& model, const OnnxExportSettings& settings) {
  if (model.input < 0 || model.outputs.empty())
    throw std::runtime_error("the model has no input or no output");
  onnx::ModelProto proto;
  proto.set_ir_version(kIrVersion);
  onnx::OperatorSetIdProto* opset = proto.add_opset_import();
  opset->set_domain("");
  opset->set_version(kOpset);
  proto.set_producer_name("gn-convert");
  proto.set_producer_version("0.1.0");
  proto.set_doc_string(model.name + " exported from " + settings.source_name +
                       (settings.int8 ? " (static QDQ int8)" : " (float32)"));
  onnx::GraphProto* graph = proto.mutable_graph();
  graph->set_name(model.name.empty() ? "gnrt" : model.name);
  GraphWriter(model, settings, graph).write();

  add_metadata(&proto, "gnrt.mean", join_floats(model.mean));
  add_metadata(&proto, "gnrt.std", join_floats(model.std_dev));
  add_metadata(&proto, "gnrt.input_channels", std::to_string(model.input_channels));
  add_metadata(&proto, "gnrt.default_height", std::to_string(model.default_height));
  add_metadata(&proto, "gnrt.default_width", std::to_string(model.default_width));
  std::string labels;
  for (std::size_t i = 0; i < model.labels.size(); ++i)
    labels += (i ? "," : "") + std::string(model.labels[i]);
  add_metadata(&proto, "gnrt.labels", labels);
  add_metadata(&proto, "gnrt.source", settings.source_name);
  add_metadata(&proto, "gnrt.precision", settings.int8 ? "int8-qdq" : "fp32");
  if (settings.int8) add_metadata(&proto, "gnrt.calibration", settings.calibration);

  std::string bytes;
  if (!proto.SerializeToString(&bytes))
    throw std::runtime_error("cannot serialize the ONNX model (larger than 2 GiB?)");
  return bytes;
}

}  // namespace gnconvert
