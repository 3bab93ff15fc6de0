#include "plan.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <limits>
#include <map>
#include <new>
#include <utility>

#include "gnrt/half.h"
#include "gnrt/shape_rules.h"

namespace gnrt {

void AlignedFree::operator()(void* p) const { std::free(p); }

namespace {

constexpr std::size_t kAlignment = 64;

constexpr std::size_t round_up(std::size_t value, std::size_t multiple) {
  return (value + multiple - 1) / multiple * multiple;
}

// Slack before the first arena buffer for kernels that read before their input (kernels.h).
constexpr std::size_t kFrontSlack =
    round_up(kernels::kMaxUnderreadFloats * sizeof(float), kAlignment);

AlignedBlock aligned_block(std::size_t bytes) {
  // posix_memalign rather than aligned_alloc: Android's libc has the latter only from API 28.
  void* p = nullptr;
  if (posix_memalign(&p, kAlignment, round_up(std::max<std::size_t>(bytes, 1), kAlignment)) != 0)
    return AlignedBlock();
  return AlignedBlock(p);
}

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

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

}  // namespace

namespace {

// The G = row_stride - width gap floats between row y and row y + 1 (the right border of row y,
// which is also the left border of row y + 1), with a compile-time count for the common gaps: a
// std::fill call per 2-4 floats cost about 3x more (0.65 vs 0.22 ms summed over GoogLeNet at 224,
// docs/kernels.md).
template <int G>
void zero_row_gaps(float* plane, int height, int width, std::ptrdiff_t rs) {
  float* gap = plane + width;
  for (int y = 0; y + 1 < height; ++y, gap += rs)
    for (int i = 0; i < G; ++i) gap[i] = 0.0f;
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

}  // namespace

void zero_border(float* data, const TensorLayout& l, int c_begin, int c_end, bool gaps_zeroed,
                 bool ends_read) {
  const int p = l.pad;
  if (p == 0 || (gaps_zeroed && !ends_read)) return;
  const std::ptrdiff_t rs = l.row_stride;
  const std::ptrdiff_t gap = rs - l.width;
  // Floats of the padded plane after the origin (0, 0) of the interior.
  const std::ptrdiff_t after_origin = l.channel_stride - l.lead - (p * rs + p);
  for (int c = c_begin; c < c_end; ++c) {
    float* plane = data + c * l.channel_stride;
    // Rows -p..-1 and the left border of row 0: one contiguous run.
    std::fill(plane - p * rs - p, plane, 0.0f);
    // Right border of row y and left border of row y + 1: the gap between the rows (unless the
    // producing kernel left zeros there, kernels.h `zeroes_row_gaps`).
    if (!gaps_zeroed) switch (gap) {
        case 2:
          zero_row_gaps<2>(plane, l.height, l.width, rs);
          break;
        case 4:
          zero_row_gaps<4>(plane, l.height, l.width, rs);
          break;
        case 6:
          zero_row_gaps<6>(plane, l.height, l.width, rs);
          break;
        case 8:
          zero_row_gaps<8>(plane, l.height, l.width, rs);
          break;
        default:
          for (int y = 0; y + 1 < l.height; ++y)
            std::fill(plane + y * rs + l.width, plane + (y + 1) * rs, 0.0f);
      }
    // Right border of the last row, rows H..H+p-1 and the rest of the padded plane.
    std::fill(plane + (l.height - 1) * rs + l.width, plane + after_origin, 0.0f);
  }
}

Status Plan::create(const Model& model, const PlanConfig& config, std::unique_ptr<Plan>* out) {
  std::unique_ptr<Plan> plan(new (std::nothrow) Plan());
  if (!plan) return make_error(GNRT_OUT_OF_MEMORY, "out of memory creating a plan");
  plan->model_ = &model;
  plan->config_ = config;
  if (plan->config_.height == 0) plan->config_.height = model.default_height;
  if (plan->config_.width == 0) plan->config_.width = model.default_width;
  if (config.threads < 1 || config.threads > 256)
    return make_error(GNRT_INVALID_ARGUMENT,
                      "num_threads must be in [1, 256], got " + std::to_string(config.threads));
  if (plan->config_.height < 1 || plan->config_.height > kMaxSpatial || plan->config_.width < 1 ||
      plan->config_.width > kMaxSpatial)
    return make_error(GNRT_INVALID_ARGUMENT, "input size " + std::to_string(plan->config_.height) +
                                                 "x" + std::to_string(plan->config_.width) +
                                                 " out of range [1, " +
                                                 std::to_string(kMaxSpatial) + "]");
  plan->isa_ = config.force_reference ? kernels::Isa::kScalar : kernels::detect_isa();
  if (Status s = plan->infer_shapes(); !s.ok()) return s;
  if (Status s = plan->assign_layouts(); !s.ok()) return s;
  if (Status s = plan->prepare_operators(); !s.ok()) return s;
  // Before the arena is placed: a fused convolution's output buffer shrinks to its band.
  if (!config.force_reference) plan->fuse_conv_pool();
  plan->mark_border_readers();
  if (Status s = plan->allocate_arena(); !s.ok()) return s;
  if (config.threads > 1) {
    plan->pool_.reset(new (std::nothrow) ThreadPool(config.threads));
    if (!plan->pool_)
      return make_error(GNRT_OUT_OF_MEMORY, "out of memory creating the thread pool");
  }
  *out = std::move(plan);
  return Status::Ok();
}

Status Plan::infer_shapes() {
  const Model& m = *model_;
  heights_.assign(m.tensors.size(), 0);
  widths_.assign(m.tensors.size(), 0);
  heights_[m.input] = config_.height;
  widths_[m.input] = config_.width;
  for (const OpDesc& d : m.ops) {
    const int in = d.inputs[0];
    std::int64_t h = 0, w = 0;
    const std::int64_t ih = heights_[in], iw = widths_[in];
    switch (d.type) {
      case OpType::kConv2D:
        h = shape_rules::conv_out(ih, d.kernel_h, d.stride_h, d.pad_top, d.pad_bottom,
                                  d.dilation_h);
        w = shape_rules::conv_out(iw, d.kernel_w, d.stride_w, d.pad_left, d.pad_right,
                                  d.dilation_w);
        break;
      case OpType::kMaxPool:
      case OpType::kAvgPool:
        h = shape_rules::pool_out(ih, d.kernel_h, d.stride_h, d.pad_top, d.pad_bottom, d.ceil_mode);
        w = shape_rules::pool_out(iw, d.kernel_w, d.stride_w, d.pad_left, d.pad_right, d.ceil_mode);
        break;
      case OpType::kGlobalAvgPool:
      case OpType::kFullyConnected:
        h = w = 1;
        break;
      case OpType::kConcat:
        h = ih;
        w = iw;
        for (int t : d.inputs)
          if (heights_[t] != ih || widths_[t] != iw)
            return make_error(GNRT_INVALID_ARGUMENT,
                              "operator '" + d.name + "': at input size " +
                                  std::to_string(config_.height) + "x" +
                                  std::to_string(config_.width) +
                                  " the concatenated inputs differ in height/width");
        break;
      case OpType::kSoftmax:
        h = ih;
        w = iw;
        break;
    }
    if (h < 1 || w < 1)
      return make_error(GNRT_INVALID_ARGUMENT,
                        "input size " + std::to_string(config_.height) + "x" +
                            std::to_string(config_.width) + " is too small: operator '" + d.name +
                            "' gets a " + std::to_string(ih) + "x" + std::to_string(iw) + " input");
    if (d.type == OpType::kFullyConnected) {
      const std::int64_t features = static_cast<std::int64_t>(m.tensors[in].channels) * ih * iw;
      if (features != d.weights.row_length)
        return make_error(GNRT_INVALID_ARGUMENT,
                          "input size " + std::to_string(config_.height) + "x" +
                              std::to_string(config_.width) + " does not fit operator '" + d.name +
                              "': it expects " + std::to_string(d.weights.row_length) +
                              " features, gets " + std::to_string(features));
    }
    heights_[d.output] = static_cast<int>(h);
    widths_[d.output] = static_cast<int>(w);

    // Work of this operator (double: the factors can overflow 64 bits before the cap is hit).
    const double in_c = m.tensors[in].channels, out_c = m.tensors[d.output].channels;
    double work = 0;
    switch (d.type) {
      case OpType::kConv2D:
        work = out_c * h * w * (in_c / std::max(1, d.groups)) * d.kernel_h * d.kernel_w;
        break;
      case OpType::kMaxPool:
      case OpType::kAvgPool:
        work = out_c * h * w * d.kernel_h * d.kernel_w;
        break;
      case OpType::kGlobalAvgPool:
        work = in_c * static_cast<double>(ih) * iw;
        break;
      case OpType::kFullyConnected:
        work = static_cast<double>(d.weights.row_length) * d.out_channels;
        break;
      case OpType::kConcat:
      case OpType::kSoftmax:
        work = out_c * h * w;
        break;
    }
    const double total = static_cast<double>(macs_) + work;
    if (total > static_cast<double>(config_.max_macs))
      return make_error(
          GNRT_RESOURCE_LIMIT,
          "at input size " + std::to_string(config_.height) + "x" + std::to_string(config_.width) +
              " one run needs more than max_macs (" + std::to_string(config_.max_macs) +
              ") multiply-adds and pooling taps (reached at operator '" + d.name + "')");
    macs_ = static_cast<std::uint64_t>(total);
  }
  return Status::Ok();
}

namespace {

// Channel stride of `height` rows of `rs` floats with a zero border of `pad` and `lead` floats in
// front: p more floats than the rows (the bottom-right tap of the last row reaches p columns past
// the last interior column of row H - 1 + p, which with shared borders is p floats past it),
// rounded up to 16 floats (64 bytes).
std::uint64_t channel_stride_of(std::uint64_t height, std::uint64_t rs, int pad,
                                std::uint64_t lead) {
  const std::uint64_t floats = (height + 2 * static_cast<std::uint64_t>(pad)) * rs + pad + lead;
  return floats < 16 ? floats : round_up(floats, 16);
}

}  // namespace

// Row stride of a plane of `width` columns with a zero border of `pad`: width + pad, because the
// right border of row y is also the left border of row y + 1 (a tap pad columns left of column 0
// reads the end of the previous row). On AVX-512 it is rounded up to a multiple of 16 floats when
// that costs at most 1/8 more columns (GoogLeNet at 224: 56 -> 64, 28 -> 32, 14 -> 16; not 7 or
// 112): every output vector of a flat run and every load of a tap whose column offset is 0 are
// then aligned, and the shifted-accumulator kernels make the other taps aligned too
// (docs/kernels.md, "Row strides").
std::uint64_t Plan::row_stride_for(int width, int pad) const {
  const std::uint64_t rs = static_cast<std::uint64_t>(width) + pad;
  if (pad == 0 || isa_ != kernels::Isa::kAvx512) return rs;
  const std::uint64_t rounded = round_up(rs, 16);
  return (rounded - rs) * 8 <= rs ? rounded : rs;
}

Status Plan::assign_layouts() {
  const Model& m = *model_;
  const std::size_t n = m.tensors.size();
  layouts_.assign(n, TensorLayout{});

  // Zero border each tensor needs for its consumers, then the same border for every tensor of
  // one spatial size, so that stride-1 convolutions see identical input and output strides.
  std::vector<int> need(n, 0);
  for (const OpDesc& d : m.ops) {
    if (d.type == OpType::kConv2D || d.type == OpType::kMaxPool || d.type == OpType::kAvgPool) {
      const int p = std::max(std::max(d.pad_top, d.pad_bottom), std::max(d.pad_left, d.pad_right));
      need[d.inputs[0]] = std::max(need[d.inputs[0]], p);
    }
  }
  std::map<std::pair<int, int>, int> pad_of_size;
  for (std::size_t t = 0; t < n; ++t) {
    if (heights_[t] == 0) continue;  // never computed (unused tensor)
    int& p = pad_of_size[{heights_[t], widths_[t]}];
    p = std::max(p, need[t]);
  }

  // Concatenation without copies: each input of a concat becomes a channel slice of the
  // output when it is produced by an operator and feeds no other concat. Outer concats first so
  // that nested concats resolve to the outermost buffer.
  std::vector<int> alias_parent(n, -1), alias_channel(n, 0);
  for (std::size_t k = m.ops.size(); k-- > 0;) {
    const OpDesc& d = m.ops[k];
    if (d.type != OpType::kConcat) continue;
    bool can_alias = true;
    for (int t : d.inputs)
      if (t == m.input || alias_parent[t] != -1 || t == d.output) can_alias = false;
    if (!can_alias) continue;
    int channel = 0;
    for (int t : d.inputs) {
      alias_parent[t] = d.output;
      alias_channel[t] = channel;
      channel += m.tensors[t].channels;
    }
  }
  auto root_of = [&](int t, int* channel) {
    *channel = 0;
    while (alias_parent[t] != -1) {
      *channel += alias_channel[t];
      t = alias_parent[t];
    }
    return t;
  };

  // Buffers for root tensors.
  std::vector<int> buffer_of(n, -1);
  const int steps = static_cast<int>(m.ops.size());
  for (std::size_t t = 0; t < n; ++t) {
    if (heights_[t] == 0) continue;
    int channel = 0;
    const int root = root_of(static_cast<int>(t), &channel);
    TensorLayout& l = layouts_[t];
    l.channels = m.tensors[t].channels;
    l.height = heights_[t];
    l.width = widths_[t];
    l.pad = pad_of_size[{l.height, l.width}];
    const std::uint64_t rs = row_stride_for(l.width, l.pad);
    // `lead` floats before each padded plane put the interior origin (0, 0) on a 64-byte
    // boundary (buffers and channel strides are multiples of 64 bytes): every 1x1 tap and every
    // vector of a flat run is then aligned, and with a row stride of 16k floats every row too.
    // (7x7 maps, row stride 9: the 1x1 layers of inception 5 ran 0.233 -> 0.218 ms in total.)
    const std::uint64_t lead = (16 - (l.pad * rs + l.pad) % 16) % 16;
    const std::uint64_t cs = channel_stride_of(l.height, rs, l.pad, lead);
    l.lead = static_cast<int>(lead);
    l.row_stride = static_cast<std::ptrdiff_t>(rs);
    l.channel_stride = static_cast<std::ptrdiff_t>(cs);
    if (static_cast<int>(t) == root) {
      const std::uint64_t bytes = static_cast<std::uint64_t>(l.channels) * cs * sizeof(float);
      if (bytes > config_.max_arena_bytes)
        return make_error(GNRT_RESOURCE_LIMIT, "tensor '" + m.tensors[t].name + "' needs " +
                                                   std::to_string(bytes) +
                                                   " bytes, more than max_arena_bytes (" +
                                                   std::to_string(config_.max_arena_bytes) + ")");
      ArenaBuffer b;
      b.bytes = round_up(static_cast<std::size_t>(bytes), kAlignment);
      b.first = m.tensors[t].producer;  // -1 for the graph input
      b.last = b.first;
      b.what = m.tensors[t].name;
      buffer_of[t] = static_cast<int>(buffers_.size());
      buffers_.push_back(b);
    }
    l.offset = static_cast<std::ptrdiff_t>(channel) * l.channel_stride + l.lead +
               l.pad * l.row_stride + l.pad;
  }
  for (std::size_t t = 0; t < n; ++t) {
    if (heights_[t] == 0) continue;
    int channel = 0;
    layouts_[t].buffer = buffer_of[root_of(static_cast<int>(t), &channel)];
  }
  // Lifetimes: from the earliest producer of any slice to the last reader of any slice.
  for (std::size_t t = 0; t < n; ++t) {
    if (heights_[t] == 0) continue;
    ArenaBuffer& b = buffers_[layouts_[t].buffer];
    b.first = std::min(b.first, m.tensors[t].producer);
  }
  for (int k = 0; k < steps; ++k)
    for (int t : m.ops[k].inputs)
      buffers_[layouts_[t].buffer].last = std::max(buffers_[layouts_[t].buffer].last, k);
  for (int t : m.outputs) buffers_[layouts_[t].buffer].last = steps;
  // The input stays reserved for the whole run: gnrt_plan_run runs on "the current input", so a
  // second run without a new set_input must see the same values (found by fuzz/fuzz_model).
  buffers_[layouts_[m.input].buffer].last = steps;

  // Scratch for FullyConnected / Softmax when their input or output is not contiguous, and for
  // concatenations that must copy.
  ops_.resize(m.ops.size());
  for (int k = 0; k < steps; ++k) {
    const OpDesc& d = m.ops[k];
    PlannedOp& op = ops_[k];
    op.desc = &d;
    if (d.type == OpType::kConcat) {
      op.concat_copies = alias_parent[d.inputs[0]] != d.output;
      continue;
    }
    if (d.type != OpType::kFullyConnected && d.type != OpType::kSoftmax) continue;
    const TensorLayout& in = layouts_[d.inputs[0]];
    const TensorLayout& out = layouts_[d.output];
    auto add_scratch = [&](std::uint64_t floats, const char* what) {
      ArenaBuffer b;
      b.bytes = round_up(static_cast<std::size_t>(floats * sizeof(float)), kAlignment);
      b.first = b.last = k;
      b.what = d.name + what;
      buffers_.push_back(b);
      return static_cast<int>(buffers_.size() - 1);
    };
    if (!in.contiguous())
      op.scratch_in =
          add_scratch(static_cast<std::uint64_t>(in.channels) * in.height * in.width, ":input");
    if (!out.contiguous())
      op.scratch_out =
          add_scratch(static_cast<std::uint64_t>(out.channels) * out.height * out.width, ":output");
  }
  return Status::Ok();
}

Status Plan::allocate_arena() {
  // Greedy by size (as TFLite's planner): largest buffers first, each at the lowest offset that
  // does not overlap a placed buffer whose lifetime intersects its own.
  std::vector<int> order(buffers_.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return buffers_[a].bytes > buffers_[b].bytes; });
  std::vector<int> placed;
  std::vector<std::pair<std::size_t, std::size_t>> busy;
  std::size_t total = 0;
  for (int i : order) {
    ArenaBuffer& b = buffers_[i];
    busy.clear();
    for (int j : placed) {
      const ArenaBuffer& o = buffers_[j];
      if (o.first <= b.last && b.first <= o.last) busy.emplace_back(o.offset, o.offset + o.bytes);
    }
    std::sort(busy.begin(), busy.end());
    std::size_t offset = kFrontSlack;
    for (const auto& r : busy) {
      if (r.first >= offset + b.bytes) break;
      offset = std::max(offset, r.second);
    }
    b.offset = offset;
    placed.push_back(i);
    total = std::max(total, offset + b.bytes);
    if (total > config_.max_arena_bytes)
      return make_error(GNRT_RESOURCE_LIMIT,
                        "the plan needs more than max_arena_bytes (" +
                            std::to_string(config_.max_arena_bytes) + ") of activations at " +
                            std::to_string(config_.height) + "x" + std::to_string(config_.width));
  }
  // Slack after the last buffer for kernels that over-read (see kernels.h).
  arena_bytes_ = total + round_up(kernels::kMaxOverreadFloats * sizeof(float), kAlignment);
  arena_ = aligned_block(arena_bytes_);
  if (!arena_)
    return make_error(GNRT_OUT_OF_MEMORY,
                      "cannot allocate a " + std::to_string(arena_bytes_) + "-byte arena");
  // Deterministic contents (the border rule makes this unnecessary for correctness, but it keeps
  // over-reads of never-written slack finite).
  std::memset(arena_.get(), 0, arena_bytes_);
  return Status::Ok();
}

float* Plan::tensor_data(int tensor) {
  const TensorLayout& l = layouts_[tensor];
  return static_cast<float*>(arena_.get()) + buffers_[l.buffer].offset / sizeof(float) + l.offset;
}

const float* Plan::tensor_data(int tensor) const {
  const TensorLayout& l = layouts_[tensor];
  return static_cast<const float*>(arena_.get()) + buffers_[l.buffer].offset / sizeof(float) +
         l.offset;
}

Status Plan::prepare_operators() {
  const Model& m = *model_;
  // Which tensors can only hold values >= 0 (lets max pooling read the zero border).
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
  for (std::size_t k = 0; k < m.ops.size(); ++k) {
    const OpDesc& d = m.ops[k];
    PlannedOp& op = ops_[k];
    const TensorLayout& in = layouts_[d.inputs[0]];
    const TensorLayout& out = layouts_[d.output];
    switch (d.type) {
      case OpType::kConv2D: {
        ExpandedWeights w;
        expand_weights(d.weights, &w);
        kernels::ConvProblem& p = op.conv;
        p.geometry = {in.channels, in.height,  in.width,     out.channels, out.height,
                      out.width,   d.kernel_h, d.kernel_w,   d.stride_h,   d.stride_w,
                      d.pad_top,   d.pad_left, d.dilation_h, d.dilation_w, d.groups};
        p.in_row_stride = in.row_stride;
        p.in_channel_stride = in.channel_stride;
        p.in_pad = in.pad;
        p.out_row_stride = out.row_stride;
        p.out_channel_stride = out.channel_stride;
        p.out_pad = out.pad;
        p.activation = activation_of(d);
        p.dense_weights = w.dense;
        p.sparse = w.sparse;
        p.bias = d.bias;
        p.nonzeros = d.weights.nonzeros;
        op.conv_kernel = kernels::select_conv_kernel(p, isa_, config_.force_reference);
        if (weight_bytes_ + op.conv_kernel.packed_bytes > config_.max_arena_bytes)
          return make_error(GNRT_RESOURCE_LIMIT,
                            "operator '" + d.name + "': packed weights exceed max_arena_bytes");
        op.packed = aligned_block(op.conv_kernel.packed_bytes);
        if (!op.packed)
          return make_error(GNRT_OUT_OF_MEMORY,
                            "operator '" + d.name + "': cannot allocate weights");
        op.conv_kernel.pack(p, op.packed.get());
        weight_bytes_ += op.conv_kernel.packed_bytes;
        if (config_.threads > 1 && op.conv_kernel.sparse && w.sparse.row_begin != nullptr)
          op.range_bounds = balanced_ranges(w.sparse.row_begin, out.channels, config_.threads);
        // Plan-time pointers die with `w`; run() only uses the packed copy.
        p.dense_weights = nullptr;
        p.sparse = {nullptr, nullptr, nullptr};
        p.bias = nullptr;
        op.kernel_name = op.conv_kernel.name;
        break;
      }
      case OpType::kFullyConnected: {
        ExpandedWeights w;
        expand_weights(d.weights, &w);
        kernels::FcProblem& p = op.fc;
        p.in_features = d.weights.row_length;
        p.out_features = d.out_channels;
        p.activation = activation_of(d);
        p.dense_weights = w.dense;
        p.sparse = w.sparse;
        p.bias = d.bias;
        p.nonzeros = d.weights.nonzeros;
        op.fc_kernel = kernels::select_fc_kernel(p, isa_, config_.force_reference);
        if (weight_bytes_ + op.fc_kernel.packed_bytes > config_.max_arena_bytes)
          return make_error(GNRT_RESOURCE_LIMIT,
                            "operator '" + d.name + "': packed weights exceed max_arena_bytes");
        op.packed = aligned_block(op.fc_kernel.packed_bytes);
        if (!op.packed)
          return make_error(GNRT_OUT_OF_MEMORY,
                            "operator '" + d.name + "': cannot allocate weights");
        op.fc_kernel.pack(p, op.packed.get());
        weight_bytes_ += op.fc_kernel.packed_bytes;
        p.dense_weights = nullptr;
        p.sparse = {nullptr, nullptr, nullptr};
        p.bias = nullptr;
        op.kernel_name = op.fc_kernel.name;
        break;
      }
      case OpType::kMaxPool:
      case OpType::kAvgPool:
      case OpType::kGlobalAvgPool: {
        kernels::PoolProblem& p = op.pool;
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
        p.input_nonnegative = nonnegative[d.inputs[0]];
        p.in_row_stride = in.row_stride;
        p.in_channel_stride = in.channel_stride;
        p.in_pad = in.pad;
        p.out_row_stride = out.row_stride;
        p.out_channel_stride = out.channel_stride;
        p.out_pad = out.pad;
        p.activation = activation_of(d);
        op.pool_kernel = kernels::select_pool_kernel(p, isa_, config_.force_reference);
        op.kernel_name = op.pool_kernel.name;
        break;
      }
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

namespace {

// Rows of the convolution's output that pool rows [r0, r1) read: [lo, hi), clipped to the plane.
struct BandRows {
  int lo, hi;
};
BandRows conv_rows_for(const kernels::PoolGeometry& g, int conv_height, int r0, int r1) {
  const int lo = std::max(0, r0 * g.stride_h - g.pad_top);
  const int hi = std::min(conv_height, (r1 - 1) * g.stride_h - g.pad_top + g.kernel_h);
  return {lo, hi};
}

// The pool problem for output rows [r0, r1) reading conv rows [lo, hi) from a band laid out as
// `band` (row lo at the band's origin).
kernels::PoolProblem band_pool_problem(const kernels::PoolProblem& full, const TensorLayout& band,
                                       int r0, int r1, BandRows rows) {
  kernels::PoolProblem p = full;
  kernels::PoolGeometry& g = p.geometry;
  g.in_height = rows.hi - rows.lo;
  g.out_height = r1 - r0;
  g.pad_top = rows.lo - (r0 * full.geometry.stride_h - full.geometry.pad_top);
  p.pad_bottom = std::max(0, (r1 - 1) * g.stride_h - g.pad_top + g.kernel_h - g.in_height);
  p.in_row_stride = band.row_stride;
  p.in_channel_stride = band.channel_stride;
  p.in_pad = band.pad;
  return p;
}

}  // namespace

// A convolution whose output only a max pool reads runs in row bands: for each band of pool
// output rows it computes the convolution rows the band needs (the rows shared with the
// previous band are carried over, never recomputed) into a small buffer, zeroes that buffer's
// border, and pools from it. GoogLeNet's stem and conv3 write 3.2 MB and 2.9 MB of output that
// the next pool reads once; in bands that traffic stays in L2. The band problems must be
// supported by the same pool kernel as the whole problem (checked here), else no fusion.
void Plan::fuse_conv_pool() {
  const Model& m = *model_;
  std::vector<int> readers(m.tensors.size(), 0);
  for (const OpDesc& d : m.ops)
    for (int t : d.inputs) ++readers[t];
  for (int t : m.outputs) readers[t] += 2;
  const std::size_t kBandBytes = config_.fusion_band_bytes;
  constexpr double kMaxFusedWorkPerOutput = 16;
  for (std::size_t k = 0; k + 1 < m.ops.size(); ++k) {
    const OpDesc& conv = m.ops[k];
    const OpDesc& pool = m.ops[k + 1];
    if (conv.type != OpType::kConv2D || pool.type != OpType::kMaxPool) continue;
    if (pool.inputs[0] != conv.output || readers[conv.output] != 1) continue;
    PlannedOp& cop = ops_[k];
    PlannedOp& pop = ops_[k + 1];
    const std::string pool_name = pop.pool_kernel.name;
    if (pool_name.find("__scalar") != std::string::npos) continue;
    // Only light convolutions, whose time goes into writing their output: the sparse stem (9
    // multiply-adds per output at 1/16 density) ran 0.88 -> 0.63 ms with its pool at 224x224;
    // conv3 (36 per output) ran 0.94 -> 1.07 ms, the band overheads outweighing the traffic.
    // Strided convolutions are computed row by row anyway (phase buffers), so bands cost them
    // nothing: the stem at density 0.47 (70 per output) ran 1.00 -> 0.76 ms with its pool.
    const double work_per_output =
        static_cast<double>(cop.conv.nonzeros) / std::max(1, cop.conv.geometry.out_channels);
    const bool strided = cop.conv.geometry.stride_h > 1 || cop.conv.geometry.stride_w > 1;
    if (work_per_output > kMaxFusedWorkPerOutput && !strided) continue;
    const TensorLayout& out = layouts_[conv.output];
    const kernels::PoolGeometry& pg = pop.pool.geometry;
    if (pg.stride_h < 1 || out.pad < 1) continue;
    // The band's rows: for a strided convolution a multiple of 16 floats, so that with the
    // interior origin on a 64-byte boundary every row starts on one (the pool's aligned loads,
    // the convolution's aligned stores; the stem's 112-wide rows would otherwise start
    // anywhere, row stride 113). Strided kernels store row by row and take any output row
    // stride; a stride-1 kernel may need equal input and output strides (s1g), so those keep
    // the output's.
    const std::uint64_t rs = strided ? round_up(static_cast<std::uint64_t>(out.width) + out.pad, 16)
                                     : static_cast<std::uint64_t>(out.row_stride);
    const std::uint64_t lead = (16 - (out.pad * rs + out.pad) % 16) % 16;
    // Band height in pool rows: the buffer (all channels) within kBandBytes.
    int band_rows = 0;
    for (int r = 1; r <= pg.out_height; ++r) {
      const std::uint64_t conv_rows = static_cast<std::uint64_t>(r) * pg.stride_h + pg.kernel_h;
      const std::uint64_t cs = channel_stride_of(conv_rows, rs, out.pad, lead);
      if (static_cast<std::uint64_t>(out.channels) * cs * sizeof(float) > kBandBytes && r > 1)
        break;
      band_rows = r;
    }
    if (band_rows < 1 || band_rows >= pg.out_height) continue;
    // The band: the output's layout (border) with fewer rows, row stride rs, at channel 0.
    TensorLayout band = out;
    band.height = band_rows * pg.stride_h + pg.kernel_h;  // most conv rows one band holds
    band.row_stride = static_cast<std::ptrdiff_t>(rs);
    band.lead = static_cast<int>(lead);
    band.channel_stride =
        static_cast<std::ptrdiff_t>(channel_stride_of(band.height, rs, out.pad, lead));
    band.offset = static_cast<std::ptrdiff_t>(lead + out.pad * rs + out.pad);
    band.buffer = -1;
    // Every band shape must run on the same pool kernel.
    bool ok = true;
    for (int r0 = 0; r0 < pg.out_height && ok; r0 += band_rows) {
      const int r1 = std::min(pg.out_height, r0 + band_rows);
      const BandRows rows = conv_rows_for(pg, out.height, r0, r1);
      if (rows.hi - rows.lo > band.height || rows.hi <= rows.lo) ok = false;
      TensorLayout shape = band;
      shape.height = rows.hi - rows.lo;
      const kernels::PoolProblem bp = band_pool_problem(pop.pool, shape, r0, r1, rows);
      ok = ok && pool_name == kernels::select_pool_kernel(bp, isa_, false).name;
    }
    if (!ok) continue;
    // The band replaces the arena buffer of the convolution's output, which nothing else reads
    // and whose lifetime is exactly these two steps.
    const std::size_t bytes =
        round_up((static_cast<std::size_t>(out.channels) * band.channel_stride +
                  kernels::kMaxOverreadFloats) *
                     sizeof(float),
                 kAlignment);
    if (bytes > buffers_[out.buffer].bytes) continue;
    buffers_[out.buffer].bytes = bytes;
    cop.band_buffer = out.buffer;
    cop.band_layout = band;
    cop.band_rows = band_rows;
    cop.fused_pool = static_cast<int>(k + 1);
    pop.fused_into = static_cast<int>(k);
    ++k;  // the pool is taken
  }
}

// A tensor's border rows (above and below the interior of each plane, with the left border of
// row 0 and the right border of the last row) need re-zeroing after its producer only when a
// consumer reads them: a convolution with padding, a pooling kernel that says so
// (PoolKernel::reads_border_rows). 1x1 convolutions without padding, fully connected layers,
// concatenation copies and get_output read interior elements only. Concatenation slices share
// their output's buffer, so the flag is per buffer. With the x86 kernels this leaves the outputs
// of the inception modules (read by 1x1 convolutions and lane-shift max pools) without any
// border writes after their kernels.
void Plan::mark_border_readers() {
  const Model& m = *model_;
  std::vector<char> read(buffers_.size(), 0);
  auto mark = [&](int t) {
    if (layouts_[t].buffer >= 0) read[static_cast<std::size_t>(layouts_[t].buffer)] = 1;
  };
  for (std::size_t k = 0; k < m.ops.size(); ++k) {
    const OpDesc& d = m.ops[k];
    const PlannedOp& op = ops_[k];
    switch (d.type) {
      case OpType::kConv2D:
        if (d.pad_top > 0 || d.pad_bottom > 0 || d.pad_left > 0 || d.pad_right > 0)
          mark(d.inputs[0]);
        break;
      case OpType::kMaxPool:
      case OpType::kAvgPool:
      case OpType::kGlobalAvgPool:
        if (op.fused_into < 0 && op.pool_kernel.reads_border_rows) mark(d.inputs[0]);
        break;
      case OpType::kConcat:
      case OpType::kFullyConnected:
      case OpType::kSoftmax:
        break;
    }
  }
  for (std::size_t k = 0; k < m.ops.size(); ++k) {
    const int b = layouts_[m.ops[k].output].buffer;
    ops_[k].out_border_read = b < 0 || read[static_cast<std::size_t>(b)] != 0;
  }
}

void Plan::zero_input_border() {
  const int t = model_->input;
  zero_border(tensor_data(t), layouts_[t], 0, layouts_[t].channels);
}

Status Plan::set_input(const float* data, std::size_t count) {
  const TensorLayout& l = layouts_[model_->input];
  const std::size_t expected = static_cast<std::size_t>(l.channels) * l.height * l.width;
  if (!data) return make_error(GNRT_INVALID_ARGUMENT, "input data is NULL");
  if (count != expected)
    return make_error(GNRT_INVALID_ARGUMENT,
                      "input has " + std::to_string(count) + " floats, expected " +
                          std::to_string(expected) + " (" + std::to_string(l.channels) + "x" +
                          std::to_string(l.height) + "x" + std::to_string(l.width) + ")");
  float* dst = tensor_data(model_->input);
  for (int c = 0; c < l.channels; ++c)
    for (int y = 0; y < l.height; ++y)
      std::memcpy(dst + c * l.channel_stride + y * l.row_stride,
                  data + (static_cast<std::size_t>(c) * l.height + y) * l.width,
                  sizeof(float) * l.width);
  zero_input_border();
  input_set_ = true;
  return Status::Ok();
}

namespace {

// Copies between a planar layout and a contiguous CHW array.
void gather(const float* src, const TensorLayout& l, float* dst) {
  for (int c = 0; c < l.channels; ++c)
    for (int y = 0; y < l.height; ++y)
      std::memcpy(dst + (static_cast<std::size_t>(c) * l.height + y) * l.width,
                  src + c * l.channel_stride + y * l.row_stride, sizeof(float) * l.width);
}

void scatter(const float* src, const TensorLayout& l, float* dst) {
  for (int c = 0; c < l.channels; ++c)
    for (int y = 0; y < l.height; ++y)
      std::memcpy(dst + c * l.channel_stride + y * l.row_stride,
                  src + (static_cast<std::size_t>(c) * l.height + y) * l.width,
                  sizeof(float) * l.width);
  zero_border(dst, l, 0, l.channels);
}

struct ConvTask {
  const PlannedOp* op;
  const float* input;
  float* output;
  const TensorLayout* out_layout;
};

void conv_range(void* context, int begin, int end) {
  const ConvTask& t = *static_cast<const ConvTask*>(context);
  t.op->conv_kernel.run(t.op->conv, t.op->packed.get(), t.input, t.output, begin, end);
  zero_border(t.output, *t.out_layout, begin, end, t.op->conv_kernel.zeroes_row_gaps,
              t.op->out_border_read);
}

struct FcTask {
  const PlannedOp* op;
  const float* input;
  float* output;
};

void fc_range(void* context, int begin, int end) {
  const FcTask& t = *static_cast<const FcTask*>(context);
  t.op->fc_kernel.run(t.op->fc, t.op->packed.get(), t.input, t.output, begin, end);
}

struct PoolTask {
  const PlannedOp* op;
  const float* input;
  float* output;
  const TensorLayout* out_layout;
};

void pool_range(void* context, int begin, int end) {
  const PoolTask& t = *static_cast<const PoolTask*>(context);
  t.op->pool_kernel.run(t.op->pool, t.input, t.output, begin, end);
  zero_border(t.output, *t.out_layout, begin, end, t.op->pool_kernel.zeroes_row_gaps,
              t.op->out_border_read);
}

struct BandTask {
  const PlannedOp* conv;
  const PlannedOp* pool;
  const float* input;              // the convolution's input
  float* output;                   // the pool's output
  const TensorLayout* out_layout;  // the pool's output layout
  float* band;                     // the band buffer (in the arena)
};

// Channels [begin, end) of a fused convolution + max pool (Plan::fuse_conv_pool), band by band.
void band_range(void* context, int begin, int end) {
  const BandTask& t = *static_cast<const BandTask*>(context);
  const PlannedOp& c = *t.conv;
  const kernels::PoolGeometry& pg = t.pool->pool.geometry;
  const int conv_height = c.conv.geometry.out_height;
  const TensorLayout& band = c.band_layout;
  float* origin = t.band + band.offset;
  const std::ptrdiff_t rs = band.row_stride;
  const std::ptrdiff_t cs = band.channel_stride;
  int done_lo = 0, done_hi = 0;  // conv rows held in the band, row done_lo at the origin
  for (int r0 = 0; r0 < pg.out_height; r0 += c.band_rows) {
    const int r1 = std::min(pg.out_height, r0 + c.band_rows);
    const BandRows rows = conv_rows_for(pg, conv_height, r0, r1);
    // Carry the rows the previous band computed and this one needs to the band's start.
    int first_new = rows.lo;
    if (done_hi > rows.lo) {
      if (rows.lo > done_lo) {
        const std::ptrdiff_t shift = static_cast<std::ptrdiff_t>(rows.lo - done_lo) * rs;
        const std::size_t floats = static_cast<std::size_t>(done_hi - rows.lo) * rs;
        for (int ch = begin; ch < end; ++ch) {
          float* plane = origin + ch * cs;
          std::memmove(plane, plane + shift, floats * sizeof(float));
        }
      }
      first_new = done_hi;
    }
    if (rows.hi > first_new) {
      kernels::ConvProblem p = c.conv;
      p.geometry.out_height = rows.hi - first_new;
      p.out_row_stride = rs;
      p.out_channel_stride = cs;
      const float* in =
          t.input + static_cast<std::ptrdiff_t>(first_new) * p.geometry.stride_h * p.in_row_stride;
      float* out = origin + static_cast<std::ptrdiff_t>(first_new - rows.lo) * rs;
      c.conv_kernel.run(p, c.packed.get(), in, out, begin, end);
    }
    done_lo = rows.lo;
    done_hi = rows.hi;
    TensorLayout shape = band;
    shape.height = rows.hi - rows.lo;
    zero_border(origin, shape, begin, end, c.conv_kernel.zeroes_row_gaps,
                t.pool->pool_kernel.reads_border_rows);
    const kernels::PoolProblem bp = band_pool_problem(t.pool->pool, shape, r0, r1, rows);
    t.pool->pool_kernel.run(bp, origin,
                            t.output + static_cast<std::ptrdiff_t>(r0) * t.out_layout->row_stride,
                            begin, end);
  }
  zero_border(t.output, *t.out_layout, begin, end, t.pool->pool_kernel.zeroes_row_gaps,
              t.pool->out_border_read);
}

}  // namespace

void Plan::run_op(PlannedOp& op) {
  const OpDesc& d = *op.desc;
  const TensorLayout& in = layouts_[d.inputs[0]];
  const TensorLayout& out = layouts_[d.output];
  float* arena = static_cast<float*>(arena_.get());
  auto scratch = [&](int buffer) { return arena + buffers_[buffer].offset / sizeof(float); };
  auto parallel = [&](int count, int grain, ThreadPool::RangeFn fn, void* ctx) {
    if (pool_)
      pool_->parallel_for(count, grain, fn, ctx);
    else
      fn(ctx, 0, count);
  };
  // A convolution's output channels over the threads: balanced ranges when planned, else by count.
  auto parallel_channels = [&](ThreadPool::RangeFn fn, void* ctx) {
    if (pool_ && !op.range_bounds.empty()) {
      pool_->parallel_ranges(op.range_bounds.data(), static_cast<int>(op.range_bounds.size()) - 1,
                             fn, ctx);
    } else {
      parallel(out.channels, 1, fn, ctx);
    }
  };
  if (op.fused_into >= 0) return;  // ran inside its convolution's bands
  if (op.fused_pool >= 0) {
    const PlannedOp& pool = ops_[op.fused_pool];
    const OpDesc& pd = *pool.desc;
    BandTask task{&op,
                  &pool,
                  tensor_data(d.inputs[0]),
                  tensor_data(pd.output),
                  &layouts_[pd.output],
                  arena + buffers_[op.band_buffer].offset / sizeof(float)};
    parallel_channels(band_range, &task);
    return;
  }
  switch (d.type) {
    case OpType::kConv2D: {
      ConvTask task{&op, tensor_data(d.inputs[0]), tensor_data(d.output), &out};
      parallel_channels(conv_range, &task);
      break;
    }
    case OpType::kMaxPool:
    case OpType::kAvgPool:
    case OpType::kGlobalAvgPool: {
      // A global pool writes output[c * channel_stride]: the interior element of each 1x1 plane.
      PoolTask task{&op, tensor_data(d.inputs[0]), tensor_data(d.output), &out};
      parallel(out.channels, d.type == OpType::kGlobalAvgPool ? 16 : 1, pool_range, &task);
      break;
    }
    case OpType::kConcat: {
      if (!op.concat_copies) break;
      float* dst = tensor_data(d.output);
      int channel = 0;
      for (int t : d.inputs) {
        const TensorLayout& l = layouts_[t];
        const float* src = tensor_data(t);
        for (int c = 0; c < l.channels; ++c, ++channel)
          for (int y = 0; y < l.height; ++y)
            std::memcpy(dst + channel * out.channel_stride + y * out.row_stride,
                        src + c * l.channel_stride + y * l.row_stride, sizeof(float) * l.width);
      }
      zero_border(dst, out, 0, out.channels);
      break;
    }
    case OpType::kFullyConnected: {
      const float* src = tensor_data(d.inputs[0]);
      if (op.scratch_in >= 0) {
        gather(src, in, scratch(op.scratch_in));
        src = scratch(op.scratch_in);
      }
      float* dst = op.scratch_out >= 0 ? scratch(op.scratch_out) : tensor_data(d.output);
      FcTask task{&op, src, dst};
      parallel(d.out_channels, 16, fc_range, &task);
      if (op.scratch_out >= 0) scatter(dst, out, tensor_data(d.output));
      break;
    }
    case OpType::kSoftmax: {
      const float* src = tensor_data(d.inputs[0]);
      if (op.scratch_in >= 0) {
        gather(src, in, scratch(op.scratch_in));
        src = scratch(op.scratch_in);
      }
      float* dst = op.scratch_out >= 0 ? scratch(op.scratch_out) : tensor_data(d.output);
      kernels::f32_softmax__scalar(in.channels * in.height * in.width, src, dst, d.beta);
      if (op.scratch_out >= 0) scatter(dst, out, tensor_data(d.output));
      break;
    }
  }
}

namespace {

// Asks the memory system for an operator's packed weights (into L2) while the operator before it
// runs. Weights are read once per run from wherever the last run left them; when other work ran
// in between (bench_sparse alternates with XNNPACK, whose 27 MB of weights flush the caches),
// that is memory, and each layer would otherwise start on cache misses. Measured on the random
// 1/16 GoogLeNet with 48 MB of other data touched between runs (200 alternating runs): median
// 5.29 -> 5.20 ms; no change when the caches are warm.
void prefetch_weights(const PlannedOp& op) {
  if (!op.packed) return;
  const std::size_t bytes = op.desc->type == OpType::kFullyConnected ? op.fc_kernel.packed_bytes
                                                                     : op.conv_kernel.packed_bytes;
  const char* w = static_cast<const char*>(op.packed.get());
  for (std::size_t i = 0; i < bytes; i += 64) __builtin_prefetch(w + i, 0, 2);
}

}  // namespace

Status Plan::run() {
  if (!input_set_) return make_error(GNRT_INVALID_STATE, "run: no input was set");
  for (std::size_t k = 0; k < ops_.size(); ++k) {
    PlannedOp& op = ops_[k];
    if (k + 1 < ops_.size()) prefetch_weights(ops_[k + 1]);
    if (profiling_) {
      const std::uint64_t start = now_ns();
      run_op(op);
      op.nanoseconds = now_ns() - start;
    } else {
      run_op(op);
    }
  }
  ran_ = true;
  return Status::Ok();
}

Status Plan::get_output(float* data, std::size_t count) const {
  const int t = model_->outputs[0];
  const TensorLayout& l = layouts_[t];
  const std::size_t expected = static_cast<std::size_t>(l.channels) * l.height * l.width;
  if (!data) return make_error(GNRT_INVALID_ARGUMENT, "output buffer is NULL");
  if (count != expected)
    return make_error(GNRT_INVALID_ARGUMENT, "output buffer has " + std::to_string(count) +
                                                 " floats, expected " + std::to_string(expected));
  if (!ran_) return make_error(GNRT_INVALID_STATE, "get_output: the plan has not run yet");
  gather(tensor_data(t), l, data);
  return Status::Ok();
}

}  // namespace gnrt
