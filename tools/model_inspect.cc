#include "model_inspect.h"

#include <cstring>

#include "cli_common.h"
#include "fileio.h"
#include "gnrt/gnrt_generated.h"

namespace gnrt::cli {
namespace {

namespace fb = gnrt::fb;

template <typename T>
std::uint64_t vector_size(const flatbuffers::Vector<T>* v) {
  return v ? v->size() : 0;
}

template <typename T>
std::uint64_t vector_bytes(const flatbuffers::Vector<T>* v) {
  return v ? std::uint64_t(v->size()) * sizeof(T) : 0;
}

std::vector<int> tensor_shape(const fb::Model* model, int index) {
  const auto* tensors = model->tensors();
  if (!tensors || index < 0 || std::uint32_t(index) >= tensors->size()) return {};
  const fb::Tensor* tensor = tensors->Get(static_cast<flatbuffers::uoffset_t>(index));
  if (!tensor || !tensor->shape()) return {};
  return std::vector<int>(tensor->shape()->begin(), tensor->shape()->end());
}

std::string window_string(int kh, int kw, int sh, int sw) {
  std::string out = std::to_string(kh) + "x" + std::to_string(kw) + "/" + std::to_string(sh);
  if (sh != sw) out += "x" + std::to_string(sw);
  return out;
}

const char* activation_string(fb::Activation a) { return a == fb::Activation::RELU ? "relu" : "-"; }

void describe_weights(const fb::Weights* weights, const flatbuffers::Vector<float>* bias,
                      LayerDetails* layer) {
  layer->has_weights = true;
  layer->bytes = vector_bytes(bias);
  if (!weights) return;
  std::uint64_t params = 1;
  bool valid = weights->shape() && weights->shape()->size() > 0;
  if (valid) {
    for (int d : *weights->shape()) {
      // Saturate instead of overflowing on nonsense shapes (the runtime rejects those).
      if (d < 0 || (d > 0 && params > (std::uint64_t{1} << 62) / std::uint64_t(d))) {
        valid = false;
        break;
      }
      params *= std::uint64_t(d);
    }
  }
  layer->params_dense = valid ? params : 0;
  layer->weight_layout =
      weights->layout() == fb::WeightLayout::SPARSE_ROWS ? "sparse_rows" : "dense";
  layer->value_type = weights->value_type() == fb::ValueType::FLOAT16 ? "float16" : "float32";
  if (weights->layout() == fb::WeightLayout::SPARSE_ROWS) {
    layer->nonzeros = vector_size(weights->values_f32()) + vector_size(weights->values_f16());
  } else {
    std::uint64_t nonzeros = 0;
    if (const auto* values = weights->values_f32()) {
      for (float v : *values) nonzeros += v != 0.0f;
    }
    if (const auto* values = weights->values_f16()) {
      for (std::uint16_t v : *values) nonzeros += (v & 0x7fff) != 0;  // +0 and -0 are zero
    }
    layer->nonzeros = nonzeros;
  }
  layer->bytes += vector_bytes(weights->values_f32()) + vector_bytes(weights->values_f16()) +
                  vector_bytes(weights->row_nonzeros()) + vector_bytes(weights->indices_u8()) +
                  vector_bytes(weights->indices_u16()) + vector_bytes(weights->indices_u32());
}

void describe_options(const fb::Operator* op, LayerDetails* layer) {
  using nlohmann::json;
  json& attr = layer->attributes;
  switch (op->options_type()) {
    case fb::OperatorOptions::Conv2DOptions: {
      layer->type = "Conv2D";
      const fb::Conv2DOptions* o = op->options_as_Conv2DOptions();
      if (!o) break;
      layer->window = window_string(o->kernel_h(), o->kernel_w(), o->stride_h(), o->stride_w());
      layer->activation = activation_string(o->activation());
      attr = {{"kernel", {o->kernel_h(), o->kernel_w()}},
              {"stride", {o->stride_h(), o->stride_w()}},
              {"padding", {o->pad_top(), o->pad_left(), o->pad_bottom(), o->pad_right()}},
              {"dilation", {o->dilation_h(), o->dilation_w()}},
              {"groups", o->groups()},
              {"out_channels", o->out_channels()}};
      describe_weights(o->weights(), o->bias(), layer);
      break;
    }
    case fb::OperatorOptions::Pool2DOptions: {
      const fb::Pool2DOptions* o = op->options_as_Pool2DOptions();
      if (!o) {
        layer->type = "Pool";
        break;
      }
      const bool max = o->type() == fb::PoolType::MAXIMUM;
      layer->type = std::string(o->global() ? "Global" : "") + (max ? "MaxPool" : "AvgPool");
      layer->activation = activation_string(o->activation());
      if (o->global()) {
        layer->window = "global";
        attr = {{"global", true}};
      } else {
        layer->window = window_string(o->kernel_h(), o->kernel_w(), o->stride_h(), o->stride_w());
        attr = {{"global", false},
                {"kernel", {o->kernel_h(), o->kernel_w()}},
                {"stride", {o->stride_h(), o->stride_w()}},
                {"padding", {o->pad_top(), o->pad_left(), o->pad_bottom(), o->pad_right()}},
                {"ceil_mode", o->ceil_mode()}};
        if (!max) attr["count_include_pad"] = o->count_include_pad();
      }
      break;
    }
    case fb::OperatorOptions::ConcatOptions: {
      layer->type = "Concat";
      if (const fb::ConcatOptions* o = op->options_as_ConcatOptions()) attr = {{"axis", o->axis()}};
      break;
    }
    case fb::OperatorOptions::FullyConnectedOptions: {
      layer->type = "FullyConnected";
      const fb::FullyConnectedOptions* o = op->options_as_FullyConnectedOptions();
      if (!o) break;
      layer->activation = activation_string(o->activation());
      attr = {{"out_features", o->out_features()}};
      describe_weights(o->weights(), o->bias(), layer);
      break;
    }
    case fb::OperatorOptions::SoftmaxOptions: {
      layer->type = "Softmax";
      if (const fb::SoftmaxOptions* o = op->options_as_SoftmaxOptions()) {
        attr = {{"beta", o->beta()}};
      }
      break;
    }
    default:
      layer->type = "unknown(" + std::to_string(static_cast<int>(op->options_type())) + ")";
      break;
  }
}

}  // namespace

ModelDetails inspect_model(const std::vector<std::uint8_t>& bytes, const std::string& name) {
  const std::string shown = tools::printable(name);
  if (bytes.size() < 8 || !fb::ModelBufferHasIdentifier(bytes.data())) {
    throw CliError(shown + ": not a gnrt model (no GNRT file identifier)");
  }
  flatbuffers::Verifier::Options options;
  options.max_tables = 10000000;  // large real models have many small tables
  flatbuffers::Verifier verifier(bytes.data(), bytes.size(), options);
  if (!fb::VerifyModelBuffer(verifier)) {
    throw CliError(shown + ": FlatBuffer verification failed");
  }
  const fb::Model* model = fb::GetModel(bytes.data());

  ModelDetails details;
  details.format_version = model->format_version();
  if (const fb::Metadata* meta = model->metadata()) {
    if (meta->description()) details.description = meta->description()->str();
    if (meta->producer()) details.producer = meta->producer()->str();
    if (const fb::PruningSummary* p = meta->pruning()) {
      details.has_pruning = true;
      details.params_dense_training = p->params_dense_training();
      details.nonzeros_training = p->nonzeros_training();
      details.macs_dense = p->macs_dense();
      details.macs_sparse = p->macs_sparse();
      details.training_height = p->training_height();
      details.training_width = p->training_width();
      if (p->method()) details.pruning_method = p->method()->str();
      if (p->recipe()) details.pruning_recipe = p->recipe()->str();
    }
  }

  int first_output = -1;
  if (model->outputs() && model->outputs()->size() > 0) first_output = model->outputs()->Get(0);

  if (const auto* ops = model->operators()) {
    details.layers.reserve(ops->size());
    for (flatbuffers::uoffset_t i = 0; i < ops->size(); ++i) {
      const fb::Operator* op = ops->Get(i);
      LayerDetails layer;
      layer.index = static_cast<int>(i);
      layer.type = "-";
      layer.window = "-";
      layer.activation = "-";
      layer.weight_layout = "-";
      layer.value_type = "-";
      if (!op) {
        details.layers.push_back(std::move(layer));
        continue;
      }
      if (op->name()) layer.name = op->name()->str();
      if (op->inputs()) {
        for (int t : *op->inputs()) layer.input_shapes.push_back(tensor_shape(model, t));
      }
      if (op->outputs() && op->outputs()->size() > 0) {
        const int out = op->outputs()->Get(0);
        layer.output_shape = tensor_shape(model, out);
        if (out == first_output) {
          details.output_is_softmax = op->options_type() == fb::OperatorOptions::SoftmaxOptions;
        }
      }
      describe_options(op, &layer);
      details.layers.push_back(std::move(layer));
    }
  }
  return details;
}

}  // namespace gnrt::cli
