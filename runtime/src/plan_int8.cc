// Plans for format 1.1 int8 models: uint8 activations in the C4 layout (qkernels.h), int8
// convolutions through the kernel registry (select_qconv), uint8 pools and concatenations,
// an int8 FullyConnected that writes float logits, a float Softmax.
//
// Layout: every quantized tensor of one spatial size gets the same border (the largest padding
// of any consumer at that size, as for float) and row stride width + border, so a stride-1
// convolution reads and writes the same strides. Borders hold the tensor's zero point (real 0.0),
// written by the producer after its interior on every run; channels past the last real one in
// the last group of 4 hold the zero point too (the packed weights have empty rows for them, and
// pools and copies move whole groups). A concatenation writes nothing when each input's first
// channel is a multiple of 4: its inputs are slices of its buffer; otherwise it copies.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>
#include <string>
#include <utility>
#include <vector>

#include "plan.h"
#include "plan_internal.h"

namespace gnrt {

using plan_detail::channel_stride_of;
using plan_detail::kAlignment;
using plan_detail::lead_of;
using plan_detail::round_up;

namespace {

int groups_of(int channels) { return (channels + 3) / 4; }

// Calls fn(row, input_channel, tap, q) for every stored nonzero int8 weight, rows in order. `taps`
// is kernel_h * kernel_w (1 for FullyConnected, whose "input channels" are its features). The
// weights were validated by the loader (indices inside their rows, counts consistent).
template <typename Fn>
void visit_int8_weights(const WeightRef& w, int taps, Fn fn) {
  if (!w.sparse) {
    const std::int8_t* v = w.values_i8;
    for (int r = 0; r < w.rows; ++r)
      for (int k = 0; k < w.row_length; ++k, ++v)
        if (*v != 0) fn(r, k / taps, k % taps, *v);
    return;
  }
  const int b = w.block_size;
  std::size_t entry = 0;     // entries of all rows so far
  std::size_t delta_at = 0;  // bytes of indices_delta read
  for (int r = 0; r < w.rows; ++r) {
    std::int64_t previous = -1;
    for (std::uint32_t k = 0; k < w.row_nonzeros[r]; ++k, ++entry) {
      std::int64_t index;
      if (w.indices_u8) {
        index = w.indices_u8[entry];
      } else if (w.indices_u16) {
        index = w.indices_u16[entry];
      } else if (w.indices_u32) {
        index = w.indices_u32[entry];
      } else {
        std::int64_t skip = 0;
        std::uint8_t byte;
        while ((byte = w.indices_delta[delta_at++]) == 0) skip += 255;
        index = previous + skip + byte;
        previous = index;
      }
      const int block = static_cast<int>(index / taps), tap = static_cast<int>(index % taps);
      const std::int8_t* v = w.values_i8 + entry * b;
      for (int j = 0; j < b; ++j)
        if (v[j] != 0) fn(r, block * b + j, tap, v[j]);
    }
  }
}

// The requantization multiplier of output channel o (qkernels.h).
float multiplier_of(float in_scale, float weight_scale, float out_scale) {
  return static_cast<float>(static_cast<double>(in_scale) * static_cast<double>(weight_scale) /
                            static_cast<double>(out_scale));
}

// Fills the border of groups [g_begin, g_end) of a C4 layout with byte z (data at (0, 0, 0)).
void fill_border_u8(std::uint8_t* data, const TensorLayout& l, int g_begin, int g_end,
                    std::uint8_t z) {
  const int p = l.pad;
  if (p == 0) return;
  const std::ptrdiff_t rs = l.row_stride;
  const std::ptrdiff_t after_origin = l.channel_stride - l.lead - (p * rs + p);
  for (int g = g_begin; g < g_end; ++g) {
    std::uint8_t* plane = data + g * l.channel_stride * 4;
    std::memset(plane - (p * rs + p) * 4, z, static_cast<std::size_t>(p * rs + p) * 4);
    for (int y = 0; y + 1 < l.height; ++y)
      std::memset(plane + (y * rs + l.width) * 4, z, static_cast<std::size_t>(rs - l.width) * 4);
    const std::ptrdiff_t end_of_last = (l.height - 1) * rs + l.width;
    std::memset(plane + end_of_last * 4, z, static_cast<std::size_t>(after_origin - end_of_last) * 4);
  }
}

struct QConvTask {
  const PlannedOp* op;
  const std::uint8_t* in;
  std::uint8_t* out;
};

// Groups [begin, end) of 4 output channels.
void qconv_range(void* context, int begin, int end) {
  const auto* t = static_cast<const QConvTask*>(context);
  t->op->qconv_kernel.run(t->op->qconv, t->op->packed.get(), t->in, t->out, begin * 4, end * 4);
}

struct QPoolTask {
  const PlannedOp* op;
  const std::uint8_t* in;
  std::uint8_t* out;
};

void qpool_range(void* context, int begin, int end) {
  const auto* t = static_cast<const QPoolTask*>(context);
  t->op->qpool_kernel.run(t->op->qpool, t->in, t->out, begin, end);
}

void parallel_for(ThreadPool* pool, int count, int grain, ThreadPool::RangeFn fn, void* ctx) {
  if (pool)
    pool->parallel_for(count, grain, fn, ctx);
  else
    fn(ctx, 0, count);
}

}  // namespace

// After infer_shapes: layouts, operators, arena.
Status Plan::create_int8() {
  const Model& m = *model_;
  if (!m.tensors[m.input].quantized)
    return make_error(GNRT_UNSUPPORTED,
                      "int8 model whose input tensor '" + m.tensors[m.input].name +
                          "' is float: format 1.1 plans need a quantized graph input");
  int8_ = true;
  if (Status s = assign_int8_layouts(); !s.ok()) return s;
  if (Status s = prepare_int8_operators(); !s.ok()) return s;
  return allocate_arena();
}

Status Plan::assign_int8_layouts() {
  const Model& m = *model_;
  const std::size_t n = m.tensors.size();
  const int steps = static_cast<int>(m.ops.size());
  const std::vector<int> pads = plan_detail::border_of_tensors(m, heights_, widths_, true);
  std::vector<int> alias_parent, alias_channel;
  plan_detail::concat_aliases(m, 4, &alias_parent, &alias_channel);
  layouts_.assign(n, TensorLayout{});
  qlayouts_.assign(n, TensorLayout{});
  std::vector<int> buffer_of(n, -1);
  auto add_buffer = [&](std::uint64_t bytes, int first, const std::string& what) {
    ArenaBuffer b;
    b.bytes = round_up(static_cast<std::size_t>(bytes), kAlignment);
    b.first = b.last = first;
    b.what = what;
    buffers_.push_back(b);
    return static_cast<int>(buffers_.size() - 1);
  };
  for (std::size_t t = 0; t < n; ++t) {
    if (heights_[t] == 0) continue;
    const TensorDesc& td = m.tensors[t];
    // The float view: the shape for every tensor; storage for the float ones (contiguous) and
    // the graph input (the staging plane set_input writes).
    TensorLayout& f = layouts_[t];
    f.channels = td.channels;
    f.height = heights_[t];
    f.width = widths_[t];
    f.row_stride = f.width;
    f.channel_stride = static_cast<std::ptrdiff_t>(f.height) * f.width;
    const std::uint64_t elements =
        static_cast<std::uint64_t>(f.channels) * static_cast<std::uint64_t>(f.channel_stride);
    if (!td.quantized) {
      if (elements * sizeof(float) > config_.max_arena_bytes)
        return make_error(GNRT_RESOURCE_LIMIT, "tensor '" + td.name + "' needs more than " +
                                                   "max_arena_bytes");
      f.buffer = add_buffer(elements * sizeof(float), td.producer, td.name);
      continue;
    }
    if (static_cast<int>(t) == m.input) {
      input_staging_ = plan_detail::aligned_block(elements * sizeof(float));
      if (!input_staging_)
        return make_error(GNRT_OUT_OF_MEMORY, "cannot allocate the input staging plane");
      std::memset(input_staging_.get(), 0, elements * sizeof(float));
    }
    int channel = 0;
    const int root = plan_detail::alias_root(alias_parent, alias_channel, static_cast<int>(t),
                                             &channel);
    TensorLayout& q = qlayouts_[t];
    q.channels = td.channels;
    q.height = heights_[t];
    q.width = widths_[t];
    q.pad = pads[t];
    const std::uint64_t rs = static_cast<std::uint64_t>(q.width) + q.pad;
    const std::uint64_t lead = lead_of(q.pad, rs);
    const std::uint64_t gs = channel_stride_of(q.height, rs, q.pad, lead);
    q.lead = static_cast<int>(lead);
    q.row_stride = static_cast<std::ptrdiff_t>(rs);
    q.channel_stride = static_cast<std::ptrdiff_t>(gs);  // the group stride, in positions
    if (static_cast<int>(t) == root) {
      const std::uint64_t bytes = static_cast<std::uint64_t>(groups_of(q.channels)) * gs * 4;
      if (bytes > config_.max_arena_bytes)
        return make_error(GNRT_RESOURCE_LIMIT, "tensor '" + td.name + "' needs " +
                                                   std::to_string(bytes) +
                                                   " bytes, more than max_arena_bytes (" +
                                                   std::to_string(config_.max_arena_bytes) + ")");
      buffer_of[t] = add_buffer(bytes, td.producer, td.name);
    }
    q.offset = static_cast<std::ptrdiff_t>(channel / 4) * q.channel_stride + q.lead +
               q.pad * q.row_stride + q.pad;
  }
  for (std::size_t t = 0; t < n; ++t) {
    if (heights_[t] == 0 || !m.tensors[t].quantized) continue;
    int channel = 0;
    qlayouts_[t].buffer =
        buffer_of[plan_detail::alias_root(alias_parent, alias_channel, static_cast<int>(t),
                                          &channel)];
  }
  // Lifetimes: from the earliest producer of any slice to the last reader of any slice; the
  // input and the outputs for the whole run.
  auto buffer = [&](int t) { return m.tensors[t].quantized ? qlayouts_[t].buffer : layouts_[t].buffer; };
  for (std::size_t t = 0; t < n; ++t) {
    if (heights_[t] == 0) continue;
    ArenaBuffer& b = buffers_[buffer(static_cast<int>(t))];
    b.first = std::min(b.first, m.tensors[t].producer);
  }
  for (int k = 0; k < steps; ++k)
    for (int t : m.ops[k].inputs) buffers_[buffer(t)].last = std::max(buffers_[buffer(t)].last, k);
  for (int t : m.outputs) buffers_[buffer(t)].last = steps;
  buffers_[buffer(m.input)].last = steps;
  ops_.resize(m.ops.size());
  for (int k = 0; k < steps; ++k) {
    ops_[k].desc = &m.ops[k];
    if (m.ops[k].type == OpType::kConcat)
      ops_[k].concat_copies = alias_parent[m.ops[k].inputs[0]] != m.ops[k].output;
  }
  return Status::Ok();
}

Status Plan::prepare_int8_operators() {
  const Model& m = *model_;
  // Tensors whose every value is at least their zero point (real >= 0): convolutions with ReLU
  // (their clamp is lo = z), pools of such tensors or with ReLU, concatenations of such tensors.
  std::vector<char> at_least_zero(m.tensors.size(), 0);
  for (std::size_t k = 0; k < ops_.size(); ++k) {
    const OpDesc& d = *ops_[k].desc;
    if (d.type == OpType::kConv2D && d.relu) at_least_zero[d.output] = 1;
  }
  for (std::size_t k = 0; k < ops_.size(); ++k) {
    PlannedOp& op = ops_[k];
    const OpDesc& d = *op.desc;
    const bool in_q = m.tensors[d.inputs[0]].quantized;
    auto unsupported = [&](const char* what) {
      return make_error(GNRT_UNSUPPORTED, "int8 model: operator '" + d.name + "' (" +
                                              op_type_name(d.type) + ") " + what);
    };
    switch (d.type) {
      case OpType::kConv2D:
        if (!d.weights.int8) return unsupported("has float weights; int8 plans run int8 layers only");
        if (Status s = prepare_qconv(d, &op); !s.ok()) return s;
        break;
      case OpType::kFullyConnected:
        if (!d.weights.int8) return unsupported("has float weights; int8 plans run int8 layers only");
        if (Status s = prepare_qfc(d, &op); !s.ok()) return s;
        break;
      case OpType::kMaxPool:
      case OpType::kAvgPool:
      case OpType::kGlobalAvgPool: {
        if (!in_q) return unsupported("reads a float tensor");
        const TensorLayout& in = qlayouts_[d.inputs[0]];
        const TensorLayout& out = qlayouts_[d.output];
        kernels::QPoolProblem& p = op.qpool;
        p.geometry = {in.channels,   in.height,     in.width,   out.height, out.width, d.kernel_h,
                      d.kernel_w,    d.stride_h,    d.stride_w, d.pad_top,  d.pad_left};
        p.max = d.type == OpType::kMaxPool;
        p.global = d.type == OpType::kGlobalAvgPool;
        p.count_include_pad = d.count_include_pad;
        p.pad_bottom = d.pad_bottom;
        p.pad_right = d.pad_right;
        p.relu = d.relu;
        p.zero_point = m.tensors[d.output].zero_point;
        p.in_row_stride = in.row_stride;
        p.in_group_stride = in.channel_stride;
        p.out_row_stride = out.row_stride;
        p.out_group_stride = out.channel_stride;
        p.input_at_least_zero = at_least_zero[d.inputs[0]] != 0;
        p.in_pad = in.pad;
        if (d.relu || (p.input_at_least_zero && d.type == OpType::kMaxPool))
          at_least_zero[d.output] = 1;
        // force_reference: the reference itself (the scalar table starts with optimized forms).
        op.qpool_kernel = config_.force_reference
                              ? kernels::QPoolKernel{"qu8_pool_ref", kernels::qu8_pool_ref, false}
                              : kernels::select_qpool(p, isa_);
        op.kernel_name = op.qpool_kernel.name;
        break;
      }
      case OpType::kConcat: {
        if (!in_q) return unsupported("joins float tensors");
        bool all = true;
        for (int t : d.inputs) all = all && at_least_zero[t] != 0;
        at_least_zero[d.output] = all ? 1 : 0;
        op.kernel_name = op.concat_copies ? "qu8_concat_copy" : "qu8_concat_in_place";
        break;
      }
      case OpType::kSoftmax:
        if (in_q) return unsupported("reads a quantized tensor");
        op.kernel_name = "f32_softmax__scalar";
        break;
    }
  }
  return Status::Ok();
}

Status Plan::prepare_qconv(const OpDesc& d, PlannedOp* op) {
  const Model& m = *model_;
  if (d.groups != 1)
    return make_error(GNRT_UNSUPPORTED, "int8 convolution '" + d.name + "' has " +
                                            std::to_string(d.groups) +
                                            " groups; int8 plans run ungrouped convolutions only");
  const TensorDesc& tin = m.tensors[d.inputs[0]];
  const TensorDesc& tout = m.tensors[d.output];
  const TensorLayout& in = qlayouts_[d.inputs[0]];
  const TensorLayout& out = qlayouts_[d.output];
  kernels::QConvProblem& p = op->qconv;
  p.in_channels = in.channels;
  p.out_channels = d.out_channels;
  p.in_height = in.height;
  p.in_width = in.width;
  p.out_height = out.height;
  p.out_width = out.width;
  p.kernel_h = d.kernel_h;
  p.kernel_w = d.kernel_w;
  p.stride_h = d.stride_h;
  p.stride_w = d.stride_w;
  p.pad_top = d.pad_top;
  p.pad_left = d.pad_left;
  p.dilation_h = d.dilation_h;
  p.dilation_w = d.dilation_w;
  p.in_row_stride = in.row_stride;
  p.in_group_stride = in.channel_stride;
  p.out_row_stride = out.row_stride;
  p.out_group_stride = out.channel_stride;
  p.in_zero_point = tin.zero_point;
  p.out_zero_point = tout.zero_point;
  p.out_min = d.relu ? tout.zero_point : 0;

  const int taps = d.kernel_h * d.kernel_w;
  // Strided or dilated: the stride-1 kernels cannot run it directly; as patches + 1x1 they can
  // (GoogLeNet's 7x7/2 stem: 49 patch channels from 1 input channel, 147 from 3). The scalar
  // reference (force_reference) runs every convolution directly.
  const bool patches = (d.stride_h > 1 || d.stride_w > 1 || d.dilation_h > 1 ||
                        d.dilation_w > 1) &&
                       static_cast<std::int64_t>(in.channels) * taps <= 1024 &&
                       !config_.force_reference;
  if (patches) {
    TensorLayout& pl = op->qpatch_layout;
    pl.channels = in.channels * taps;
    pl.height = out.height;
    pl.width = out.width;
    pl.pad = 0;
    pl.row_stride = out.row_stride;
    pl.channel_stride =
        static_cast<std::ptrdiff_t>(round_up(static_cast<std::size_t>(out.height) * out.row_stride, 16));
    const std::uint64_t bytes =
        static_cast<std::uint64_t>(groups_of(pl.channels)) * pl.channel_stride * 4;
    if (bytes > config_.max_arena_bytes)
      return make_error(GNRT_RESOURCE_LIMIT, "the patches of '" + d.name + "' need more than " +
                                                 "max_arena_bytes");
    ArenaBuffer b;
    b.bytes = round_up(static_cast<std::size_t>(bytes), kAlignment);
    b.first = b.last = static_cast<int>(op - ops_.data());
    b.what = d.name + ":patches";
    op->qpatch_buffer = static_cast<int>(buffers_.size());
    buffers_.push_back(b);
    p.in_channels = pl.channels;
    p.in_height = out.height;
    p.in_width = out.width;
    p.kernel_h = p.kernel_w = 1;
    p.stride_h = p.stride_w = 1;
    p.pad_top = p.pad_left = 0;
    p.dilation_h = p.dilation_w = 1;
    p.in_row_stride = pl.row_stride;
    p.in_group_stride = pl.channel_stride;
  }
  const int ptaps = patches ? 1 : taps;

  // Entries of 4 input channels at one tap, per output channel, in (group, tap) order.
  std::vector<std::vector<std::pair<std::uint64_t, std::uint32_t>>> rows(d.out_channels);
  visit_int8_weights(d.weights, taps, [&](int r, int ic, int tap, std::int8_t q) {
    if (patches) {  // patch channel ic * taps + tap at the only tap
      ic = ic * taps + tap;
      tap = 0;
    }
    const std::uint64_t key = static_cast<std::uint64_t>(ic / 4) * ptaps + tap;
    rows[r].push_back({key, (static_cast<std::uint32_t>(static_cast<std::uint8_t>(q)))
                                << (8 * (ic % 4))});
  });
  std::vector<std::uint32_t> row_begin(d.out_channels + 1, 0), group, tap;
  std::vector<std::int32_t> w4;
  for (int r = 0; r < d.out_channels; ++r) {
    std::vector<std::pair<std::uint64_t, std::uint32_t>>& e = rows[r];
    std::sort(e.begin(), e.end());
    for (std::size_t i = 0; i < e.size();) {
      std::uint32_t word = 0;
      std::size_t j = i;
      for (; j < e.size() && e[j].first == e[i].first; ++j) word |= e[j].second;
      group.push_back(static_cast<std::uint32_t>(e[i].first / ptaps));
      tap.push_back(static_cast<std::uint32_t>(e[i].first % ptaps));
      w4.push_back(static_cast<std::int32_t>(word));
      i = j;
    }
    row_begin[r + 1] = static_cast<std::uint32_t>(group.size());
    std::vector<std::pair<std::uint64_t, std::uint32_t>>().swap(e);
  }
  std::vector<float> multiplier(d.out_channels);
  for (int o = 0; o < d.out_channels; ++o)
    multiplier[o] = multiplier_of(tin.scale, d.weights.scales[o], tout.scale);
  const kernels::QConvWeights weights{row_begin.data(), group.data(), tap.data(),
                                      w4.data(),        d.bias_i32,   multiplier.data()};
  op->packed_bytes = kernels::qconv_packed_bytes(p, weights);
  op->packed = plan_detail::aligned_block(op->packed_bytes);
  if (!op->packed)
    return make_error(GNRT_OUT_OF_MEMORY, "out of memory packing the weights of '" + d.name + "'");
  kernels::qconv_pack(p, weights, op->packed.get());
  weight_bytes_ += op->packed_bytes;
  op->qconv_kernel = kernels::select_qconv(p, isa_);
  op->kernel_name = op->qconv_kernel.name;

  // Threads: ranges of whole groups of 4 output channels with about equal entries (+1 per group
  // for the per-position work that does not depend on the weights).
  const int groups = groups_of(d.out_channels);
  if (config_.threads > 1 && groups > 1) {
    std::vector<std::uint64_t> cost(groups + 1, 0);
    for (int g = 0; g < groups; ++g) {
      const int hi = std::min(4 * g + 4, d.out_channels);
      cost[g + 1] = cost[g] + (row_begin[hi] - row_begin[4 * g]) + 4;
    }
    const int ranges = std::min(config_.threads, groups);
    op->range_bounds.assign(ranges + 1, groups);
    op->range_bounds[0] = 0;
    int g = 0;
    for (int r = 1; r < ranges; ++r) {
      const std::uint64_t target = cost[groups] * r / ranges;
      while (g < groups && cost[g] < target) ++g;
      op->range_bounds[r] = std::max(g, op->range_bounds[r - 1]);
    }
  }
  return Status::Ok();
}

Status Plan::prepare_qfc(const OpDesc& d, PlannedOp* op) {
  const Model& m = *model_;
  const TensorDesc& tin = m.tensors[d.inputs[0]];
  if (!tin.quantized)
    return make_error(GNRT_UNSUPPORTED, "int8 FullyConnected '" + d.name + "' reads a float tensor");
  const int features = d.weights.row_length;
  const int rows = d.out_channels;
  op->qfc_features = features;
  // [rows][features] int8, then rows int32 (bias - z_in * sum of the row), then rows floats.
  const std::size_t w_bytes = round_up(static_cast<std::size_t>(rows) * features, 64);
  op->packed_bytes = w_bytes + static_cast<std::size_t>(rows) * 8;
  op->packed = plan_detail::aligned_block(op->packed_bytes);
  if (!op->packed)
    return make_error(GNRT_OUT_OF_MEMORY, "out of memory packing the weights of '" + d.name + "'");
  auto* base = static_cast<std::uint8_t*>(op->packed.get());
  auto* w = reinterpret_cast<std::int8_t*>(base);
  std::memset(w, 0, w_bytes);
  visit_int8_weights(d.weights, 1, [&](int r, int f, int, std::int8_t q) {
    w[static_cast<std::size_t>(r) * features + f] = q;
  });
  auto* bias = reinterpret_cast<std::int32_t*>(base + w_bytes);
  auto* scale = reinterpret_cast<float*>(bias + rows);
  for (int r = 0; r < rows; ++r) {
    std::int64_t sum = 0;
    for (int f = 0; f < features; ++f) sum += w[static_cast<std::size_t>(r) * features + f];
    bias[r] = static_cast<std::int32_t>((d.bias_i32 ? d.bias_i32[r] : 0) - tin.zero_point * sum);
    scale[r] = static_cast<float>(static_cast<double>(tin.scale) *
                                  static_cast<double>(d.weights.scales[r]));
  }
  weight_bytes_ += op->packed_bytes;
  fc_input_.resize(std::max(fc_input_.size(), static_cast<std::size_t>(features)));
  op->kernel_name = "qs8_fully_connected_ref";
  return Status::Ok();
}

std::uint8_t* Plan::qdata(int tensor) {
  const TensorLayout& l = qlayouts_[tensor];
  return static_cast<std::uint8_t*>(arena_.get()) + buffers_[l.buffer].offset + l.offset * 4;
}

const std::uint8_t* Plan::qdata(int tensor) const {
  const TensorLayout& l = qlayouts_[tensor];
  return static_cast<const std::uint8_t*>(arena_.get()) + buffers_[l.buffer].offset +
         l.offset * 4;
}

void Plan::fill_border(int tensor) {
  const TensorLayout& l = qlayouts_[tensor];
  fill_border_u8(qdata(tensor), l, 0, groups_of(l.channels),
                 static_cast<std::uint8_t>(model_->tensors[tensor].zero_point));
}

// q = clamp(round_half_even(x / scale) + zero_point, 0, 255); NaN reads as 0.0.
namespace {

struct RowsTask {
  Plan* plan;
  const PlannedOp* op;
};

}  // namespace

void Plan::quantize_input() {
  const TensorLayout& q = qlayouts_[model_->input];
  RowsTask task{this, nullptr};
  parallel_for(
      pool_.get(), groups_of(q.channels) * q.height, 8,
      [](void* c, int b, int e) { static_cast<RowsTask*>(c)->plan->quantize_rows(b, e); }, &task);
  fill_border(model_->input);
}

// Rows [begin, end) of (group, y).
void Plan::quantize_rows(int begin, int end) {
  const int t = model_->input;
  const TensorDesc& td = model_->tensors[t];
  const TensorLayout& f = layouts_[t];
  const TensorLayout& q = qlayouts_[t];
  const float* src = static_cast<const float*>(input_staging_.get());
  std::uint8_t* dst = qdata(t);
  const float z = static_cast<float>(td.zero_point), scale = td.scale;
  // round_half_even by adding and subtracting 1.5 * 2^23 (exact for |v| < 2^22 in the default
  // rounding mode; v is clamped to +-1024 first): no libm call per element.
  const float magic = 12582912.0f;
  for (int r = begin; r < end; ++r) {
    const int g = r / q.height, y = r % q.height;
    for (int j = 0; j < 4; ++j) {
      const int c = 4 * g + j;
      std::uint8_t* d = dst + (g * q.channel_stride + y * q.row_stride) * 4 + j;
      if (c >= q.channels) {
        for (int x = 0; x < q.width; ++x) d[x * 4] = static_cast<std::uint8_t>(td.zero_point);
        continue;
      }
      const float* row = src + c * f.channel_stride + y * f.row_stride;
      for (int x = 0; x < q.width; ++x) {
        float v = row[x] / scale;
        v = row[x] != row[x] ? 0.0f : v;  // NaN reads as 0.0
        v = v > -1024.0f ? v : -1024.0f;
        v = v < 1024.0f ? v : 1024.0f;
        v = (v + magic) - magic + z;
        v = v > 0.0f ? v : 0.0f;
        v = v < 255.0f ? v : 255.0f;
        d[x * 4] = static_cast<std::uint8_t>(v);
      }
    }
  }
}

// Patch channel ic * taps + ky * kernel_w + kx of output position (y, x) is the input at
// (y * stride - pad_top + ky * dilation, x * stride - pad_left + kx * dilation): inside the
// input's zero-point border (which is at least the convolution's padding). Channels past the
// last patch channel hold the input's zero point; the row gaps are not read for real outputs.
void Plan::gather_patches(const PlannedOp& op) {
  const TensorLayout& pl = op.qpatch_layout;
  RowsTask task{this, &op};
  parallel_for(
      pool_.get(), groups_of(pl.channels) * pl.height, 8,
      [](void* c, int b, int e) {
        auto* t = static_cast<RowsTask*>(c);
        t->plan->gather_rows(*t->op, b, e);
      },
      &task);
}

// Rows [begin, end) of (patch group, y).
void Plan::gather_rows(const PlannedOp& op, int begin, int end) {
  const OpDesc& d = *op.desc;
  const TensorLayout& in = qlayouts_[d.inputs[0]];
  const TensorLayout& pl = op.qpatch_layout;
  const std::uint8_t* src = qdata(d.inputs[0]);
  std::uint8_t* dst = static_cast<std::uint8_t*>(arena_.get()) + buffers_[op.qpatch_buffer].offset;
  const std::uint8_t z = static_cast<std::uint8_t>(model_->tensors[d.inputs[0]].zero_point);
  const int taps = d.kernel_h * d.kernel_w;
  const std::ptrdiff_t step = static_cast<std::ptrdiff_t>(d.stride_w) * 4;
  // One group of 4 patch channels at a time, each position's 4 bytes stored as one word; a
  // channel past the last patch channel reads a zero-point byte instead.
  for (int r = begin; r < end; ++r) {
    const int pg = r / pl.height, y = r % pl.height;
    std::uint8_t* plane = dst + pg * pl.channel_stride * 4;
    {
      const std::uint8_t* rows[4];
      std::ptrdiff_t steps[4];
      for (int j = 0; j < 4; ++j) {
        const int pc = 4 * pg + j;
        if (pc >= pl.channels) {
          rows[j] = &z;
          steps[j] = 0;
          continue;
        }
        const int ic = pc / taps, ky = (pc % taps) / d.kernel_w, kx = pc % d.kernel_w;
        const std::ptrdiff_t iy =
            static_cast<std::ptrdiff_t>(y) * d.stride_h - d.pad_top + ky * d.dilation_h;
        rows[j] = src + (ic / 4) * in.channel_stride * 4 + ic % 4 +
                  (iy * in.row_stride + kx * d.dilation_w - d.pad_left) * 4;
        steps[j] = step;
      }
      std::uint8_t* out_row = plane + y * pl.row_stride * 4;
      for (int x = 0; x < pl.width; ++x) {
        const std::uint32_t word = static_cast<std::uint32_t>(rows[0][x * steps[0]]) |
                                   static_cast<std::uint32_t>(rows[1][x * steps[1]]) << 8 |
                                   static_cast<std::uint32_t>(rows[2][x * steps[2]]) << 16 |
                                   static_cast<std::uint32_t>(rows[3][x * steps[3]]) << 24;
        std::memcpy(out_row + x * 4, &word, 4);  // little-endian: channel 4pg + j in byte j
      }
    }
  }
}

void Plan::run_int8_op(PlannedOp& op) {
  const OpDesc& d = *op.desc;
  switch (d.type) {
    case OpType::kConv2D: {
      const std::uint8_t* in = qdata(d.inputs[0]);
      if (op.qpatch_buffer >= 0) {
        gather_patches(op);
        in = static_cast<const std::uint8_t*>(arena_.get()) + buffers_[op.qpatch_buffer].offset;
      }
      QConvTask task{&op, in, qdata(d.output)};
      const int groups = groups_of(d.out_channels);
      if (pool_ && !op.range_bounds.empty())
        pool_->parallel_ranges(op.range_bounds.data(),
                               static_cast<int>(op.range_bounds.size()) - 1, qconv_range, &task);
      else
        qconv_range(&task, 0, groups);
      fill_border(d.output);
      break;
    }
    case OpType::kMaxPool:
    case OpType::kAvgPool:
    case OpType::kGlobalAvgPool: {
      QPoolTask task{&op, qdata(d.inputs[0]), qdata(d.output)};
      parallel_for(pool_.get(), groups_of(qlayouts_[d.output].channels), 1, qpool_range, &task);
      fill_border(d.output);
      break;
    }
    case OpType::kConcat: {
      if (!op.concat_copies) break;
      const TensorLayout& out = qlayouts_[d.output];
      std::uint8_t* dst = qdata(d.output);
      int channel = 0;
      for (int t : d.inputs) {
        const TensorLayout& l = qlayouts_[t];
        const std::uint8_t* src = qdata(t);
        for (int c = 0; c < l.channels; ++c, ++channel)
          for (int y = 0; y < l.height; ++y)
            for (int x = 0; x < l.width; ++x)
              dst[((channel / 4) * out.channel_stride + y * out.row_stride + x) * 4 +
                  channel % 4] =
                  src[((c / 4) * l.channel_stride + y * l.row_stride + x) * 4 + c % 4];
      }
      // Channels past the last real one in the last group.
      for (int c = channel; c % 4 != 0; ++c)
        for (int y = 0; y < out.height; ++y)
          for (int x = 0; x < out.width; ++x)
            dst[((c / 4) * out.channel_stride + y * out.row_stride + x) * 4 + c % 4] =
                static_cast<std::uint8_t>(model_->tensors[d.output].zero_point);
      fill_border(d.output);
      break;
    }
    case OpType::kFullyConnected: {
      // Features in the file's order: (c, y, x) of the input.
      const TensorLayout& l = qlayouts_[d.inputs[0]];
      const std::uint8_t* src = qdata(d.inputs[0]);
      std::uint8_t* in = fc_input_.data();
      for (int c = 0; c < l.channels; ++c)
        for (int y = 0; y < l.height; ++y)
          for (int x = 0; x < l.width; ++x)
            *in++ = src[((c / 4) * l.channel_stride + y * l.row_stride + x) * 4 + c % 4];
      const int features = op.qfc_features;
      const auto* base = static_cast<const std::uint8_t*>(op.packed.get());
      const auto* w = reinterpret_cast<const std::int8_t*>(base);
      const auto* bias = reinterpret_cast<const std::int32_t*>(
          base + round_up(static_cast<std::size_t>(d.out_channels) * features, 64));
      const auto* scale = reinterpret_cast<const float*>(bias + d.out_channels);
      float* dst = tensor_data(d.output);
      for (int o = 0; o < d.out_channels; ++o) {
        const std::int8_t* row = w + static_cast<std::size_t>(o) * features;
        std::int32_t acc = bias[o];
        for (int f = 0; f < features; ++f) acc += static_cast<std::int32_t>(row[f]) * fc_input_[f];
        const float v = static_cast<float>(acc) * scale[o];
        dst[o] = d.relu && v < 0.0f ? 0.0f : v;
      }
      break;
    }
    case OpType::kSoftmax: {
      const TensorLayout& in = layouts_[d.inputs[0]];
      kernels::f32_softmax__scalar(in.channels * in.height * in.width, tensor_data(d.inputs[0]),
                                   tensor_data(d.output), d.beta);
      break;
    }
  }
}

// A quantized graph output, dequantized: scale * (q - zero_point), in (c, y, x) order.
void Plan::dequantize_output(float* data) const {
  const int t = model_->outputs[0];
  const TensorLayout& l = qlayouts_[t];
  const TensorDesc& td = model_->tensors[t];
  const std::uint8_t* src = qdata(t);
  for (int c = 0; c < l.channels; ++c)
    for (int y = 0; y < l.height; ++y)
      for (int x = 0; x < l.width; ++x)
        *data++ = td.scale * static_cast<float>(
                                 static_cast<int>(src[((c / 4) * l.channel_stride +
                                                       y * l.row_stride + x) *
                                                          4 +
                                                      c % 4]) -
                                 td.zero_point);
}

}  // namespace gnrt
