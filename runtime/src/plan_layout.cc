// Planning phase 1: shapes at the plan's input size, the work cap, tensor layouts (borders,
// strides, concatenation slices), arena buffers with their lifetimes; and the border rule
// (zero_border, Plan::mark_border_readers).
#include <algorithm>
#include <map>
#include <utility>

#include "gnrt/shape_rules.h"
#include "plan.h"
#include "plan_internal.h"

namespace gnrt {

using plan_detail::channel_stride_of;
using plan_detail::kAlignment;
using plan_detail::lead_of;
using plan_detail::round_up;

namespace {

// The G = row_stride - width gap floats between row y and row y + 1 (the right border of row y,
// which is also the left border of row y + 1), with a compile-time count for the common gaps: a
// std::fill call per 2-4 floats costs several times more (docs/design.md, "Tensor layout").
template <int G>
void zero_row_gaps(float* plane, int height, int width, std::ptrdiff_t rs) {
  float* gap = plane + width;
  for (int y = 0; y + 1 < height; ++y, gap += rs)
    for (int i = 0; i < G; ++i) gap[i] = 0.0f;
}

}  // namespace

namespace plan_detail {

// The zero border each tensor needs: the largest padding of any consumer, then the same border
// for every tensor of one spatial size, so that stride-1 convolutions see identical input and
// output strides. 0 for tensors never computed.
std::vector<int> border_of_tensors(const Model& m, const std::vector<int>& heights,
                                   const std::vector<int>& widths, bool pool_overhang) {
  const std::size_t n = m.tensors.size();
  std::vector<int> need(n, 0);
  for (const OpDesc& d : m.ops) {
    if (d.type == OpType::kConv2D || d.type == OpType::kMaxPool || d.type == OpType::kAvgPool) {
      int p = std::max(std::max(d.pad_top, d.pad_bottom), std::max(d.pad_left, d.pad_right));
      const int in = d.inputs[0];
      if (pool_overhang && d.type != OpType::kConv2D && heights[d.output] > 0) {
        // The last window's far edge past the input's last position.
        const long long over_h = static_cast<long long>(heights[d.output] - 1) * d.stride_h -
                                 d.pad_top + d.kernel_h - heights[in];
        const long long over_w = static_cast<long long>(widths[d.output] - 1) * d.stride_w -
                                 d.pad_left + d.kernel_w - widths[in];
        p = static_cast<int>(std::max<long long>(p, std::max(over_h, over_w)));
      }
      need[in] = std::max(need[in], p);
    }
  }
  std::map<std::pair<int, int>, int> pad_of_size;
  for (std::size_t t = 0; t < n; ++t) {
    if (heights[t] == 0) continue;  // never computed (unused tensor)
    int& p = pad_of_size[{heights[t], widths[t]}];
    p = std::max(p, need[t]);
  }
  std::vector<int> pads(n, 0);
  for (std::size_t t = 0; t < n; ++t)
    if (heights[t] != 0) pads[t] = pad_of_size[{heights[t], widths[t]}];
  return pads;
}

// Concatenation without copies: each input of a concat becomes a channel slice of the output
// when it is produced by an operator and feeds no other concat. Outer concats first so that
// nested concats resolve to the outermost buffer. alias_parent[t]: the concat output tensor t
// is a slice of (-1: none), at channel alias_channel[t].
void concat_aliases(const Model& m, int channel_multiple, std::vector<int>* alias_parent,
                    std::vector<int>* alias_channel) {
  alias_parent->assign(m.tensors.size(), -1);
  alias_channel->assign(m.tensors.size(), 0);
  for (std::size_t k = m.ops.size(); k-- > 0;) {
    const OpDesc& d = m.ops[k];
    if (d.type != OpType::kConcat) continue;
    bool can_alias = true;
    int offset = 0;
    for (int t : d.inputs) {
      if (t == m.input || (*alias_parent)[t] != -1 || t == d.output ||
          offset % channel_multiple != 0)
        can_alias = false;
      offset += m.tensors[t].channels;
    }
    if (!can_alias) continue;
    int channel = 0;
    for (int t : d.inputs) {
      (*alias_parent)[t] = d.output;
      (*alias_channel)[t] = channel;
      channel += m.tensors[t].channels;
    }
  }
}

// The tensor whose buffer t lives in, and t's first channel there.
int alias_root(const std::vector<int>& alias_parent, const std::vector<int>& alias_channel, int t,
               int* channel) {
  *channel = 0;
  while (alias_parent[t] != -1) {
    *channel += alias_channel[t];
    t = alias_parent[t];
  }
  return t;
}

}  // namespace plan_detail

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
    if (Status s = check_work(d, h, w); !s.ok()) return s;
  }
  return Status::Ok();
}

// Adds the work of operator `d` (output h x w) to macs_, failing past PlanConfig::max_macs.
Status Plan::check_work(const OpDesc& d, std::int64_t h, std::int64_t w) {
  const Model& m = *model_;
  const int in = d.inputs[0];
  const std::int64_t ih = heights_[in], iw = widths_[in];
  // Double: the factors can overflow 64 bits before the cap is hit.
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
  return Status::Ok();
}

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
  const std::vector<int> pads = plan_detail::border_of_tensors(*model_, heights_, widths_);
  std::vector<int> alias_parent, alias_channel;
  plan_detail::concat_aliases(*model_, 1, &alias_parent, &alias_channel);
  layouts_.assign(model_->tensors.size(), TensorLayout{});
  if (Status s = add_tensor_buffers(pads, alias_parent, alias_channel); !s.ok()) return s;
  set_lifetimes();
  add_scratch_buffers(alias_parent);
  return Status::Ok();
}

// Every computed tensor's layout, and one arena buffer per root tensor (a tensor that is no
// concatenation's slice); slices point into their root's buffer.
Status Plan::add_tensor_buffers(const std::vector<int>& pads, const std::vector<int>& alias_parent,
                                const std::vector<int>& alias_channel) {
  const Model& m = *model_;
  const std::size_t n = m.tensors.size();
  std::vector<int> buffer_of(n, -1);
  for (std::size_t t = 0; t < n; ++t) {
    if (heights_[t] == 0) continue;
    int channel = 0;
    const int root = plan_detail::alias_root(alias_parent, alias_channel, static_cast<int>(t), &channel);
    TensorLayout& l = layouts_[t];
    l.channels = m.tensors[t].channels;
    l.height = heights_[t];
    l.width = widths_[t];
    l.pad = pads[t];
    const std::uint64_t rs = row_stride_for(l.width, l.pad);
    // `lead` floats before each padded plane put the interior origin (0, 0) on a 64-byte
    // boundary: every 1x1 tap and every vector of a flat run is then aligned, and with a row
    // stride of 16k floats every row too (docs/design.md, "Tensor layout").
    const std::uint64_t lead = lead_of(l.pad, rs);
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
    layouts_[t].buffer =
        buffer_of[plan_detail::alias_root(alias_parent, alias_channel, static_cast<int>(t), &channel)];
  }
  return Status::Ok();
}

// Lifetimes: from the earliest producer of any slice to the last reader of any slice.
void Plan::set_lifetimes() {
  const Model& m = *model_;
  const int steps = static_cast<int>(m.ops.size());
  for (std::size_t t = 0; t < m.tensors.size(); ++t) {
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
}

// The planned operators, with scratch for FullyConnected / Softmax when their input or output is
// not contiguous, and whether each concatenation must copy.
void Plan::add_scratch_buffers(const std::vector<int>& alias_parent) {
  const Model& m = *model_;
  const int steps = static_cast<int>(m.ops.size());
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
      op.scratch.in =
          add_scratch(static_cast<std::uint64_t>(in.channels) * in.height * in.width, ":input");
    if (!out.contiguous())
      op.scratch.out =
          add_scratch(static_cast<std::uint64_t>(out.channels) * out.height * out.width, ":output");
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
        if (op.fusion.conv < 0 && op.pool_kernel.reads_border_rows) mark(d.inputs[0]);
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

}  // namespace gnrt
