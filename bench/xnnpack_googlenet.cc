#include "xnnpack_googlenet.h"

#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "aligned_buffer.h"
#include "gnrt/half.h"
#include "model.h"
#include "dense_weights.h"
#include "plan.h"

namespace gnrt_bench {

namespace {

const char* xnn_status_name(xnn_status status) {
  switch (status) {
    case xnn_status_success:
      return "success";
    case xnn_status_uninitialized:
      return "uninitialized";
    case xnn_status_invalid_parameter:
      return "invalid parameter";
    case xnn_status_invalid_state:
      return "invalid state";
    case xnn_status_unsupported_parameter:
      return "unsupported parameter";
    case xnn_status_unsupported_hardware:
      return "unsupported hardware";
    case xnn_status_out_of_memory:
      return "out of memory";
  }
  return "unknown status";
}

// XNNPACK may read (never use) up to XNN_EXTRA_BYTES past the end of an input; keep a full cache
// line of slack after every buffer.
constexpr std::size_t kSlackBytes = 64;

constexpr float kInf = std::numeric_limits<float>::infinity();

// Where a tensor's NHWC data lives: element (y, x, c) is at
// arena + buffer offset + ((y * width + x) * pixel_stride + channel_offset + c) floats.
struct Storage {
  int buffer = -1;
  std::size_t channel_offset = 0;
  std::size_t pixel_stride = 0;
};

struct TensorInfo {
  int channels = 0, height = 0, width = 0;
  std::size_t element_bytes = sizeof(float);
  int producer = -1;  // operator index, -1 for graph inputs
  int consumers = 0;
  Storage storage;
  std::size_t pixels() const {
    return static_cast<std::size_t>(height) * static_cast<std::size_t>(width);
  }
};

struct BufferInfo {
  std::size_t bytes = 0;
  int first_op = std::numeric_limits<int>::max();  // lifetime [first_op, last_op], op indices
  int last_op = -1;
  bool persistent = false;  // graph input and output: live across runs
  std::size_t offset = 0;
};

// One tensor's int8 quantization: real = scale * (q - zero_point).
struct QParams {
  float scale = 1.0f;
  int zero_point = 0;
};

// Asymmetric over the range widened to contain 0 (zero must be exact: XNNPACK pads with the
// zero point).
QParams qparams_of(TensorRange r) {
  const float lo = std::min(r.min, 0.0f);
  float hi = std::max(r.max, 0.0f);
  if (hi - lo < 1e-6f) hi = lo + 1e-6f;
  QParams q;
  q.scale = (hi - lo) / 255.0f;
  const long zp = std::lround(-128.0 - static_cast<double>(lo) / q.scale);
  q.zero_point = static_cast<int>(std::min(127L, std::max(-128L, zp)));
  return q;
}

std::int8_t q_of_zero(const QParams& q) { return static_cast<std::int8_t>(q.zero_point); }

// Symmetric int8 weights with scale max|w|/127 (`fallback` when every weight is zero).
float weight_scale(const float* w, std::size_t n, float fallback) {
  float peak = 0;
  for (std::size_t i = 0; i < n; ++i) peak = std::max(peak, std::fabs(w[i]));
  return peak > 0 ? peak / 127.0f : fallback;
}

void quantize_weights(const float* w, std::size_t n, float scale, std::int8_t* out) {
  for (std::size_t i = 0; i < n; ++i) {
    const long v = std::lround(w[i] / scale);
    out[i] = static_cast<std::int8_t>(std::min(127L, std::max(-127L, v)));
  }
}

std::int32_t quantize_bias(float b, double scale) {
  const double v = std::round(static_cast<double>(b) / scale);
  return static_cast<std::int32_t>(std::min(2147483647.0, std::max(-2147483647.0, v)));
}

std::vector<std::uint16_t> to_half(const std::vector<float>& v) {
  std::vector<std::uint16_t> h(v.size());
  for (std::size_t i = 0; i < v.size(); ++i) h[i] = gnrt::float_to_half(v[i]);
  return h;
}

}  // namespace

const char* datatype_name(XnnDatatype datatype) {
  switch (datatype) {
    case XnnDatatype::kF32:
      return "f32";
    case XnnDatatype::kQS8:
      return "qs8";
    case XnnDatatype::kF16:
      return "f16";
  }
  return "?";
}

struct XnnpackBaseline::Impl {
  pthreadpool_t threadpool = nullptr;
  std::vector<xnn_operator_t> operators;
  std::vector<std::string> operator_names;
  AlignedFloats arena;
  std::size_t arena_bytes = 0;
  int num_threads = 1;
  bool initialized = false;
  bool unsupported = false;  // the last failure was XNNPACK's "unsupported hardware"
  std::string error;
  XnnDatatype dtype = XnnDatatype::kF32;
  std::vector<QParams> q;        // qs8: per tensor
  std::vector<int> op_outputs;   // per XNNPACK operator: the model tensor it writes, or -1
  std::vector<int> softmax_f32;  // per tensor: the float copy of a softmax input (qs8/f16), -1
  int input_f32 = -1;            // the float tensors of the interface (== input/output for f32)
  int output_f32 = -1;

  std::vector<TensorInfo> tensors;
  std::vector<BufferInfo> buffers;
  int input_tensor = -1;
  int output_tensor = -1;

  ~Impl() {
    for (xnn_operator_t op : operators) xnn_delete_operator(op);
    if (threadpool != nullptr) pthreadpool_destroy(threadpool);
    if (initialized) xnn_deinitialize();
  }

  char* tensor_ptr(int t) {
    const Storage& s = tensors[t].storage;
    return reinterpret_cast<char*>(arena.get()) + buffers[s.buffer].offset +
           s.channel_offset * tensors[t].element_bytes;
  }
  float* tensor_data(int t) { return reinterpret_cast<float*>(tensor_ptr(t)); }
  bool low_precision() const { return dtype != XnnDatatype::kF32; }
  void push(xnn_operator_t xop, const std::string& name, int output) {
    operators.push_back(xop);
    operator_names.push_back(name);
    op_outputs.push_back(output);
  }

  bool fail(const std::string& message) {
    error = message;
    return false;
  }
  bool check(xnn_status status, const std::string& what) {
    if (status == xnn_status_success) return true;
    unsupported = status == xnn_status_unsupported_hardware;
    return fail(what + ": XNNPACK " + xnn_status_name(status));
  }

  bool build(const gnrt::Model& model, const XnnpackBaselineOptions& options);
  bool infer_shapes(const gnrt::Model& model, int height, int width);
  void add_interface_tensors(const gnrt::Model& model);
  bool compute_quantization(const gnrt::Model& model, const std::vector<TensorRange>& ranges);
  bool create_convert(int from, int to, const std::string& name);
  bool assign_storage(const gnrt::Model& model);
  void plan_arena();
  bool create_operators(const gnrt::Model& model);
  bool create_convolution(const gnrt::OpDesc& op, const TensorInfo& in, const TensorInfo& out,
                          const void* x, void* y);
  bool create_pooling(const gnrt::OpDesc& op, const TensorInfo& in, const TensorInfo& out,
                      const void* x, void* y);
  bool create_global_pooling(const gnrt::OpDesc& op, const TensorInfo& in, const TensorInfo& out,
                             const void* x, void* y);
  bool create_fully_connected(const gnrt::OpDesc& op, const TensorInfo& in, const TensorInfo& out,
                              float beta, const void* x, void* y);
  bool create_softmax(const gnrt::OpDesc& op, const TensorInfo& in, const TensorInfo& out,
                      const float* x, float* y);
};

// The runtime's shape inference: a one-thread plan of the model at this input size, kept only for
// its tensor layouts. It also rejects every input size the runtime rejects.
bool XnnpackBaseline::Impl::infer_shapes(const gnrt::Model& model, int height, int width) {
  if (model.outputs.size() != 1)
    return fail("the baseline supports one graph input and one output");
  gnrt::PlanConfig config;
  config.height = height;
  config.width = width;
  std::unique_ptr<gnrt::Plan> plan;
  const gnrt::Status status = gnrt::Plan::create(model, config, &plan);
  if (!status.ok()) return fail(status.message);
  input_tensor = model.input;
  output_tensor = model.outputs[0];
  tensors.assign(model.tensors.size(), TensorInfo{});
  for (std::size_t t = 0; t < tensors.size(); ++t) {
    TensorInfo& info = tensors[t];
    info.producer = model.tensors[t].producer;
    if (info.producer < 0 && static_cast<int>(t) != input_tensor) continue;  // never computed
    const gnrt::TensorLayout& layout = plan->layout(static_cast<int>(t));
    info.channels = layout.channels;
    info.height = layout.height;
    info.width = layout.width;
  }
  for (const gnrt::OpDesc& op : model.ops) {
    for (int t : op.inputs) ++tensors[t].consumers;
  }
  return true;
}

// Element sizes, and for qs8/f16 the float tensors of the interface: the input before and the
// output after conversion, and the float copy of every softmax input (no low-precision softmax).
void XnnpackBaseline::Impl::add_interface_tensors(const gnrt::Model& model) {
  const std::size_t bytes = dtype == XnnDatatype::kQS8   ? 1
                            : dtype == XnnDatatype::kF16 ? 2
                                                         : sizeof(float);
  for (TensorInfo& t : tensors) t.element_bytes = bytes;
  input_f32 = input_tensor;
  output_f32 = output_tensor;
  softmax_f32.assign(tensors.size(), -1);
  if (!low_precision()) return;
  auto add_float_copy = [&](int like) {
    TensorInfo t = tensors[static_cast<std::size_t>(like)];
    t.element_bytes = sizeof(float);
    t.producer = -1;
    t.consumers = 0;
    t.storage = Storage{};
    tensors.push_back(t);
    return static_cast<int>(tensors.size()) - 1;
  };
  for (const gnrt::OpDesc& op : model.ops) {
    if (op.type != gnrt::OpType::kSoftmax) continue;
    tensors[op.output].element_bytes = sizeof(float);
    softmax_f32[op.inputs[0]] = add_float_copy(op.inputs[0]);
  }
  input_f32 = add_float_copy(input_tensor);
  if (tensors[output_tensor].element_bytes != sizeof(float))
    output_f32 = add_float_copy(output_tensor);
}

// qs8: one QParams per tensor. A concatenation and its inputs, and a max pooling's input and
// output, form one group (union-find) quantized from the union of their ranges.
bool XnnpackBaseline::Impl::compute_quantization(const gnrt::Model& model,
                                                 const std::vector<TensorRange>& ranges) {
  const std::size_t n = model.tensors.size();
  if (ranges.size() != n) return fail("qs8 needs one calibrated range per model tensor");
  std::vector<std::size_t> parent(n);
  for (std::size_t i = 0; i < n; ++i) parent[i] = i;
  auto find = [&](std::size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  };
  auto unite = [&](int a, int b) {
    parent[find(static_cast<std::size_t>(a))] = find(static_cast<std::size_t>(b));
  };
  for (const gnrt::OpDesc& op : model.ops) {
    if (op.type == gnrt::OpType::kConcat || op.type == gnrt::OpType::kMaxPool)
      for (int t : op.inputs) unite(t, op.output);
  }
  std::vector<TensorRange> group(n);
  for (std::size_t t = 0; t < n; ++t) {
    if (!ranges[t].observed()) continue;
    group[find(t)].add(ranges[t].min);
    group[find(t)].add(ranges[t].max);
  }
  q.assign(tensors.size(), QParams{});
  for (std::size_t t = 0; t < n; ++t) {
    if (tensors[t].producer < 0 && static_cast<int>(t) != input_tensor) continue;
    if (tensors[t].element_bytes != 1) continue;  // float (softmax outputs)
    const TensorRange& r = group[find(t)];
    if (!r.observed()) return fail("qs8: no calibrated range for tensor " + model.tensors[t].name);
    q[t] = qparams_of(r);
  }
  return true;
}

bool XnnpackBaseline::Impl::assign_storage(const gnrt::Model& model) {
  auto new_buffer = [&](int t) {
    BufferInfo b;
    b.bytes = tensors[t].pixels() * static_cast<std::size_t>(tensors[t].channels) *
              tensors[t].element_bytes;
    buffers.push_back(b);
    tensors[t].storage = {static_cast<int>(buffers.size()) - 1, 0,
                          static_cast<std::size_t>(tensors[t].channels)};
  };
  // Outer concatenations first, so that a nested concatenation is itself placed into its slice
  // before its own inputs are placed into it.
  for (auto op = model.ops.rbegin(); op != model.ops.rend(); ++op) {
    if (op->type != gnrt::OpType::kConcat) continue;
    const int o = op->output;
    if (tensors[o].storage.buffer < 0) new_buffer(o);
    std::size_t offset = tensors[o].storage.channel_offset;
    for (int t : op->inputs) {
      TensorInfo& in = tensors[t];
      if (in.storage.buffer >= 0 || t == input_tensor || t == output_tensor)
        return fail(op->name +
                    ": an input is a graph input/output or feeds two concatenations (unsupported)");
      if (model.ops[static_cast<std::size_t>(in.producer)].type == gnrt::OpType::kSoftmax)
        return fail("a softmax output cannot be concatenated in place (unsupported)");
      in.storage = {tensors[o].storage.buffer, offset, tensors[o].storage.pixel_stride};
      offset += static_cast<std::size_t>(in.channels);
    }
  }
  for (std::size_t t = 0; t < model.tensors.size(); ++t) {
    if (tensors[t].storage.buffer < 0 &&
        (tensors[t].producer >= 0 || static_cast<int>(t) == input_tensor))
      new_buffer(static_cast<int>(t));
  }
  for (std::size_t t = model.tensors.size(); t < tensors.size(); ++t) {
    new_buffer(static_cast<int>(t));  // the interface's float copies, live across runs
    buffers.back().persistent = true;
  }
  // Lifetimes: from the first operator writing into a buffer to the last one reading from it.
  for (std::size_t i = 0; i < model.ops.size(); ++i) {
    const gnrt::OpDesc& op = model.ops[i];
    const int index = static_cast<int>(i);
    for (int t : op.inputs) {
      BufferInfo& b = buffers[tensors[t].storage.buffer];
      b.last_op = std::max(b.last_op, index);
    }
    BufferInfo& b = buffers[tensors[op.output].storage.buffer];
    b.first_op = std::min(b.first_op, index);
    b.last_op = std::max(b.last_op, index);
  }
  buffers[tensors[input_tensor].storage.buffer].persistent = true;
  buffers[tensors[output_tensor].storage.buffer].persistent = true;
  return true;
}

void XnnpackBaseline::Impl::plan_arena() {
  std::vector<int> order(buffers.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return buffers[a].bytes > buffers[b].bytes; });
  auto overlaps = [&](const BufferInfo& a, const BufferInfo& b) {
    if (a.persistent || b.persistent) return true;
    return a.first_op <= b.last_op && b.first_op <= a.last_op;
  };
  std::vector<int> placed;
  arena_bytes = 0;
  for (int i : order) {
    BufferInfo& b = buffers[i];
    const std::size_t size = align_bytes_up(b.bytes + kSlackBytes);
    // Candidate offsets: 0 and the end of every placed buffer that lives at the same time.
    std::vector<std::pair<std::size_t, std::size_t>> busy;
    for (int j : placed) {
      if (overlaps(b, buffers[j]))
        busy.emplace_back(buffers[j].offset, align_bytes_up(buffers[j].bytes + kSlackBytes));
    }
    std::sort(busy.begin(), busy.end());
    std::size_t offset = 0;
    for (const auto& range : busy) {
      if (offset + size <= range.first) break;
      offset = std::max(offset, range.first + range.second);
    }
    b.offset = offset;
    arena_bytes = std::max(arena_bytes, offset + size);
    placed.push_back(i);
  }
}

bool XnnpackBaseline::Impl::create_convolution(const gnrt::OpDesc& op, const TensorInfo& in,
                                               const TensorInfo& out, const void* x, void* y) {
  const gnrt::DenseWeights w = gnrt::dense_weights(op.weights);
  const int groups = op.groups;
  const int kh = op.kernel_h, kw = op.kernel_w, ig = in.channels / groups;
  const std::size_t og = static_cast<std::size_t>(out.channels / groups);
  // OIHW -> O,H,W,I (per group: [group][out][kh][kw][in]; O already runs group-major).
  std::vector<float> ohwi(w.values.size());
  for (int o = 0; o < out.channels; ++o)
    for (int ic = 0; ic < ig; ++ic)
      for (int ky = 0; ky < kh; ++ky)
        for (int kx = 0; kx < kw; ++kx)
          ohwi[((static_cast<std::size_t>(o) * kh + ky) * kw + kx) * ig + ic] =
              w.values[((static_cast<std::size_t>(o) * ig + ic) * kh + ky) * kw + kx];
  const std::vector<float> bias = gnrt::bias_or_zeros(op);
  const std::size_t in_stride = in.storage.pixel_stride, out_stride = out.storage.pixel_stride;
  const std::string what = op.name + ": create convolution (" + datatype_name(dtype) + ")";
  xnn_operator_t xop = nullptr;
  xnn_status status = xnn_status_success;
  if (dtype == XnnDatatype::kF32) {
    status = xnn_create_convolution2d_nhwc_f32(
        op.pad_top, op.pad_right, op.pad_bottom, op.pad_left, kh, kw, op.stride_h, op.stride_w,
        op.dilation_h, op.dilation_w, groups, ig, og, in_stride, out_stride, ohwi.data(),
        bias.data(), op.relu ? 0.0f : -kInf, kInf, 0, &xop);
  } else if (dtype == XnnDatatype::kF16) {
    const std::vector<std::uint16_t> w16 = to_half(ohwi), b16 = to_half(bias);
    status = xnn_create_convolution2d_nhwc_f16(
        op.pad_top, op.pad_right, op.pad_bottom, op.pad_left, kh, kw, op.stride_h, op.stride_w,
        op.dilation_h, op.dilation_w, groups, ig, og, in_stride, out_stride, w16.data(), b16.data(),
        op.relu ? 0.0f : -kInf, kInf, 0, &xop);
  } else {
    // Per output channel scales (qc8); an all-zero (pruned) channel takes the layer's scale.
    const std::size_t row = ohwi.size() / static_cast<std::size_t>(out.channels);
    const float layer_scale = weight_scale(ohwi.data(), ohwi.size(), 1.0f);
    const QParams& qi = q[op.inputs[0]];
    const QParams& qo = q[op.output];
    std::vector<float> scales(static_cast<std::size_t>(out.channels));
    std::vector<std::int8_t> w8(ohwi.size());
    std::vector<std::int32_t> b32(bias.size());
    for (std::size_t o = 0; o < scales.size(); ++o) {
      scales[o] = weight_scale(ohwi.data() + o * row, row, layer_scale);
      quantize_weights(ohwi.data() + o * row, row, scales[o], w8.data() + o * row);
      b32[o] = quantize_bias(bias[o], static_cast<double>(qi.scale) * scales[o]);
    }
    status = xnn_create_convolution2d_nhwc_qc8(
        op.pad_top, op.pad_right, op.pad_bottom, op.pad_left, kh, kw, op.stride_h, op.stride_w,
        op.dilation_h, op.dilation_w, groups, ig, og, in_stride, out_stride, q_of_zero(qi),
        qi.scale, scales.data(), w8.data(), b32.data(), q_of_zero(qo), qo.scale,
        op.relu ? q_of_zero(qo) : INT8_MIN, INT8_MAX, 0, &xop);
  }
  if (!check(status, what)) return false;
  push(xop, op.name, op.output);
  const std::string setup = op.name + ": setup convolution";
  if (dtype == XnnDatatype::kF32)
    return check(
        xnn_setup_convolution2d_nhwc_f32(xop, 1, in.height, in.width, static_cast<const float*>(x),
                                         static_cast<float*>(y), threadpool),
        setup);
  if (dtype == XnnDatatype::kF16)
    return check(xnn_setup_convolution2d_nhwc_f16(xop, 1, in.height, in.width, x, y, threadpool),
                 setup);
  return check(xnn_setup_convolution2d_nhwc_qc8(xop, 1, in.height, in.width,
                                                static_cast<const std::int8_t*>(x),
                                                static_cast<std::int8_t*>(y), threadpool),
               setup);
}

bool XnnpackBaseline::Impl::create_global_pooling(const gnrt::OpDesc& op, const TensorInfo& in,
                                                  const TensorInfo& out, const void* x, void* y) {
  const float lo = op.relu ? 0.0f : -kInf;
  const std::size_t in_stride = in.storage.pixel_stride, out_stride = out.storage.pixel_stride;
  const std::string what = op.name + ": create global average pooling";
  xnn_operator_t xop = nullptr;
  xnn_status status = xnn_status_success;
  if (dtype == XnnDatatype::kF32) {
    status = xnn_create_global_average_pooling_nwc_f32(in.channels, in_stride, out_stride, lo, kInf,
                                                       0, &xop);
  } else if (dtype == XnnDatatype::kF16) {
    status = xnn_create_global_average_pooling_nwc_f16(in.channels, in_stride, out_stride, lo, kInf,
                                                       0, &xop);
  } else {
    const QParams& qi = q[op.inputs[0]];
    const QParams& qo = q[op.output];
    status = xnn_create_global_average_pooling_nwc_qs8(
        in.channels, in_stride, out_stride, q_of_zero(qi), qi.scale, q_of_zero(qo), qo.scale,
        op.relu ? q_of_zero(qo) : INT8_MIN, INT8_MAX, 0, &xop);
  }
  if (!check(status, what)) return false;
  push(xop, op.name, op.output);
  const std::string setup = op.name + ": setup global average pooling";
  if (dtype == XnnDatatype::kF32)
    return check(
        xnn_setup_global_average_pooling_nwc_f32(xop, 1, in.pixels(), static_cast<const float*>(x),
                                                 static_cast<float*>(y), threadpool),
        setup);
  if (dtype == XnnDatatype::kF16)
    return check(xnn_setup_global_average_pooling_nwc_f16(xop, 1, in.pixels(), x, y, threadpool),
                 setup);
  return check(xnn_setup_global_average_pooling_nwc_qs8(xop, 1, in.pixels(),
                                                        static_cast<const std::int8_t*>(x),
                                                        static_cast<std::int8_t*>(y), threadpool),
               setup);
}

bool XnnpackBaseline::Impl::create_pooling(const gnrt::OpDesc& op, const TensorInfo& in,
                                           const TensorInfo& out, const void* x, void* y) {
  if (op.type == gnrt::OpType::kGlobalAvgPool) return create_global_pooling(op, in, out, x, y);
  const float lo = op.relu ? 0.0f : -kInf;
  const std::size_t in_stride = in.storage.pixel_stride, out_stride = out.storage.pixel_stride;
  xnn_operator_t xop = nullptr;
  if (op.type == gnrt::OpType::kMaxPool) {
    // Ceil mode: pad the bottom/right so that floor arithmetic yields the same output size.
    // Padded taps never win (XNNPACK's max pooling ignores them), as in the reference.
    const int pad_bottom = std::max(
        op.pad_bottom, (out.height - 1) * op.stride_h + op.kernel_h - in.height - op.pad_top);
    const int pad_right = std::max(
        op.pad_right, (out.width - 1) * op.stride_w + op.kernel_w - in.width - op.pad_left);
    xnn_status status = xnn_status_success;
    if (dtype == XnnDatatype::kF32) {
      status = xnn_create_max_pooling2d_nhwc_f32(
          op.pad_top, pad_right, pad_bottom, op.pad_left, op.kernel_h, op.kernel_w, op.stride_h,
          op.stride_w, 1, 1, in.channels, in_stride, out_stride, lo, kInf, 0, &xop);
    } else if (dtype == XnnDatatype::kF16) {
      status = xnn_create_max_pooling2d_nhwc_f16(
          op.pad_top, pad_right, pad_bottom, op.pad_left, op.kernel_h, op.kernel_w, op.stride_h,
          op.stride_w, 1, 1, in.channels, in_stride, out_stride, lo, kInf, 0, &xop);
    } else {
      // Input and output share one quantization (compute_quantization): no requantization.
      status = xnn_create_max_pooling2d_nhwc_s8(
          op.pad_top, pad_right, pad_bottom, op.pad_left, op.kernel_h, op.kernel_w, op.stride_h,
          op.stride_w, 1, 1, in.channels, in_stride, out_stride,
          op.relu ? q_of_zero(q[op.output]) : INT8_MIN, INT8_MAX, 0, &xop);
    }
    if (!check(status, op.name + ": create max pooling")) return false;
    push(xop, op.name, op.output);
    const std::string setup = op.name + ": setup max pooling";
    if (dtype == XnnDatatype::kF32)
      return check(xnn_setup_max_pooling2d_nhwc_f32(xop, 1, in.height, in.width,
                                                    static_cast<const float*>(x),
                                                    static_cast<float*>(y), threadpool),
                   setup);
    if (dtype == XnnDatatype::kF16)
      return check(xnn_setup_max_pooling2d_nhwc_f16(xop, 1, in.height, in.width, x, y, threadpool),
                   setup);
    return check(xnn_setup_max_pooling2d_nhwc_s8(xop, 1, in.height, in.width,
                                                 static_cast<const std::int8_t*>(x),
                                                 static_cast<std::int8_t*>(y), threadpool),
                 setup);
  }
  // Windowed average pooling: only where XNNPACK's and the model's semantics coincide.
  if (low_precision())
    return fail(op.name + ": windowed average pooling has no " + datatype_name(dtype) +
                " operator in this XNNPACK");
  if (op.pad_top || op.pad_left || op.pad_bottom || op.pad_right || op.ceil_mode)
    return fail(op.name + ": padded or ceil-mode average pooling is not supported by the baseline");
  if (!check(xnn_create_average_pooling2d_nhwc_f32(0, 0, 0, 0, op.kernel_h, op.kernel_w,
                                                   op.stride_h, op.stride_w, in.channels, in_stride,
                                                   out_stride, lo, kInf, 0, &xop),
             op.name + ": create average pooling"))
    return false;
  push(xop, op.name, op.output);
  return check(xnn_setup_average_pooling2d_nhwc_f32(xop, 1, in.height, in.width,
                                                    static_cast<const float*>(x),
                                                    static_cast<float*>(y), threadpool),
               op.name + ": setup average pooling");
}

bool XnnpackBaseline::Impl::create_fully_connected(const gnrt::OpDesc& op, const TensorInfo& in,
                                                   const TensorInfo& out, float beta, const void* x,
                                                   void* y) {
  const gnrt::DenseWeights w = gnrt::dense_weights(op.weights);
  const std::size_t features = in.pixels() * static_cast<std::size_t>(in.channels);
  if (in.pixels() > 1 && in.storage.pixel_stride != static_cast<std::size_t>(in.channels))
    return fail(op.name + ": FC over a concatenated slice with H*W > 1 is not supported");
  // The model flattens C,H,W; XNNPACK sees H,W,C.
  std::vector<float> weights(w.values.size());
  for (int o = 0; o < out.channels; ++o)
    for (int ch = 0; ch < in.channels; ++ch)
      for (std::size_t p = 0; p < in.pixels(); ++p)
        weights[o * features + p * in.channels + ch] =
            beta * w.values[o * features + ch * in.pixels() + p];
  std::vector<float> bias = gnrt::bias_or_zeros(op);
  for (float& b : bias) b *= beta;
  const std::size_t input_stride = in.pixels() > 1 ? features : in.storage.pixel_stride;
  const std::size_t output_stride = out.storage.pixel_stride;
  const float lo = op.relu ? 0.0f : -kInf;
  xnn_operator_t xop = nullptr;
  xnn_status status = xnn_status_success;
  if (dtype == XnnDatatype::kF32) {
    status = xnn_create_fully_connected_nc_f32(features, out.channels, input_stride, output_stride,
                                               weights.data(), bias.data(), lo, kInf, 0, &xop);
  } else if (dtype == XnnDatatype::kF16) {
    const std::vector<std::uint16_t> w16 = to_half(weights), b16 = to_half(bias);
    status = xnn_create_fully_connected_nc_f16(features, out.channels, input_stride, output_stride,
                                               w16.data(), b16.data(), lo, kInf, 0, &xop);
  } else {
    const QParams& qi = q[op.inputs[0]];
    const QParams& qo = q[op.output];
    const float scale = weight_scale(weights.data(), weights.size(), 1.0f);
    std::vector<std::int8_t> w8(weights.size());
    quantize_weights(weights.data(), weights.size(), scale, w8.data());
    std::vector<std::int32_t> b32(bias.size());
    for (std::size_t o = 0; o < bias.size(); ++o)
      b32[o] = quantize_bias(bias[o], static_cast<double>(qi.scale) * scale);
    status = xnn_create_fully_connected_nc_qs8(
        features, out.channels, input_stride, output_stride, q_of_zero(qi), qi.scale, scale,
        w8.data(), b32.data(), q_of_zero(qo), qo.scale, op.relu ? q_of_zero(qo) : INT8_MIN,
        INT8_MAX, 0, &xop);
  }
  if (!check(status, op.name + ": create fully connected (" + datatype_name(dtype) + ")"))
    return false;
  push(xop, op.name, op.output);
  const std::string setup = op.name + ": setup fully connected";
  if (dtype == XnnDatatype::kF32)
    return check(xnn_setup_fully_connected_nc_f32(xop, 1, static_cast<const float*>(x),
                                                  static_cast<float*>(y), threadpool),
                 setup);
  if (dtype == XnnDatatype::kF16)
    return check(xnn_setup_fully_connected_nc_f16(xop, 1, x, y, threadpool), setup);
  return check(xnn_setup_fully_connected_nc_qs8(xop, 1, static_cast<const std::int8_t*>(x),
                                                static_cast<std::int8_t*>(y), threadpool),
               setup);
}

// Between float and the low-precision datatype (qs8 / f16), pixel by pixel.
bool XnnpackBaseline::Impl::create_convert(int from, int to, const std::string& name) {
  const TensorInfo& a = tensors[static_cast<std::size_t>(from)];
  const TensorInfo& b = tensors[static_cast<std::size_t>(to)];
  const bool to_float = b.element_bytes == sizeof(float);
  const int quantized = to_float ? from : to;
  xnn_operator_t xop = nullptr;
  xnn_status status = xnn_status_success;
  if (dtype == XnnDatatype::kF16) {
    status = to_float ? xnn_create_convert_nc_f16_f32(a.channels, a.storage.pixel_stride,
                                                      b.storage.pixel_stride, 0, &xop)
                      : xnn_create_convert_nc_f32_f16(a.channels, a.storage.pixel_stride,
                                                      b.storage.pixel_stride, 0, &xop);
  } else {
    const QParams& qp = q[static_cast<std::size_t>(quantized)];
    status = to_float ? xnn_create_convert_nc_qs8_f32(a.channels, a.storage.pixel_stride,
                                                      b.storage.pixel_stride, qp.scale,
                                                      q_of_zero(qp), 0, &xop)
                      : xnn_create_convert_nc_f32_qs8(a.channels, a.storage.pixel_stride,
                                                      b.storage.pixel_stride, qp.scale,
                                                      q_of_zero(qp), INT8_MIN, INT8_MAX, 0, &xop);
  }
  if (!check(status, name + ": create convert")) return false;
  push(xop, name, -1);
  void* x = tensor_ptr(from);
  void* y = tensor_ptr(to);
  if (dtype == XnnDatatype::kF16)
    status = to_float ? xnn_setup_convert_nc_f16_f32(xop, a.pixels(), x, static_cast<float*>(y),
                                                     threadpool)
                      : xnn_setup_convert_nc_f32_f16(xop, a.pixels(), static_cast<const float*>(x),
                                                     y, threadpool);
  else
    status = to_float
                 ? xnn_setup_convert_nc_qs8_f32(xop, a.pixels(), static_cast<const std::int8_t*>(x),
                                                static_cast<float*>(y), threadpool)
                 : xnn_setup_convert_nc_f32_qs8(xop, a.pixels(), static_cast<const float*>(x),
                                                static_cast<std::int8_t*>(y), threadpool);
  return check(status, name + ": setup convert");
}

bool XnnpackBaseline::Impl::create_softmax(const gnrt::OpDesc& op, const TensorInfo& in,
                                           const TensorInfo& out, const float* x, float* y) {
  const std::size_t n = in.pixels() * static_cast<std::size_t>(in.channels);
  if ((in.pixels() > 1 && in.storage.pixel_stride != static_cast<std::size_t>(in.channels)) ||
      (out.pixels() > 1 && out.storage.pixel_stride != static_cast<std::size_t>(out.channels)))
    return fail(op.name + ": softmax over a strided tensor is not supported");
  const std::size_t in_stride = in.pixels() > 1 ? n : in.storage.pixel_stride;
  const std::size_t out_stride = out.pixels() > 1 ? n : out.storage.pixel_stride;
  xnn_operator_t xop = nullptr;
  if (!check(xnn_create_softmax_nc_f32(n, in_stride, out_stride, 0, &xop),
             op.name + ": create softmax"))
    return false;
  push(xop, op.name, op.output);
  return check(xnn_setup_softmax_nc_f32(xop, 1, x, y, threadpool), op.name + ": setup softmax");
}

bool XnnpackBaseline::Impl::create_operators(const gnrt::Model& model) {
  // Softmax beta folded into the FC layer that feeds it: fc output index -> beta.
  std::vector<float> fold_beta(tensors.size(), 1.0f);
  for (const gnrt::OpDesc& op : model.ops) {
    if (op.type != gnrt::OpType::kSoftmax || op.beta == 1.0f) continue;
    const int t = op.inputs[0];
    const int producer = tensors[t].producer;
    if (producer < 0 ||
        model.ops[static_cast<std::size_t>(producer)].type != gnrt::OpType::kFullyConnected ||
        tensors[t].consumers != 1 || t == output_tensor)
      return fail("softmax with beta != 1 is supported only right after a fully connected layer");
    fold_beta[t] = op.beta;
  }

  if (low_precision() && !create_convert(input_f32, input_tensor, "convert_input")) return false;
  for (const gnrt::OpDesc& op : model.ops) {
    const TensorInfo& in = tensors[op.inputs[0]];
    const TensorInfo& out = tensors[op.output];
    void* x = tensor_ptr(op.inputs[0]);
    void* y = tensor_ptr(op.output);
    bool ok = true;
    switch (op.type) {
      case gnrt::OpType::kConv2D:
        ok = create_convolution(op, in, out, x, y);
        break;
      case gnrt::OpType::kMaxPool:
      case gnrt::OpType::kAvgPool:
      case gnrt::OpType::kGlobalAvgPool:
        ok = create_pooling(op, in, out, x, y);
        break;
      case gnrt::OpType::kConcat:
        continue;  // in place: the producers wrote into their slices
      case gnrt::OpType::kFullyConnected:
        ok = create_fully_connected(op, in, out, fold_beta[op.output], x, y);
        break;
      case gnrt::OpType::kSoftmax: {
        const int f = softmax_f32[op.inputs[0]];
        if (f < 0) {
          ok = create_softmax(op, in, out, static_cast<const float*>(x), static_cast<float*>(y));
          break;
        }
        // No low-precision softmax here: convert its input to float, then the f32 operator.
        ok = create_convert(op.inputs[0], f, op.name + ":to_f32") &&
             create_softmax(op, tensors[static_cast<std::size_t>(f)], out, tensor_data(f),
                            static_cast<float*>(y));
        break;
      }
    }
    if (!ok) return false;
  }
  if (output_f32 != output_tensor && !create_convert(output_tensor, output_f32, "convert_output"))
    return false;
  return true;
}

bool XnnpackBaseline::Impl::build(const gnrt::Model& model, const XnnpackBaselineOptions& options) {
  if (options.num_threads < 1) return fail("num_threads must be >= 1");
  dtype = options.datatype;
  if (!infer_shapes(model, options.input_height, options.input_width)) return false;
  add_interface_tensors(model);
  if (!assign_storage(model)) return false;
  if (dtype == XnnDatatype::kQS8 && !compute_quantization(model, options.ranges)) return false;
  plan_arena();
  arena = try_aligned_zeroed(arena_bytes);
  if (!arena) return fail("cannot allocate the activation arena");

  if (!check(xnn_initialize(nullptr), "xnn_initialize")) return false;
  initialized = true;
  num_threads = options.num_threads;
  threadpool = pthreadpool_create(static_cast<std::size_t>(num_threads));
  if (threadpool == nullptr) return fail("pthreadpool_create failed");
  return create_operators(model);
}

XnnpackBaseline::XnnpackBaseline(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
XnnpackBaseline::~XnnpackBaseline() = default;

std::unique_ptr<XnnpackBaseline> XnnpackBaseline::create(const void* model_data,
                                                         std::size_t model_size,
                                                         const XnnpackBaselineOptions& options,
                                                         std::string* error, bool* unsupported) {
  if (unsupported != nullptr) *unsupported = false;
  gnrt::Model model;
  const gnrt::Status status = gnrt::load_model(model_data, model_size, &model);
  if (!status.ok()) {
    *error = "not a valid .gnrt model: " + status.message;
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  if (!impl->build(model, options)) {
    *error = std::string("XNNPACK ") + datatype_name(options.datatype) + ": " + impl->error;
    if (unsupported != nullptr) *unsupported = impl->unsupported;
    return nullptr;
  }
  return std::unique_ptr<XnnpackBaseline>(new XnnpackBaseline(std::move(impl)));
}

std::array<int, 4> XnnpackBaseline::input_shape() const {
  const TensorInfo& t = impl_->tensors[impl_->input_tensor];
  return {1, t.channels, t.height, t.width};
}

std::array<int, 4> XnnpackBaseline::output_shape() const {
  const TensorInfo& t = impl_->tensors[impl_->output_tensor];
  return {1, t.channels, t.height, t.width};
}

bool XnnpackBaseline::set_input(const float* nchw, std::size_t count) {
  const TensorInfo& t = impl_->tensors[impl_->input_f32];
  if (nchw == nullptr || count != t.pixels() * static_cast<std::size_t>(t.channels))
    return impl_->fail("set_input: wrong element count");
  float* dst = impl_->tensor_data(impl_->input_f32);
  for (int c = 0; c < t.channels; ++c)
    for (std::size_t p = 0; p < t.pixels(); ++p)
      dst[p * t.storage.pixel_stride + c] = nchw[c * t.pixels() + p];
  return true;
}

bool XnnpackBaseline::run(std::vector<std::uint64_t>* operator_nanoseconds) {
  if (operator_nanoseconds != nullptr) operator_nanoseconds->assign(impl_->operators.size(), 0);
  for (std::size_t i = 0; i < impl_->operators.size(); ++i) {
    if (operator_nanoseconds == nullptr) {
      if (!impl_->check(xnn_run_operator(impl_->operators[i], impl_->threadpool),
                        impl_->operator_names[i]))
        return false;
      continue;
    }
    const auto start = std::chrono::steady_clock::now();
    const xnn_status status = xnn_run_operator(impl_->operators[i], impl_->threadpool);
    (*operator_nanoseconds)[i] =
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                       std::chrono::steady_clock::now() - start)
                                       .count());
    if (!impl_->check(status, impl_->operator_names[i])) return false;
  }
  return true;
}

bool XnnpackBaseline::collect_ranges(std::vector<TensorRange>* ranges) {
  Impl& m = *impl_;
  if (m.low_precision()) return m.fail("collect_ranges needs the f32 baseline");
  ranges->resize(m.tensors.size());  // f32 adds no interface tensors
  auto scan = [&](int t) {
    const TensorInfo& info = m.tensors[static_cast<std::size_t>(t)];
    const float* data = m.tensor_data(t);
    TensorRange& r = (*ranges)[static_cast<std::size_t>(t)];
    for (std::size_t p = 0; p < info.pixels(); ++p)
      for (int c = 0; c < info.channels; ++c) r.add(data[p * info.storage.pixel_stride + c]);
  };
  scan(m.input_tensor);
  for (std::size_t i = 0; i < m.operators.size(); ++i) {
    if (!m.check(xnn_run_operator(m.operators[i], m.threadpool), m.operator_names[i])) return false;
    if (m.op_outputs[i] >= 0) scan(m.op_outputs[i]);
  }
  return true;
}

XnnDatatype XnnpackBaseline::datatype() const { return impl_->dtype; }

namespace {
void no_work(void*, std::size_t) {}
}  // namespace

void XnnpackBaseline::release_workers() {
  if (impl_->threadpool == nullptr || impl_->num_threads <= 1) return;
  pthreadpool_parallelize_1d(impl_->threadpool, no_work, nullptr,
                             static_cast<std::size_t>(impl_->num_threads),
                             PTHREADPOOL_FLAG_YIELD_WORKERS);
}

bool XnnpackBaseline::get_output(float* nchw, std::size_t count) const {
  const TensorInfo& t = impl_->tensors[impl_->output_f32];
  if (nchw == nullptr || count != t.pixels() * static_cast<std::size_t>(t.channels))
    return impl_->fail("get_output: wrong element count");
  const float* src = impl_->tensor_data(impl_->output_f32);
  for (int c = 0; c < t.channels; ++c)
    for (std::size_t p = 0; p < t.pixels(); ++p)
      nchw[c * t.pixels() + p] = src[p * t.storage.pixel_stride + c];
  return true;
}

const std::vector<std::string>& XnnpackBaseline::operator_names() const {
  return impl_->operator_names;
}
std::size_t XnnpackBaseline::arena_bytes() const { return impl_->arena_bytes; }
int XnnpackBaseline::num_threads() const { return impl_->num_threads; }
const std::string& XnnpackBaseline::last_error() const { return impl_->error; }

}  // namespace gnrt_bench
