#include "plan_layers.h"

#include "gnrt/googlenet.h"
#include "gnrt/half.h"
#include "model.h"
#include "plan.h"

namespace gnrt_bench {
namespace {

// The stored weights in the kernels' form (float32 values, 32-bit CSR), as the planner expands
// them before selection.
void attach_weights(const gnrt::WeightRef& w, PlanLayer* layer, const float** dense,
                    gnrt::kernels::SparseRows* sparse) {
  layer->values.resize(w.value_count);
  for (std::size_t i = 0; i < w.value_count; ++i)
    layer->values[i] = w.float16 ? gnrt::half_to_float(w.values_f16[i]) : w.values_f32[i];
  *dense = nullptr;
  *sparse = {nullptr, nullptr, nullptr};
  if (!w.sparse) {
    *dense = layer->values.data();
    return;
  }
  layer->row_begin.assign(1, 0);
  for (int r = 0; r < w.rows; ++r)
    layer->row_begin.push_back(layer->row_begin.back() + w.row_nonzeros[r]);
  layer->indices.resize(w.value_count);
  for (std::size_t i = 0; i < w.value_count; ++i)
    layer->indices[i] = w.indices_u8    ? w.indices_u8[i]
                        : w.indices_u16 ? w.indices_u16[i]
                                        : w.indices_u32[i];
  *sparse = {layer->row_begin.data(), layer->indices.data(), layer->values.data()};
}

void attach_bias(const gnrt::OpDesc& d, int count, PlanLayer* layer, const float** bias) {
  *bias = nullptr;
  if (d.bias == nullptr) return;
  layer->bias.assign(d.bias, d.bias + count);
  *bias = layer->bias.data();
}

}  // namespace

bool plan_layers(const std::vector<std::uint8_t>& bytes, int size,
                 std::vector<std::unique_ptr<PlanLayer>>* layers, std::string* error) {
  gnrt::Model model;
  gnrt::Status status = gnrt::load_model(bytes.data(), bytes.size(), &model);
  std::unique_ptr<gnrt::Plan> plan;
  gnrt::PlanConfig config;
  config.height = config.width = size;
  if (status.ok()) status = gnrt::Plan::create(model, config, &plan);
  if (!status.ok()) {
    *error = status.message;
    return false;
  }
  layers->clear();
  for (const gnrt::PlannedOp& op : plan->ops()) {
    const gnrt::OpDesc& d = *op.desc;
    auto layer = std::make_unique<PlanLayer>();
    layer->name = d.name;
    layer->planned_kernel = op.kernel_name;
    const auto origin = [](const gnrt::TensorLayout& l) {
      return l.lead + static_cast<std::ptrdiff_t>(l.pad) * l.row_stride + l.pad;
    };
    layer->in_origin = origin(plan->layout(d.inputs[0]));
    layer->out_origin = origin(plan->layout(d.output));
    switch (d.type) {
      case gnrt::OpType::kConv2D:
        layer->kind = LayerKind::kConv;
        layer->conv = op.conv;
        attach_weights(d.weights, layer.get(), &layer->conv.dense_weights, &layer->conv.sparse);
        attach_bias(d, op.conv.geometry.out_channels, layer.get(), &layer->conv.bias);
        break;
      case gnrt::OpType::kFullyConnected:
        layer->kind = LayerKind::kFc;
        layer->fc = op.fc;
        attach_weights(d.weights, layer.get(), &layer->fc.dense_weights, &layer->fc.sparse);
        attach_bias(d, op.fc.out_features, layer.get(), &layer->fc.bias);
        break;
      case gnrt::OpType::kMaxPool:
      case gnrt::OpType::kAvgPool:
      case gnrt::OpType::kGlobalAvgPool:
        layer->kind = LayerKind::kPool;
        layer->pool = op.pool;
        break;
      default:
        continue;
    }
    layers->push_back(std::move(layer));
  }
  return true;
}

std::vector<std::uint8_t> random_googlenet(double density, unsigned seed, int size) {
  gnrt::GoogLeNetConfig config;
  config.height = config.width = size;
  gnrt::ModelMetadata metadata;
  metadata.name = "googlenet-random";
  return gnrt::build_googlenet(config, gnrt::random_pruned_weights(seed, density), metadata,
                               gnrt::WeightOptions{});
}

}  // namespace gnrt_bench
