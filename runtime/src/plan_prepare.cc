// Planning phase 2: a kernel per operator (the platform selectors) and the weights packed into
// plan-owned memory in the chosen kernel's format.
#include <vector>

#include "gnrt/half.h"
#include "plan.h"
#include "plan_internal.h"

namespace gnrt {

using plan_detail::aligned_block;

namespace {

kernels::Activation activation_of(const OpDesc& d) {
  return d.relu ? kernels::Activation::kRelu : kernels::Activation::kNone;
}

// Plan-time copies of a weight matrix in the kernels' form (float32 values, 32-bit CSR).
struct ExpandedWeights {
  std::vector<float> values;
  std::vector<std::uint32_t> row_begin;
  std::vector<std::uint32_t> indices;
  const float* dense = nullptr;
  kernels::SparseRows sparse{nullptr, nullptr, nullptr};
};

void expand_weights(const WeightRef& w, ExpandedWeights* out) {
  const float* values = w.values_f32;
  if (w.float16) {
    out->values.resize(w.value_count);
    for (std::size_t i = 0; i < w.value_count; ++i) out->values[i] = half_to_float(w.values_f16[i]);
    values = out->values.data();
  }
  if (!w.sparse) {
    out->dense = values;
    return;
  }
  out->row_begin.resize(static_cast<std::size_t>(w.rows) + 1);
  out->row_begin[0] = 0;
  for (int r = 0; r < w.rows; ++r) out->row_begin[r + 1] = out->row_begin[r] + w.row_nonzeros[r];
  out->indices.resize(w.value_count);
  for (std::size_t i = 0; i < w.value_count; ++i)
    out->indices[i] = w.indices_u8    ? w.indices_u8[i]
                      : w.indices_u16 ? w.indices_u16[i]
                                      : w.indices_u32[i];
  out->sparse = {out->row_begin.data(), out->indices.data(), values};
}

// Output-channel bounds of `parts` contiguous ranges with about equal work for a sparse
// convolution: the work of a channel is its nonzeros plus a per-channel overhead (bias, stores,
// loop setup) of about two nonzeros. Magnitude pruning leaves channels with very different
// nonzero counts, so a split by channel count can leave one thread with most of the work.
std::vector<int> balanced_ranges(const std::uint32_t* row_begin, int channels, int parts) {
  constexpr double kChannelOverhead = 2.0;
  const double total = static_cast<double>(row_begin[channels]) + kChannelOverhead * channels;
  std::vector<int> bounds(static_cast<std::size_t>(parts) + 1, channels);
  bounds[0] = 0;
  int c = 0;
  double done = 0.0;
  for (int part = 1; part < parts; ++part) {
    const double target = total * part / parts;
    while (c < channels) {
      const double next = done + (row_begin[c + 1] - row_begin[c]) + kChannelOverhead;
      // Stop before channel c when that leaves the boundary closer to the target.
      if (next > target && target - done <= next - target) break;
      done = next;
      ++c;
    }
    bounds[part] = c;
  }
  return bounds;
}

// Which tensors can only hold values >= 0 (lets max pooling read the zero border).
std::vector<bool> nonnegative_tensors(const Model& m) {
  std::vector<bool> nonnegative(m.tensors.size(), false);
  for (const OpDesc& d : m.ops) {
    bool v = d.relu;
    switch (d.type) {
      case OpType::kMaxPool:
      case OpType::kAvgPool:
      case OpType::kGlobalAvgPool:
        v = v || nonnegative[d.inputs[0]];
        break;
      case OpType::kConcat: {
        bool all = true;
        for (int t : d.inputs) all = all && nonnegative[t];
        v = all;
        break;
      }
      case OpType::kSoftmax:
        v = true;
        break;
      default:
        break;
    }
    nonnegative[d.output] = v;
  }
  return nonnegative;
}

// Packs the weights of problem `p` for `kernel` into a new block, counting its bytes in
// *weight_bytes against `max_bytes` (PlanConfig::max_arena_bytes caps the weights too).
template <class Problem, class Kernel>
Status pack(const OpDesc& d, const Problem& p, const Kernel& kernel, std::size_t max_bytes,
            std::size_t* weight_bytes, AlignedBlock* packed) {
  if (*weight_bytes + kernel.packed_bytes > max_bytes)
    return make_error(GNRT_RESOURCE_LIMIT,
                      "operator '" + d.name + "': packed weights exceed max_arena_bytes");
  *packed = aligned_block(kernel.packed_bytes);
  if (!*packed)
    return make_error(GNRT_OUT_OF_MEMORY, "operator '" + d.name + "': cannot allocate weights");
  kernel.pack(p, packed->get());
  *weight_bytes += kernel.packed_bytes;
  return Status::Ok();
}

// The activation and the plan-time weights of a convolution or fully connected problem; the
// pointers are valid until forget_weights (they point into `w` and the model).
template <class Problem>
void set_weights(const OpDesc& d, const ExpandedWeights& w, Problem* p) {
  p->activation = activation_of(d);
  p->dense_weights = w.dense;
  p->sparse = w.sparse;
  p->bias = d.bias;
  p->nonzeros = d.weights.nonzeros;
}

// Plan-time weight pointers die with the ExpandedWeights; run() only uses the packed copy.
template <class Problem>
void forget_weights(Problem* p) {
  p->dense_weights = nullptr;
  p->sparse = {nullptr, nullptr, nullptr};
  p->bias = nullptr;
}

}  // namespace

Status Plan::prepare_operators() {
  const Model& m = *model_;
  const std::vector<bool> nonnegative = nonnegative_tensors(m);
  for (std::size_t k = 0; k < m.ops.size(); ++k) {
    const OpDesc& d = m.ops[k];
    PlannedOp& op = ops_[k];
    switch (d.type) {
      case OpType::kConv2D:
        if (Status s = prepare_conv(d, &op); !s.ok()) return s;
        break;
      case OpType::kFullyConnected:
        if (Status s = prepare_fc(d, &op); !s.ok()) return s;
        break;
      case OpType::kMaxPool:
      case OpType::kAvgPool:
      case OpType::kGlobalAvgPool:
        prepare_pool(d, nonnegative[d.inputs[0]], &op);
        break;
      case OpType::kConcat:
        op.kernel_name = op.concat_copies ? "concat_copy" : "concat_in_place";
        break;
      case OpType::kSoftmax:
        op.kernel_name = "f32_softmax__scalar";
        break;
    }
  }
  return Status::Ok();
}

Status Plan::prepare_conv(const OpDesc& d, PlannedOp* op) {
  const TensorLayout& in = layouts_[d.inputs[0]];
  const TensorLayout& out = layouts_[d.output];
  ExpandedWeights w;
  expand_weights(d.weights, &w);
  kernels::ConvProblem& p = op->conv;
  p.geometry = {in.channels, in.height,  in.width,     out.channels, out.height,
                out.width,   d.kernel_h, d.kernel_w,   d.stride_h,   d.stride_w,
                d.pad_top,   d.pad_left, d.dilation_h, d.dilation_w, d.groups};
  p.in_row_stride = in.row_stride;
  p.in_channel_stride = in.channel_stride;
  p.in_pad = in.pad;
  p.out_row_stride = out.row_stride;
  p.out_channel_stride = out.channel_stride;
  p.out_pad = out.pad;
  set_weights(d, w, &p);
  op->conv_kernel = kernels::select_conv_kernel(p, isa_, config_.force_reference);
  if (Status s = pack(d, p, op->conv_kernel, config_.max_arena_bytes, &weight_bytes_, &op->packed);
      !s.ok())
    return s;
  if (config_.threads > 1 && op->conv_kernel.sparse && w.sparse.row_begin != nullptr)
    op->range_bounds = balanced_ranges(w.sparse.row_begin, out.channels, config_.threads);
  forget_weights(&p);
  op->kernel_name = op->conv_kernel.name;
  return Status::Ok();
}

Status Plan::prepare_fc(const OpDesc& d, PlannedOp* op) {
  ExpandedWeights w;
  expand_weights(d.weights, &w);
  kernels::FcProblem& p = op->fc;
  p.in_features = d.weights.row_length;
  p.out_features = d.out_channels;
  set_weights(d, w, &p);
  op->fc_kernel = kernels::select_fc_kernel(p, isa_, config_.force_reference);
  if (Status s = pack(d, p, op->fc_kernel, config_.max_arena_bytes, &weight_bytes_, &op->packed);
      !s.ok())
    return s;
  forget_weights(&p);
  op->kernel_name = op->fc_kernel.name;
  return Status::Ok();
}

void Plan::prepare_pool(const OpDesc& d, bool input_nonnegative, PlannedOp* op) {
  const TensorLayout& in = layouts_[d.inputs[0]];
  const TensorLayout& out = layouts_[d.output];
  kernels::PoolProblem& p = op->pool;
  const bool global = d.type == OpType::kGlobalAvgPool;
  p.geometry = {in.channels,
                in.height,
                in.width,
                out.height,
                out.width,
                global ? in.height : d.kernel_h,
                global ? in.width : d.kernel_w,
                d.stride_h,
                d.stride_w,
                d.pad_top,
                d.pad_left};
  p.max = d.type == OpType::kMaxPool;
  p.global = global;
  p.count_include_pad = d.count_include_pad;
  p.pad_bottom = d.pad_bottom;
  p.pad_right = d.pad_right;
  p.input_nonnegative = input_nonnegative;
  p.in_row_stride = in.row_stride;
  p.in_channel_stride = in.channel_stride;
  p.in_pad = in.pad;
  p.out_row_stride = out.row_stride;
  p.out_channel_stride = out.channel_stride;
  p.out_pad = out.pad;
  p.activation = activation_of(d);
  op->pool_kernel = kernels::select_pool_kernel(p, isa_, config_.force_reference);
  op->kernel_name = op->pool_kernel.name;
}

}  // namespace gnrt
