#include "model_inspect.h"

#include "cli_common.h"
#include "fileio.h"
#include "model.h"

namespace gnrt::cli {
namespace {

std::vector<int> tensor_shape(const ::gnrt::Model& model, int index) {
  const TensorDesc& t = model.tensors[static_cast<std::size_t>(index)];
  return {1, t.channels, t.default_height, t.default_width};
}

std::string window_string(int kh, int kw, int sh, int sw) {
  std::string out = std::to_string(kh) + "x" + std::to_string(kw) + "/" + std::to_string(sh);
  if (sh != sw) out += "x" + std::to_string(sw);
  return out;
}

void describe_weights(const OpDesc& op, LayerDetails* layer) {
  const WeightRef& w = op.weights;
  layer->has_weights = true;
  layer->params_dense = static_cast<std::uint64_t>(w.rows) * std::uint64_t(w.row_length);
  layer->nonzeros = w.nonzeros;
  layer->bytes = w.stored_bytes + (op.bias || op.bias_i32 ? std::uint64_t(op.out_channels) * 4 : 0);
  layer->weight_layout = w.sparse ? "sparse_rows" : "dense";
  layer->value_type = w.int8 ? "int8" : w.float16 ? "float16" : "float32";
}

nlohmann::json window_attributes(const OpDesc& op) {
  return {{"kernel", {op.kernel_h, op.kernel_w}},
          {"stride", {op.stride_h, op.stride_w}},
          {"padding", {op.pad_top, op.pad_left, op.pad_bottom, op.pad_right}}};
}

void describe_operator(const OpDesc& op, LayerDetails* layer) {
  nlohmann::json& attr = layer->attributes;
  layer->type = op_type_name(op.type);
  const bool windowed =
      op.type == OpType::kConv2D || op.type == OpType::kMaxPool || op.type == OpType::kAvgPool;
  if (windowed) layer->window = window_string(op.kernel_h, op.kernel_w, op.stride_h, op.stride_w);
  // Softmax and Concat have no activation field in the file.
  if (op.relu) layer->activation = "relu";
  switch (op.type) {
    case OpType::kConv2D:
      attr = window_attributes(op);
      attr["dilation"] = {op.dilation_h, op.dilation_w};
      attr["groups"] = op.groups;
      attr["out_channels"] = op.out_channels;
      describe_weights(op, layer);
      break;
    case OpType::kMaxPool:
    case OpType::kAvgPool:
      attr = {{"global", false}};
      attr.update(window_attributes(op));
      attr["ceil_mode"] = op.ceil_mode;
      if (op.type == OpType::kAvgPool) attr["count_include_pad"] = op.count_include_pad;
      break;
    case OpType::kGlobalAvgPool:
      layer->window = "global";
      attr = {{"global", true}};
      break;
    case OpType::kConcat:
      attr = {{"axis", 1}};  // the only axis the loader accepts
      break;
    case OpType::kFullyConnected:
      attr = {{"out_features", op.out_channels}};
      describe_weights(op, layer);
      break;
    case OpType::kSoftmax:
      attr = {{"beta", op.beta}};
      break;
  }
}

void describe_metadata(const fb::Model* root, ModelDetails* details) {
  details->format_version = root->format_version();
  const fb::Metadata* meta = root->metadata();
  if (!meta) return;
  if (meta->description()) details->description = meta->description()->str();
  if (meta->producer()) details->producer = meta->producer()->str();
  if (const fb::PruningSummary* p = meta->pruning()) {
    details->has_pruning = true;
    details->params_dense_training = p->params_dense_training();
    details->nonzeros_training = p->nonzeros_training();
    details->macs_dense = p->macs_dense();
    details->macs_sparse = p->macs_sparse();
    details->training_height = p->training_height();
    details->training_width = p->training_width();
    if (p->method()) details->pruning_method = p->method()->str();
    if (p->recipe()) details->pruning_recipe = p->recipe()->str();
  }
}

}  // namespace

ModelDetails inspect_model(const std::vector<std::uint8_t>& bytes, const std::string& name) {
  ::gnrt::Model model;
  const Status status = load_model(bytes.data(), bytes.size(), &model);
  if (!status.ok()) throw CliError(tools::printable(name) + ": " + status.message);

  ModelDetails details;
  describe_metadata(model.root, &details);
  const int output = model.outputs[0];
  const int producer = model.tensors[static_cast<std::size_t>(output)].producer;
  details.output_is_softmax =
      producer >= 0 && model.ops[static_cast<std::size_t>(producer)].type == OpType::kSoftmax;

  details.layers.reserve(model.ops.size());
  for (std::size_t i = 0; i < model.ops.size(); ++i) {
    const OpDesc& op = model.ops[i];
    LayerDetails layer;
    layer.index = static_cast<int>(i);
    layer.window = "-";
    layer.activation = "-";
    layer.weight_layout = "-";
    layer.value_type = "-";
    // The loader names an unnamed operator "op<i>"; the table shows such names as they are
    // stored: empty.
    const fb::Operator* stored =
        model.root->operators()->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (stored->name()) layer.name = op.name;
    for (int t : op.inputs) layer.input_shapes.push_back(tensor_shape(model, t));
    layer.output_shape = tensor_shape(model, op.output);
    describe_operator(op, &layer);
    if (layer.has_weights)
      layer.precision = op.weights.int8 ? "int8" : op.weights.float16 ? "fp16" : "fp32";
    else
      layer.precision =
          model.tensors[static_cast<std::size_t>(op.inputs[0])].quantized ? "uint8" : "fp32";
    details.layers.push_back(std::move(layer));
  }
  return details;
}

}  // namespace gnrt::cli
