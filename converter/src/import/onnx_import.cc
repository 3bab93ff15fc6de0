#include "import/onnx_import.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <map>
#include <stdexcept>

#include "gnrt/model_builder.h"
#include "import/onnx_graph.h"

namespace gnconvert {
namespace {

using onnx_graph::Attributes;
using onnx_graph::Constant;

constexpr int kDefaultSize = 224;
constexpr int kMaxSide = 16384;

// What an ONNX value name stands for: a gnrt tensor (NCHW), the same tensor seen flattened to
// [1, C*H*W] (gnrt's fully connected layers flatten their input), or a constant.
struct Value {
  enum class Kind { kTensor, kFlat, kConstant };
  Kind kind = Kind::kTensor;
  gnrt::TensorId id = -1;
  const Constant* constant = nullptr;
};

std::vector<float> split_floats(const std::string& text, const std::string& key) {
  std::vector<float> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    const std::string item = text.substr(start, end - start);
    try {
      std::size_t used = 0;
      out.push_back(std::stof(item, &used));
      if (item.find_first_not_of(" \t", used) != std::string::npos) throw std::invalid_argument("");
    } catch (const std::exception&) {
      throw std::runtime_error("metadata " + key + ": '" + item + "' is not a number");
    }
    start = end + 1;
  }
  return out;
}

std::vector<std::string> split_labels(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

int metadata_side(const std::string& text, const std::string& key) {
  try {
    std::size_t used = 0;
    const int v = std::stoi(text, &used);
    if (used == text.size() && v >= 1 && v <= kMaxSide) return v;
  } catch (const std::exception&) {
  }
  throw std::runtime_error("metadata " + key + ": '" + text + "' is not a size in 1.." +
                           std::to_string(kMaxSide));
}

// Explicit pads (top, left, bottom, right) of a Conv or pooling node from auto_pad / pads.
std::vector<int> window_pads(const Attributes& at, int kernel_h, int kernel_w, int stride_h,
                             int stride_w) {
  const std::string mode = at.text("auto_pad", "NOTSET");
  if (mode == "NOTSET") {
    const auto pads = at.integers("pads", {0, 0, 0, 0});
    if (pads.size() != 4) at.fail("pads must have 4 values (2-D)");
    std::vector<int> out;
    for (auto p : pads) {
      if (p < 0 || p > 1024) at.fail("pad " + std::to_string(p) + " is out of range");
      out.push_back(static_cast<int>(p));
    }
    return out;
  }
  if (at.has("pads")) at.fail("pads and auto_pad " + mode + " are both set");
  if (mode == "VALID") return {0, 0, 0, 0};
  if (mode != "SAME_UPPER" && mode != "SAME_LOWER") at.fail("auto_pad '" + mode + "' is unknown");
  if (stride_h != 1 || stride_w != 1) {
    at.fail("auto_pad " + mode +
            " with stride > 1 depends on the input size; gnrt needs explicit pads");
  }
  const int th = kernel_h - 1, tw = kernel_w - 1;
  const bool upper = mode == "SAME_UPPER";
  const int top = upper ? th / 2 : th - th / 2, left = upper ? tw / 2 : tw - tw / 2;
  return {top, left, th - top, tw - left};
}

std::vector<int> pair_attribute(const Attributes& at, const std::string& name, int fallback) {
  const auto v = at.integers(name, {fallback, fallback});
  if (v.size() != 2) at.fail(name + " must have 2 values (2-D)");
  for (auto x : v) {
    if (x < 1 || x > 1024) at.fail(name + " value " + std::to_string(x) + " is out of range");
  }
  return {static_cast<int>(v[0]), static_cast<int>(v[1])};
}

class Importer {
 public:
  Importer(const onnx::ModelProto& model, std::string file, const OnnxImportSettings& settings)
      : model_(model), g_(model.graph()), file_(std::move(file)), settings_(settings) {}

  OnnxImportResult run();

 private:
  void check_model();
  void read_constants();
  void read_metadata();
  void add_input();
  void translate(int i);
  void conv(int i);
  void fold_batchnorm(int i, std::vector<float>* w, std::vector<float>* b, int out_channels);
  void pool(int i, bool max);
  void global_pool(int i);
  void concat(int i);
  void flatten(int i);
  void reshape(int i);
  void gemm(int i);
  void matmul(int i);
  void fully_connected(int i, gnrt::TensorId x, std::vector<float> w, std::vector<float> bias,
                       int out, int in, std::string output);
  void softmax(int i);
  void pass_through(int i);
  void constant(int i);
  void finish_output();

  std::string where(int i) const { return onnx_graph::describe(g_.node(i), i); }
  [[noreturn]] void fail(int i, const std::string& message) const {
    throw std::runtime_error(where(i) + ": " + message);
  }
  const Value& input_value(int i, int k);
  gnrt::TensorId tensor_input(int i, int k);
  const Constant& constant_input(int i, int k);
  void define(int i, const std::string& name, Value v);
  void check_outputs(int i, int used);
  int sole_consumer(const std::string& name) const;
  std::string fuse_relu(std::string output, bool* relu);

  const onnx::ModelProto& model_;
  const onnx::GraphProto& g_;
  std::string file_;
  OnnxImportSettings settings_;
  gnrt::ModelBuilder builder_;
  std::map<std::string, Constant> constants_;
  std::map<std::string, Value> values_;
  std::map<std::string, std::vector<int>> consumers_;
  std::vector<bool> done_;
  std::vector<gnrt::TensorId> softmax_ids_;
  OnnxImportResult r_;
};

void Importer::check_model() {
  if (!model_.has_graph() || g_.node_size() == 0) {
    throw std::runtime_error("not an ONNX model (no graph)");
  }
  for (const auto& op : model_.opset_import()) {
    if (op.domain().empty() || op.domain() == "ai.onnx") r_.opset = static_cast<int>(op.version());
  }
  if (r_.opset < 7) {
    throw std::runtime_error("opset " + std::to_string(r_.opset) +
                             " of the default domain is not supported (7 or later)");
  }
  if (g_.output_size() != 1) {
    throw std::runtime_error("the graph has " + std::to_string(g_.output_size()) +
                             " outputs; gnrt models have one");
  }
  for (int i = 0; i < g_.node_size(); ++i) {
    const auto& n = g_.node(i);
    if (!n.domain().empty() && n.domain() != "ai.onnx") {
      fail(i, "domain '" + n.domain() + "' is not supported (default ONNX domain only)");
    }
    if (n.output_size() < 1 || n.output(0).empty()) fail(i, "has no output");
    for (const auto& in : n.input()) {
      if (!in.empty()) consumers_[in].push_back(i);
    }
  }
  done_.assign(static_cast<std::size_t>(g_.node_size()), false);
  r_.nodes = g_.node_size();
}

void Importer::read_constants() {
  for (const auto& t : g_.initializer()) {
    if (t.name().empty()) throw std::runtime_error("an initializer has no name");
    constants_[t.name()] = onnx_graph::read_tensor(t, "initializer '" + t.name() + "'");
  }
  for (const auto& [name, c] : constants_) {
    Value v;
    v.kind = Value::Kind::kConstant;
    v.constant = &c;
    values_[name] = v;
  }
}

void Importer::read_metadata() {
  std::map<std::string, std::string> meta;
  for (const auto& p : model_.metadata_props()) meta[p.key()] = p.value();
  auto get = [&](const char* key) {
    auto it = meta.find(key);
    return it == meta.end() ? std::string() : it->second;
  };
  r_.norm_source = "none";
  if (!get("gnrt.mean").empty() || !get("gnrt.std").empty()) {
    r_.mean = split_floats(get("gnrt.mean"), "gnrt.mean");
    r_.std = split_floats(get("gnrt.std"), "gnrt.std");
    r_.norm_source = "metadata";
  }
  if (!settings_.mean.empty() || !settings_.std.empty()) {
    if (!settings_.mean.empty()) r_.mean = settings_.mean;
    if (!settings_.std.empty()) r_.std = settings_.std;
    r_.norm_source = "options";
  }
  for (float s : r_.std) {
    if (!(s > 0)) throw std::runtime_error("normalization std must be positive");
  }
  if (!get("gnrt.labels").empty()) r_.labels = split_labels(get("gnrt.labels"));
  if (!settings_.labels.empty()) r_.labels = settings_.labels;
  if (!get("gnrt.input_channels").empty()) {
    r_.channels = metadata_side(get("gnrt.input_channels"), "gnrt.input_channels");
  }
  r_.height = r_.width = kDefaultSize;
  r_.size_source = "default";
  if (settings_.size > 0) {
    r_.height = r_.width = settings_.size;
    r_.size_source = "--size";
  } else if (!get("gnrt.default_height").empty() || !get("gnrt.default_width").empty()) {
    r_.height = metadata_side(get("gnrt.default_height"), "gnrt.default_height");
    r_.width = metadata_side(get("gnrt.default_width"), "gnrt.default_width");
    r_.size_source = "metadata";
  }
}

void Importer::add_input() {
  const onnx::ValueInfoProto* input = nullptr;
  for (const auto& in : g_.input()) {
    if (constants_.count(in.name())) continue;  // IR < 4 lists initializers as inputs
    if (input) {
      throw std::runtime_error("the graph has more than one input ('" + input->name() + "', '" +
                               in.name() + "'); gnrt models have one");
    }
    input = &in;
  }
  if (!input) throw std::runtime_error("the graph has no input");
  const std::string what = "graph input '" + input->name() + "'";
  if (!input->type().has_tensor_type() ||
      input->type().tensor_type().elem_type() != onnx::TensorProto::FLOAT) {
    throw std::runtime_error(what + " is not a float32 tensor");
  }
  const auto& shape = input->type().tensor_type().shape();
  if (shape.dim_size() != 4) throw std::runtime_error(what + " is not 4-D (N, C, H, W)");
  auto fixed = [&](int k) { return shape.dim(k).has_dim_value() ? shape.dim(k).dim_value() : -1; };
  if (fixed(0) > 1)
    throw std::runtime_error(what + ": batch " + std::to_string(fixed(0)) + " (gnrt runs batch 1)");
  if (fixed(1) < 1 || fixed(1) > 4096) {
    throw std::runtime_error(what + ": the channel count must be a fixed dimension");
  }
  const int channels = static_cast<int>(fixed(1));
  if (r_.channels != 0 && r_.channels != channels) {
    throw std::runtime_error("metadata gnrt.input_channels is " + std::to_string(r_.channels) +
                             ", " + what + " has " + std::to_string(channels));
  }
  r_.channels = channels;
  if (fixed(2) > 0 || fixed(3) > 0) {
    if (fixed(2) < 1 || fixed(3) < 1 || fixed(2) > kMaxSide || fixed(3) > kMaxSide) {
      throw std::runtime_error(what + ": height and width must both be fixed or both symbolic");
    }
    if (settings_.size > 0 && (settings_.size != fixed(2) || settings_.size != fixed(3))) {
      throw std::runtime_error("--size " + std::to_string(settings_.size) + " conflicts with " +
                               what + ", fixed at " + std::to_string(fixed(2)) + "x" +
                               std::to_string(fixed(3)));
    }
    r_.height = static_cast<int>(fixed(2));
    r_.width = static_cast<int>(fixed(3));
    r_.size_source = "graph";
  }
  auto check_norm = [&](const std::vector<float>& v, const char* name) {
    if (!v.empty() && static_cast<int>(v.size()) != channels) {
      throw std::runtime_error(std::string("normalization ") + name + " has " +
                               std::to_string(v.size()) + " values, the input has " +
                               std::to_string(channels) + " channels");
    }
  };
  check_norm(r_.mean, "mean");
  check_norm(r_.std, "std");
  Value v;
  v.id = builder_.input("input", channels, r_.height, r_.width);
  values_[input->name()] = v;
}

const Value& Importer::input_value(int i, int k) {
  const auto& n = g_.node(i);
  if (k >= n.input_size() || n.input(k).empty())
    fail(i, "input " + std::to_string(k) + " is missing");
  auto it = values_.find(n.input(k));
  if (it == values_.end()) {
    fail(i, "input '" + n.input(k) +
                "' is not an initializer, a graph input or the output of an earlier node");
  }
  return it->second;
}

gnrt::TensorId Importer::tensor_input(int i, int k) {
  const Value& v = input_value(i, k);
  if (v.kind != Value::Kind::kTensor) {
    fail(i, "input '" + g_.node(i).input(k) + "' must be an activation of shape N,C,H,W" +
                (v.kind == Value::Kind::kFlat ? " (it was flattened)" : " (it is a constant)"));
  }
  return v.id;
}

const Constant& Importer::constant_input(int i, int k) {
  const Value& v = input_value(i, k);
  if (v.kind != Value::Kind::kConstant) {
    fail(i, "input '" + g_.node(i).input(k) + "' must be an initializer or a Constant");
  }
  if (v.constant->is_int && k > 0 && g_.node(i).op_type() != "Reshape") {
    fail(i, "input '" + g_.node(i).input(k) + "' must be float32");
  }
  return *v.constant;
}

void Importer::define(int i, const std::string& name, Value v) {
  if (name.empty()) fail(i, "output has no name");
  if (values_.count(name)) fail(i, "output '" + name + "' is defined twice");
  values_[name] = v;
}

// Outputs past the first `used` must be absent or unused.
void Importer::check_outputs(int i, int used) {
  const auto& n = g_.node(i);
  for (int k = used; k < n.output_size(); ++k) {
    const std::string& name = n.output(k);
    if (!name.empty() && (consumers_.count(name) || g_.output(0).name() == name)) {
      fail(i, "output " + std::to_string(k) + " ('" + name + "') is used; gnrt has no equivalent");
    }
  }
}

int Importer::sole_consumer(const std::string& name) const {
  auto it = consumers_.find(name);
  if (it == consumers_.end() || it->second.size() != 1 || g_.output(0).name() == name) return -1;
  return done_[static_cast<std::size_t>(it->second[0])] ? -1 : it->second[0];
}

// When the only consumer of `output` is a Relu, marks it done and returns its output.
std::string Importer::fuse_relu(std::string output, bool* relu) {
  const int c = sole_consumer(output);
  if (c < 0 || g_.node(c).op_type() != "Relu") return output;
  Attributes(g_.node(c), where(c)).allow_only({});
  check_outputs(c, 1);
  done_[static_cast<std::size_t>(c)] = true;
  *relu = true;
  ++r_.fused_relus;
  return g_.node(c).output(0);
}

void Importer::translate(int i) {
  const std::string& op = g_.node(i).op_type();
  if (op == "Conv") return conv(i);
  if (op == "MaxPool") return pool(i, true);
  if (op == "AveragePool") return pool(i, false);
  if (op == "GlobalAveragePool") return global_pool(i);
  if (op == "Concat") return concat(i);
  if (op == "Flatten") return flatten(i);
  if (op == "Reshape") return reshape(i);
  if (op == "Gemm") return gemm(i);
  if (op == "MatMul") return matmul(i);
  if (op == "Softmax") return softmax(i);
  if (op == "Identity" || op == "Dropout") return pass_through(i);
  if (op == "Constant") return constant(i);
  if (op == "Relu") {
    fail(i,
         "Relu is supported only right after a Conv, Gemm, MatMul(+Add) or pooling whose "
         "output has no other consumer (gnrt fuses it)");
  }
  if (op == "BatchNormalization") {
    fail(i,
         "BatchNormalization is supported only right after a Conv whose output has no other "
         "consumer (folded into it)");
  }
  if (op == "Add") fail(i, "Add is supported only as the bias of a MatMul (MatMul + Add)");
  fail(i, "operator " + op + " is not supported");
}

OnnxImportResult Importer::run() {
  check_model();
  read_constants();
  read_metadata();
  add_input();
  for (int i = 0; i < g_.node_size(); ++i) {
    if (done_[static_cast<std::size_t>(i)]) continue;
    try {
      translate(i);
    } catch (const std::invalid_argument& e) {  // ModelBuilder: shapes that do not fit
      fail(i, e.what());
    }
    done_[static_cast<std::size_t>(i)] = true;
  }
  finish_output();
  return std::move(r_);
}

gnrt::WeightOptions weight_options(const OnnxImportSettings& s) {
  gnrt::WeightOptions o;
  o.encoding = s.encoding == "sparse"  ? gnrt::WeightEncoding::kSparse
               : s.encoding == "dense" ? gnrt::WeightEncoding::kDense
                                       : gnrt::WeightEncoding::kAuto;
  o.storage = s.float16 ? gnrt::ValueStorage::kFloat16 : gnrt::ValueStorage::kFloat32;
  return o;
}

std::string layer_name(const onnx::NodeProto& n, int i) {
  return n.name().empty() ? n.op_type() + "_" + std::to_string(i) : n.name();
}

void Importer::conv(int i) {
  const auto& n = g_.node(i);
  Attributes at(n, where(i));
  at.allow_only({"auto_pad", "dilations", "group", "kernel_shape", "pads", "strides"});
  if (at.integer("group", 1) != 1) {
    at.fail("group " + std::to_string(at.integer("group", 1)) +
            " is not supported (grouped and depthwise convolutions are not imported)");
  }
  for (auto d : at.integers("dilations", {1, 1})) {
    if (d != 1) at.fail("dilation " + std::to_string(d) + " is not supported (1 only)");
  }
  const gnrt::TensorId x = tensor_input(i, 0);
  const Constant& wc = constant_input(i, 1);
  if (wc.dims.size() != 4) at.fail("the weight is not 4-D (O, I, kH, kW)");
  const std::vector<int> in_shape = builder_.shape(x);
  const int out_c = static_cast<int>(wc.dims[0]), in_c = static_cast<int>(wc.dims[1]);
  const int kh = static_cast<int>(wc.dims[2]), kw = static_cast<int>(wc.dims[3]);
  if (out_c < 1 || kh < 1 || kw < 1) at.fail("the weight has an empty dimension");
  if (in_c != in_shape[1]) {
    at.fail("the weight has " + std::to_string(in_c) + " input channels, the input has " +
            std::to_string(in_shape[1]));
  }
  if (at.has("kernel_shape") &&
      at.integers("kernel_shape", {}) != std::vector<std::int64_t>{kh, kw}) {
    at.fail("kernel_shape does not match the weight's " + std::to_string(kh) + "x" +
            std::to_string(kw));
  }
  std::vector<float> bias(static_cast<std::size_t>(out_c), 0.0f);
  if (n.input_size() > 2 && !n.input(2).empty()) {
    const Constant& bc = constant_input(i, 2);
    if (bc.count() != static_cast<std::size_t>(out_c)) {
      at.fail("the bias has " + std::to_string(bc.count()) + " values, expected " +
              std::to_string(out_c));
    }
    bias = bc.floats;
  }
  gnrt::ConvParams p;
  p.out_channels = out_c;
  p.kernel_h = kh;
  p.kernel_w = kw;
  const auto strides = pair_attribute(at, "strides", 1);
  p.stride_h = strides[0];
  p.stride_w = strides[1];
  const auto pads = window_pads(at, kh, kw, p.stride_h, p.stride_w);
  p.pad_top = pads[0], p.pad_left = pads[1], p.pad_bottom = pads[2], p.pad_right = pads[3];
  check_outputs(i, 1);
  std::vector<float> w = wc.floats;
  std::string out = n.output(0);
  const int c = sole_consumer(out);
  if (c >= 0 && g_.node(c).op_type() == "BatchNormalization" && g_.node(c).input(0) == out) {
    fold_batchnorm(c, &w, &bias, out_c);
    out = g_.node(c).output(0);
  }
  out = fuse_relu(out, &p.relu);
  Value v;
  v.id = builder_.conv2d(layer_name(n, i), x, p, w, bias, weight_options(settings_));
  define(i, out, v);
  OnnxLayer layer;
  layer.name = layer_name(n, i);
  layer.shape = {out_c, in_c, kh, kw};
  layer.weights = std::move(w);
  layer.bias = std::move(bias);
  const bool square =
      p.stride_h == p.stride_w && pads[0] == pads[1] && pads[1] == pads[2] && pads[2] == pads[3];
  layer.stride = square ? p.stride_h : -1;
  layer.pad = square ? pads[0] : -1;
  r_.layers.push_back(std::move(layer));
}

void Importer::fold_batchnorm(int i, std::vector<float>* w, std::vector<float>* b,
                              int out_channels) {
  const auto& n = g_.node(i);
  Attributes at(n, where(i));
  at.allow_only({"epsilon", "momentum", "spatial", "training_mode", "is_test", "consumed_inputs"});
  if (at.integer("training_mode", 0) != 0) at.fail("training_mode is set (export in eval mode)");
  if (at.integer("spatial", 1) != 1) at.fail("spatial = 0 is not supported");
  if (n.input_size() != 5) at.fail("needs 5 inputs (X, scale, B, mean, var)");
  check_outputs(i, 1);
  const double eps = at.real("epsilon", 1e-5f);
  std::vector<const Constant*> p;
  for (int k = 1; k < 5; ++k) {
    p.push_back(&constant_input(i, k));
    if (p.back()->count() != static_cast<std::size_t>(out_channels)) {
      at.fail("input " + std::to_string(k) + " has " + std::to_string(p.back()->count()) +
              " values, the Conv has " + std::to_string(out_channels) + " output channels");
    }
  }
  const std::size_t per_channel = w->size() / static_cast<std::size_t>(out_channels);
  for (std::size_t o = 0; o < static_cast<std::size_t>(out_channels); ++o) {
    const double var = p[3]->floats[o];
    if (!(var + eps > 0)) at.fail("variance + epsilon is not positive");
    const double scale = p[0]->floats[o] / std::sqrt(var + eps);
    for (std::size_t k = 0; k < per_channel; ++k) {
      float& v = (*w)[o * per_channel + k];
      v = static_cast<float>(v * scale);
    }
    (*b)[o] = static_cast<float>(((*b)[o] - p[2]->floats[o]) * scale + p[1]->floats[o]);
  }
  done_[static_cast<std::size_t>(i)] = true;
  ++r_.folded_batchnorms;
}

void Importer::pool(int i, bool max) {
  const auto& n = g_.node(i);
  Attributes at(n, where(i));
  if (max) {
    at.allow_only(
        {"auto_pad", "ceil_mode", "dilations", "kernel_shape", "pads", "storage_order", "strides"});
  } else {
    at.allow_only({"auto_pad", "ceil_mode", "count_include_pad", "dilations", "kernel_shape",
                   "pads", "strides"});
  }
  for (auto d : at.integers("dilations", {1, 1})) {
    if (d != 1) at.fail("dilation " + std::to_string(d) + " is not supported (1 only)");
  }
  if (!at.has("kernel_shape")) at.fail("kernel_shape is missing");
  const gnrt::TensorId x = tensor_input(i, 0);
  check_outputs(i, 1);  // MaxPool's Indices
  gnrt::PoolParams p;
  const auto kernel = pair_attribute(at, "kernel_shape", 1);
  const auto strides = pair_attribute(at, "strides", 1);
  p.kernel_h = kernel[0], p.kernel_w = kernel[1];
  p.stride_h = strides[0], p.stride_w = strides[1];
  const auto pads = window_pads(at, p.kernel_h, p.kernel_w, p.stride_h, p.stride_w);
  p.pad_top = pads[0], p.pad_left = pads[1], p.pad_bottom = pads[2], p.pad_right = pads[3];
  if (std::max(pads[0], pads[2]) >= p.kernel_h || std::max(pads[1], pads[3]) >= p.kernel_w) {
    at.fail("pads must be smaller than the kernel");
  }
  p.ceil_mode = at.integer("ceil_mode", 0) != 0;
  p.count_include_pad = at.integer("count_include_pad", 0) != 0;
  const std::string out = fuse_relu(n.output(0), &p.relu);
  Value v;
  v.id =
      max ? builder_.max_pool(layer_name(n, i), x, p) : builder_.avg_pool(layer_name(n, i), x, p);
  define(i, out, v);
}

void Importer::global_pool(int i) {
  const auto& n = g_.node(i);
  Attributes(n, where(i)).allow_only({});
  const gnrt::TensorId x = tensor_input(i, 0);
  check_outputs(i, 1);
  gnrt::PoolParams p;
  p.global = true;
  const std::string out = fuse_relu(n.output(0), &p.relu);
  Value v;
  v.id = builder_.avg_pool(layer_name(n, i), x, p);
  define(i, out, v);
}

void Importer::concat(int i) {
  const auto& n = g_.node(i);
  Attributes at(n, where(i));
  at.allow_only({"axis"});
  const auto axis = at.integer("axis", 1);
  if (axis != 1 && axis != -3) {
    at.fail("axis " + std::to_string(axis) + " is not supported (channels, axis 1, only)");
  }
  std::vector<gnrt::TensorId> inputs;
  for (int k = 0; k < n.input_size(); ++k) inputs.push_back(tensor_input(i, k));
  check_outputs(i, 1);
  Value v;
  v.id = builder_.concat(layer_name(n, i), inputs);
  define(i, n.output(0), v);
}

void Importer::flatten(int i) {
  const auto& n = g_.node(i);
  Attributes at(n, where(i));
  at.allow_only({"axis"});
  const auto axis = at.integer("axis", 1);
  Value v = input_value(i, 0);
  if (v.kind == Value::Kind::kConstant) fail(i, "flattening a constant is not supported");
  const bool flat = v.kind == Value::Kind::kFlat;
  const bool ok = flat ? (axis == 1 || axis == -1 || axis == 0 || axis == -2)
                       : (axis == 1 || axis == -3 || axis == 0 || axis == -4);
  if (!ok)
    at.fail("axis " + std::to_string(axis) + " is not supported (the result must be [1, C*H*W])");
  check_outputs(i, 1);
  v.kind = Value::Kind::kFlat;
  define(i, n.output(0), v);
}

void Importer::reshape(int i) {
  const auto& n = g_.node(i);
  Attributes at(n, where(i));
  at.allow_only({"allowzero"});
  if (at.integer("allowzero", 0) != 0) at.fail("allowzero = 1 is not supported");
  Value v = input_value(i, 0);
  if (v.kind == Value::Kind::kConstant) fail(i, "reshaping a constant is not supported");
  const Constant& target = constant_input(i, 1);
  if (!target.is_int) fail(i, "the shape input is not int64");
  const std::vector<int> s = builder_.shape(v.id);
  const std::vector<std::int64_t> in =
      v.kind == Value::Kind::kFlat ? std::vector<std::int64_t>{1, std::int64_t{s[1]} * s[2] * s[3]}
                                   : std::vector<std::int64_t>{1, s[1], s[2], s[3]};
  const std::int64_t total = in[1] * (in.size() == 4 ? in[2] * in[3] : 1);
  std::vector<std::int64_t> out = target.ints;
  std::int64_t known = 1;
  int infer = -1;
  for (std::size_t k = 0; k < out.size(); ++k) {
    if (out[k] == 0 && k < in.size()) out[k] = in[k];
    if (out[k] == -1 && infer < 0) {
      infer = static_cast<int>(k);
    } else if (out[k] < 1) {
      fail(i, "shape value " + std::to_string(target.ints[k]) + " is not supported");
    } else {
      known *= out[k];
    }
  }
  if (infer >= 0) out[static_cast<std::size_t>(infer)] = known > 0 ? total / known : 0;
  auto print = [](const std::vector<std::int64_t>& d) {
    std::string t;
    for (auto x : d) t += (t.empty() ? "" : ",") + std::to_string(x);
    return "[" + t + "]";
  };
  if (out == in) {
    ++r_.dropped;
  } else if (out == std::vector<std::int64_t>{1, total}) {
    v.kind = Value::Kind::kFlat;
  } else {
    fail(i, "reshape of " + print(in) + " to " + print(out) +
                " is not supported (only to 2-D [1, C*H*W], as before Gemm)");
  }
  check_outputs(i, 1);
  define(i, n.output(0), v);
}

void Importer::gemm(int i) {
  const auto& n = g_.node(i);
  Attributes at(n, where(i));
  at.allow_only({"alpha", "beta", "transA", "transB", "broadcast"});
  if (at.integer("transA", 0) != 0) at.fail("transA = 1 is not supported");
  const Value& a = input_value(i, 0);
  if (a.kind != Value::Kind::kFlat) fail(i, "input A must be a flattened activation [1, features]");
  const std::vector<int> s = builder_.shape(a.id);
  const int features = s[1] * s[2] * s[3];
  const Constant& bc = constant_input(i, 1);
  if (bc.dims.size() != 2) at.fail("B is not 2-D");
  const bool trans_b = at.integer("transB", 0) != 0;
  const int out = static_cast<int>(trans_b ? bc.dims[0] : bc.dims[1]);
  const int in = static_cast<int>(trans_b ? bc.dims[1] : bc.dims[0]);
  if (in != features) {
    at.fail("B has " + std::to_string(in) + " input features, A has " + std::to_string(features));
  }
  const float alpha = at.real("alpha", 1.0f), beta = at.real("beta", 1.0f);
  std::vector<float> w(static_cast<std::size_t>(out) * in);
  for (int o = 0; o < out; ++o) {
    for (int k = 0; k < in; ++k) {
      const float v = trans_b ? bc.floats[static_cast<std::size_t>(o) * in + k]
                              : bc.floats[static_cast<std::size_t>(k) * out + o];
      w[static_cast<std::size_t>(o) * in + k] = alpha == 1.0f ? v : v * alpha;
    }
  }
  std::vector<float> bias(static_cast<std::size_t>(out), 0.0f);
  if (n.input_size() > 2 && !n.input(2).empty()) {
    const Constant& cc = constant_input(i, 2);
    if (cc.count() != static_cast<std::size_t>(out) && cc.count() != 1) {
      at.fail("C has " + std::to_string(cc.count()) + " values, expected " + std::to_string(out));
    }
    for (int o = 0; o < out; ++o) bias[o] = beta * cc.floats[cc.count() == 1 ? 0 : o];
  }
  check_outputs(i, 1);
  fully_connected(i, a.id, std::move(w), std::move(bias), out, in, n.output(0));
}

void Importer::matmul(int i) {
  const auto& n = g_.node(i);
  Attributes(n, where(i)).allow_only({});
  const Value& a = input_value(i, 0);
  if (a.kind != Value::Kind::kFlat) fail(i, "input A must be a flattened activation [1, features]");
  const std::vector<int> s = builder_.shape(a.id);
  const int features = s[1] * s[2] * s[3];
  const Constant& bc = constant_input(i, 1);
  if (bc.dims.size() != 2 || bc.dims[0] != features) {
    fail(i, "B must be 2-D with " + std::to_string(features) + " rows (the features of A)");
  }
  const int in = features, out = static_cast<int>(bc.dims[1]);
  std::vector<float> w(static_cast<std::size_t>(out) * in);
  for (int o = 0; o < out; ++o) {
    for (int k = 0; k < in; ++k) {
      w[static_cast<std::size_t>(o) * in + k] = bc.floats[static_cast<std::size_t>(k) * out + o];
    }
  }
  check_outputs(i, 1);
  std::vector<float> bias(static_cast<std::size_t>(out), 0.0f);
  std::string output = n.output(0);
  const int c = sole_consumer(output);
  if (c >= 0 && g_.node(c).op_type() == "Add" && g_.node(c).input_size() == 2) {
    const auto& add = g_.node(c);
    const int other = add.input(0) == output ? 1 : 0;
    auto it = values_.find(add.input(other));
    if (it != values_.end() && it->second.kind == Value::Kind::kConstant &&
        !it->second.constant->is_int &&
        (it->second.constant->count() == static_cast<std::size_t>(out) ||
         it->second.constant->count() == 1)) {
      Attributes(add, where(c)).allow_only({});
      check_outputs(c, 1);
      const Constant& bc2 = *it->second.constant;
      for (int o = 0; o < out; ++o) bias[o] = bc2.floats[bc2.count() == 1 ? 0 : o];
      done_[static_cast<std::size_t>(c)] = true;
      output = add.output(0);
    }
  }
  fully_connected(i, a.id, std::move(w), std::move(bias), out, in, output);
}

void Importer::fully_connected(int i, gnrt::TensorId x, std::vector<float> w,
                               std::vector<float> bias, int out, int in, std::string output) {
  bool relu = false;
  output = fuse_relu(output, &relu);
  const auto& n = g_.node(i);
  Value v;
  v.kind = Value::Kind::kFlat;
  v.id =
      builder_.fully_connected(layer_name(n, i), x, out, w, bias, relu, weight_options(settings_));
  define(i, output, v);
  OnnxLayer layer;
  layer.name = layer_name(n, i);
  layer.is_fc = true;
  layer.shape = {out, in};
  layer.weights = std::move(w);
  layer.bias = std::move(bias);
  r_.layers.push_back(std::move(layer));
}

void Importer::softmax(int i) {
  const auto& n = g_.node(i);
  Attributes at(n, where(i));
  at.allow_only({"axis"});
  Value v = input_value(i, 0);
  if (v.kind == Value::Kind::kConstant) fail(i, "softmax of a constant is not supported");
  const std::vector<int> s = builder_.shape(v.id);
  const auto axis = at.integer("axis", r_.opset >= 13 ? -1 : 1);
  const bool over_channels = v.kind == Value::Kind::kFlat
                                 ? (axis == 1 || axis == -1)
                                 : (s[2] == 1 && s[3] == 1 && (axis == 1 || axis == -3));
  if (!over_channels) {
    at.fail("axis " + std::to_string(axis) +
            " is not supported (softmax over the classes of a "
            "[1, classes] tensor only)");
  }
  check_outputs(i, 1);
  v.id = builder_.softmax(layer_name(n, i), v.id);
  define(i, n.output(0), v);
  softmax_ids_.push_back(v.id);
}

void Importer::pass_through(int i) {
  const auto& n = g_.node(i);
  Attributes at(n, where(i));
  if (n.op_type() == "Dropout") {
    at.allow_only({"ratio", "seed", "is_test"});
    if (n.input_size() > 2 && !n.input(2).empty()) {
      fail(i, "the training_mode input is not supported (export in eval mode)");
    }
  } else {
    at.allow_only({});
  }
  check_outputs(i, 1);  // Dropout's mask
  const Value v = input_value(i, 0);
  define(i, n.output(0), v);
  ++r_.dropped;
}

void Importer::constant(int i) {
  const auto& n = g_.node(i);
  Attributes at(n, where(i));
  if (n.attribute_size() != 1) at.fail("needs exactly one attribute");
  const onnx::AttributeProto& a = n.attribute(0);
  Constant c;
  if (a.name() == "value" && a.has_t()) {
    c = onnx_graph::read_tensor(a.t(), where(i));
  } else if (a.name() == "value_float") {
    c.floats = {a.f()};
  } else if (a.name() == "value_floats") {
    c.floats.assign(a.floats().begin(), a.floats().end());
    c.dims = {static_cast<std::int64_t>(c.floats.size())};
  } else if (a.name() == "value_int") {
    c.is_int = true;
    c.ints = {a.i()};
  } else if (a.name() == "value_ints") {
    c.is_int = true;
    c.ints.assign(a.ints().begin(), a.ints().end());
    c.dims = {static_cast<std::int64_t>(c.ints.size())};
  } else {
    at.fail("attribute '" + a.name() + "' is not supported");
  }
  check_outputs(i, 1);
  if (n.output_size() < 1 || constants_.count(n.output(0))) fail(i, "bad output");
  Constant& stored = constants_[n.output(0)];
  stored = std::move(c);
  Value v;
  v.kind = Value::Kind::kConstant;
  v.constant = &stored;
  define(i, n.output(0), v);
}

void Importer::finish_output() {
  const std::string& name = g_.output(0).name();
  auto it = values_.find(name);
  if (it == values_.end()) {
    throw std::runtime_error("the graph output '" + name + "' is not produced by any node");
  }
  if (it->second.kind == Value::Kind::kConstant) {
    throw std::runtime_error("the graph output '" + name + "' is a constant");
  }
  const gnrt::TensorId id = it->second.id;
  const std::vector<int> s = builder_.shape(id);
  r_.classes = s[1] * s[2] * s[3];
  r_.softmax_output = !softmax_ids_.empty() && softmax_ids_.back() == id;
  if (!r_.labels.empty() && static_cast<int>(r_.labels.size()) != r_.classes) {
    throw std::runtime_error(std::to_string(r_.labels.size()) + " labels for " +
                             std::to_string(r_.classes) + " outputs");
  }
  gnrt::ModelMetadata meta;
  meta.name = g_.name().empty() ? file_ : g_.name();
  meta.description = "imported from ONNX " + file_ + " (opset " + std::to_string(r_.opset) +
                     (model_.producer_name().empty() ? ""
                                                     : ", producer " + model_.producer_name() +
                                                           " " + model_.producer_version()) +
                     ") by gn-convert import";
  meta.producer = "gn-convert 0.1.0";
  meta.labels = r_.labels;
  meta.mean = r_.mean;
  meta.std = r_.std;
  for (const OnnxLayer& l : r_.layers) {
    r_.params += l.weights.size();
    for (float w : l.weights) r_.nonzeros += (w != 0.0f);
  }
  meta.pruning.params_dense_training = r_.params;
  meta.pruning.nonzeros_training = r_.nonzeros;
  meta.pruning.training_height = r_.height;
  meta.pruning.training_width = r_.width;
  meta.pruning.method = "onnx-import";  // the exact zeros of the ONNX weights
  builder_.set_metadata(meta);
  r_.bytes = builder_.finish({id});
}

}  // namespace

OnnxImportResult import_onnx(const std::string& bytes, const std::string& name,
                             const OnnxImportSettings& settings) {
  onnx::ModelProto model;
  if (bytes.empty()) throw std::runtime_error(name + ": empty file, not an ONNX model");
  if (!model.ParseFromString(bytes)) {
    throw std::runtime_error(name +
                             ": not an ONNX model (protobuf parse failed: truncated or "
                             "not a ModelProto)");
  }
  try {
    Importer importer(model, name, settings);
    return importer.run();
  } catch (const std::invalid_argument& e) {  // ModelBuilder: shapes that do not fit
    throw std::runtime_error(name + ": " + e.what());
  } catch (const std::runtime_error& e) {
    throw std::runtime_error(name + ": " + e.what());
  }
}

}  // namespace gnconvert
