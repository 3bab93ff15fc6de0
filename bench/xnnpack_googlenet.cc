#include "xnnpack_googlenet.h"

#include <pthreadpool.h>
#include <xnnpack.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "gnrt/gnrt_generated.h"
#include "gnrt/half.h"
#include "gnrt/shape_rules.h"

namespace gnrt_bench {

namespace fb = gnrt::fb;

double DenseWeights::density() const {
  return values.empty() ? 0.0 : static_cast<double>(nonzeros) / static_cast<double>(values.size());
}

bool expand_weights(const fb::Weights* weights, DenseWeights* out, std::string* error) {
  if (weights == nullptr || weights->shape() == nullptr || weights->shape()->size() == 0) {
    *error = "weights without a shape";
    return false;
  }
  out->shape.assign(weights->shape()->begin(), weights->shape()->end());
  std::size_t count = 1;
  for (int d : out->shape) {
    if (d <= 0) {
      *error = "weights with a non-positive dimension";
      return false;
    }
    count *= static_cast<std::size_t>(d);
  }
  const std::size_t rows = static_cast<std::size_t>(out->shape[0]);
  const std::size_t row_length = count / rows;
  const bool f16 = weights->value_type() == fb::ValueType::FLOAT16;
  const std::size_t stored = f16 ? (weights->values_f16() ? weights->values_f16()->size() : 0)
                                 : (weights->values_f32() ? weights->values_f32()->size() : 0);
  auto value = [&](std::size_t i) -> float {
    return f16 ? gnrt::half_to_float(
                     weights->values_f16()->Get(static_cast<flatbuffers::uoffset_t>(i)))
               : weights->values_f32()->Get(static_cast<flatbuffers::uoffset_t>(i));
  };
  out->values.assign(count, 0.0f);
  if (weights->layout() == fb::WeightLayout::DENSE) {
    if (stored != count) {
      *error = "dense weights hold " + std::to_string(stored) + " values, expected " +
               std::to_string(count);
      return false;
    }
    out->nonzeros = 0;
    for (std::size_t i = 0; i < count; ++i) {
      out->values[i] = value(i);
      if (out->values[i] != 0.0f) ++out->nonzeros;
    }
    return true;
  }
  const auto* row_nonzeros = weights->row_nonzeros();
  if (row_nonzeros == nullptr || row_nonzeros->size() != rows) {
    *error = "sparse weights without one row count per output channel";
    return false;
  }
  std::size_t total = 0;
  for (std::uint32_t n : *row_nonzeros) total += n;
  const auto* u8 = weights->indices_u8();
  const auto* u16 = weights->indices_u16();
  const auto* u32 = weights->indices_u32();
  const std::size_t index_count = u8 ? u8->size() : u16 ? u16->size() : u32 ? u32->size() : 0;
  if (stored != total || index_count != total) {
    *error = "sparse weights: row counts, indices and values disagree";
    return false;
  }
  std::size_t entry = 0;
  for (std::size_t row = 0; row < rows; ++row) {
    for (std::uint32_t k = 0; k < row_nonzeros->Get(static_cast<flatbuffers::uoffset_t>(row));
         ++k, ++entry) {
      const auto e = static_cast<flatbuffers::uoffset_t>(entry);
      const std::size_t index = u8 ? u8->Get(e) : u16 ? u16->Get(e) : u32->Get(e);
      if (index >= row_length) {
        *error = "sparse weight index out of range";
        return false;
      }
      out->values[row * row_length + index] = value(entry);
    }
  }
  out->nonzeros = total;
  return true;
}

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

constexpr std::size_t kAlignment = 64;
// XNNPACK may read (never use) up to XNN_EXTRA_BYTES past the end of an input; keep a full cache
// line of slack after every buffer.
constexpr std::size_t kSlackBytes = 64;

std::size_t align_up(std::size_t bytes) {
  return (bytes + kAlignment - 1) / kAlignment * kAlignment;
}

// Where a tensor's NHWC data lives: element (y, x, c) is at
// arena + buffer offset + ((y * width + x) * pixel_stride + channel_offset + c) floats.
struct Storage {
  int buffer = -1;
  std::size_t channel_offset = 0;
  std::size_t pixel_stride = 0;
};

struct TensorInfo {
  int channels = 0, height = 0, width = 0;
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

struct AlignedFree {
  void operator()(void* p) const { std::free(p); }
};

}  // namespace

struct XnnpackBaseline::Impl {
  pthreadpool_t threadpool = nullptr;
  std::vector<xnn_operator_t> operators;
  std::vector<std::string> operator_names;
  std::unique_ptr<float, AlignedFree> arena;
  std::size_t arena_bytes = 0;
  int num_threads = 1;
  bool initialized = false;
  std::string error;

  std::vector<TensorInfo> tensors;
  std::vector<BufferInfo> buffers;
  int input_tensor = -1;
  int output_tensor = -1;

  ~Impl() {
    for (xnn_operator_t op : operators) xnn_delete_operator(op);
    if (threadpool != nullptr) pthreadpool_destroy(threadpool);
    if (initialized) xnn_deinitialize();
  }

  float* tensor_data(int t) {
    const Storage& s = tensors[t].storage;
    return arena.get() + buffers[s.buffer].offset / sizeof(float) + s.channel_offset;
  }

  bool fail(const std::string& message) {
    error = message;
    return false;
  }
  bool check(xnn_status status, const std::string& what) {
    if (status == xnn_status_success) return true;
    return fail(what + ": XNNPACK " + xnn_status_name(status));
  }

  bool build(const fb::Model* model, const XnnpackBaselineOptions& options);
  bool infer_shapes(const fb::Model* model, int height, int width);
  bool assign_storage(const fb::Model* model);
  void plan_arena();
  bool create_operators(const fb::Model* model);
};

bool XnnpackBaseline::Impl::infer_shapes(const fb::Model* model, int height, int width) {
  const auto* ops = model->operators();
  for (flatbuffers::uoffset_t i = 0; i < model->tensors()->size(); ++i) {
    const auto* shape = model->tensors()->Get(i)->shape();
    if (shape == nullptr || shape->size() != 4)
      return fail("tensor " + std::to_string(i) + " is not 4-D");
  }
  tensors.assign(model->tensors()->size(), TensorInfo{});
  if (model->inputs() == nullptr || model->inputs()->size() != 1 || model->outputs() == nullptr ||
      model->outputs()->size() != 1)
    return fail("the baseline supports one graph input and one output");
  input_tensor = model->inputs()->Get(0);
  output_tensor = model->outputs()->Get(0);
  if (input_tensor < 0 || static_cast<std::size_t>(input_tensor) >= tensors.size() ||
      output_tensor < 0 || static_cast<std::size_t>(output_tensor) >= tensors.size())
    return fail("graph input/output index out of range");
  TensorInfo& in = tensors[input_tensor];
  in.channels = model->tensors()->Get(input_tensor)->shape()->Get(1);
  in.height = height;
  in.width = width;
  for (flatbuffers::uoffset_t i = 0; i < ops->size(); ++i) {
    const fb::Operator* op = ops->Get(i);
    const std::string name = op->name() ? op->name()->str() : "op" + std::to_string(i);
    if (op->inputs() == nullptr || op->inputs()->size() == 0 || op->outputs() == nullptr ||
        op->outputs()->size() != 1)
      return fail(name + ": needs inputs and exactly one output");
    for (int t : *op->inputs()) {
      if (t < 0 || static_cast<std::size_t>(t) >= tensors.size() ||
          (tensors[t].producer < 0 && t != input_tensor))
        return fail(name + ": input tensor " + std::to_string(t) + " is not produced before use");
      ++tensors[t].consumers;
    }
    const int o = op->outputs()->Get(0);
    if (o < 0 || static_cast<std::size_t>(o) >= tensors.size() || o == input_tensor ||
        tensors[o].producer >= 0)
      return fail(name + ": bad output tensor");
    TensorInfo& out = tensors[o];
    out.producer = static_cast<int>(i);
    const TensorInfo& x = tensors[op->inputs()->Get(0)];
    switch (op->options_type()) {
      case fb::OperatorOptions::Conv2DOptions: {
        const auto* c = op->options_as_Conv2DOptions();
        out.channels = c->out_channels();
        out.height = static_cast<int>(
            gnrt::shape_rules::conv_out(x.height, c->kernel_h(), c->stride_h(), c->pad_top(),
                                        c->pad_bottom(), c->dilation_h()));
        out.width = static_cast<int>(gnrt::shape_rules::conv_out(
            x.width, c->kernel_w(), c->stride_w(), c->pad_left(), c->pad_right(), c->dilation_w()));
        break;
      }
      case fb::OperatorOptions::Pool2DOptions: {
        const auto* p = op->options_as_Pool2DOptions();
        out.channels = x.channels;
        if (p->global()) {
          out.height = out.width = 1;
        } else {
          out.height = static_cast<int>(
              gnrt::shape_rules::pool_out(x.height, p->kernel_h(), p->stride_h(), p->pad_top(),
                                          p->pad_bottom(), p->ceil_mode()));
          out.width = static_cast<int>(gnrt::shape_rules::pool_out(x.width, p->kernel_w(),
                                                                   p->stride_w(), p->pad_left(),
                                                                   p->pad_right(), p->ceil_mode()));
        }
        break;
      }
      case fb::OperatorOptions::ConcatOptions: {
        out.channels = 0;
        out.height = x.height;
        out.width = x.width;
        for (int t : *op->inputs()) {
          if (tensors[t].height != x.height || tensors[t].width != x.width)
            return fail(name + ": concatenated tensors differ in size");
          out.channels += tensors[t].channels;
        }
        break;
      }
      case fb::OperatorOptions::FullyConnectedOptions:
        out.channels = op->options_as_FullyConnectedOptions()->out_features();
        out.height = out.width = 1;
        break;
      case fb::OperatorOptions::SoftmaxOptions:
        out.channels = x.channels;
        out.height = x.height;
        out.width = x.width;
        break;
      default:
        return fail(name + ": operator kind not supported by the XNNPACK baseline");
    }
    if (out.channels <= 0 || out.height <= 0 || out.width <= 0)
      return fail(name + ": empty output at this input size");
  }
  if (tensors[output_tensor].producer < 0) return fail("the graph output is never produced");
  return true;
}

bool XnnpackBaseline::Impl::assign_storage(const fb::Model* model) {
  const auto* ops = model->operators();
  auto new_buffer = [&](int t) {
    BufferInfo b;
    b.bytes = tensors[t].pixels() * static_cast<std::size_t>(tensors[t].channels) * sizeof(float);
    buffers.push_back(b);
    tensors[t].storage = {static_cast<int>(buffers.size()) - 1, 0,
                          static_cast<std::size_t>(tensors[t].channels)};
  };
  // Outer concatenations first, so that a nested concatenation is itself placed into its slice
  // before its own inputs are placed into it.
  for (int i = static_cast<int>(ops->size()) - 1; i >= 0; --i) {
    const fb::Operator* op = ops->Get(static_cast<flatbuffers::uoffset_t>(i));
    if (op->options_type() != fb::OperatorOptions::ConcatOptions) continue;
    const int o = op->outputs()->Get(0);
    if (tensors[o].storage.buffer < 0) new_buffer(o);
    std::size_t offset = tensors[o].storage.channel_offset;
    for (int t : *op->inputs()) {
      TensorInfo& in = tensors[t];
      if (in.storage.buffer >= 0 || t == input_tensor || t == output_tensor)
        return fail(std::string(op->name() ? op->name()->c_str() : "concat") +
                    ": an input is a graph input/output or feeds two concatenations (unsupported)");
      const auto kind = ops->Get(static_cast<flatbuffers::uoffset_t>(in.producer))->options_type();
      if (kind == fb::OperatorOptions::SoftmaxOptions)
        return fail("a softmax output cannot be concatenated in place (unsupported)");
      in.storage = {tensors[o].storage.buffer, offset, tensors[o].storage.pixel_stride};
      offset += static_cast<std::size_t>(in.channels);
    }
  }
  for (std::size_t t = 0; t < tensors.size(); ++t) {
    if (tensors[t].storage.buffer < 0 &&
        (tensors[t].producer >= 0 || static_cast<int>(t) == input_tensor))
      new_buffer(static_cast<int>(t));
  }
  // Lifetimes: from the first operator writing into a buffer to the last one reading from it.
  for (flatbuffers::uoffset_t i = 0; i < ops->size(); ++i) {
    const fb::Operator* op = ops->Get(i);
    const int index = static_cast<int>(i);
    for (int t : *op->inputs()) {
      BufferInfo& b = buffers[tensors[t].storage.buffer];
      b.last_op = std::max(b.last_op, index);
    }
    BufferInfo& b = buffers[tensors[op->outputs()->Get(0)].storage.buffer];
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
    const std::size_t size = align_up(b.bytes + kSlackBytes);
    // Candidate offsets: 0 and the end of every placed buffer that lives at the same time.
    std::vector<std::pair<std::size_t, std::size_t>> busy;
    for (int j : placed) {
      if (overlaps(b, buffers[j]))
        busy.emplace_back(buffers[j].offset, align_up(buffers[j].bytes + kSlackBytes));
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

bool XnnpackBaseline::Impl::create_operators(const fb::Model* model) {
  const auto* ops = model->operators();
  const float inf = std::numeric_limits<float>::infinity();
  // Softmax beta folded into the FC layer that feeds it: fc output index -> beta.
  std::vector<float> fold_beta(tensors.size(), 1.0f);
  for (const fb::Operator* op : *ops) {
    if (op->options_type() != fb::OperatorOptions::SoftmaxOptions) continue;
    const float beta = op->options_as_SoftmaxOptions()->beta();
    if (beta == 1.0f) continue;
    const int t = op->inputs()->Get(0);
    const int producer = tensors[t].producer;
    if (producer < 0 ||
        ops->Get(static_cast<flatbuffers::uoffset_t>(producer))->options_type() !=
            fb::OperatorOptions::FullyConnectedOptions ||
        tensors[t].consumers != 1 || t == output_tensor)
      return fail("softmax with beta != 1 is supported only right after a fully connected layer");
    fold_beta[t] = beta;
  }

  for (flatbuffers::uoffset_t i = 0; i < ops->size(); ++i) {
    const fb::Operator* op = ops->Get(i);
    const std::string name = op->name() ? op->name()->str() : "op" + std::to_string(i);
    const int in_t = op->inputs()->Get(0);
    const int out_t = op->outputs()->Get(0);
    const TensorInfo& in = tensors[in_t];
    const TensorInfo& out = tensors[out_t];
    const float* x = tensor_data(in_t);
    float* y = tensor_data(out_t);
    xnn_operator_t xop = nullptr;
    switch (op->options_type()) {
      case fb::OperatorOptions::Conv2DOptions: {
        const auto* c = op->options_as_Conv2DOptions();
        DenseWeights w;
        std::string message;
        if (!expand_weights(c->weights(), &w, &message)) return fail(name + ": " + message);
        const int groups = c->groups();
        if (groups <= 0 || in.channels % groups != 0 || out.channels % groups != 0 ||
            w.shape.size() != 4 || w.shape[0] != out.channels ||
            w.shape[1] != in.channels / groups || w.shape[2] != c->kernel_h() ||
            w.shape[3] != c->kernel_w())
          return fail(name + ": weight shape does not match the convolution");
        const int kh = c->kernel_h(), kw = c->kernel_w(), ig = in.channels / groups;
        // OIHW -> O,H,W,I (per group: [group][out][kh][kw][in]; O already runs group-major).
        std::vector<float> ohwi(w.values.size());
        for (int o = 0; o < out.channels; ++o)
          for (int ic = 0; ic < ig; ++ic)
            for (int ky = 0; ky < kh; ++ky)
              for (int kx = 0; kx < kw; ++kx)
                ohwi[((static_cast<std::size_t>(o) * kh + ky) * kw + kx) * ig + ic] =
                    w.values[((static_cast<std::size_t>(o) * ig + ic) * kh + ky) * kw + kx];
        std::vector<float> bias(static_cast<std::size_t>(out.channels), 0.0f);
        if (c->bias() != nullptr) {
          if (c->bias()->size() != bias.size()) return fail(name + ": bias size");
          std::copy(c->bias()->begin(), c->bias()->end(), bias.begin());
        }
        const bool relu = c->activation() == fb::Activation::RELU;
        if (!check(xnn_create_convolution2d_nhwc_f32(
                       c->pad_top(), c->pad_right(), c->pad_bottom(), c->pad_left(), kh, kw,
                       c->stride_h(), c->stride_w(), c->dilation_h(), c->dilation_w(), groups, ig,
                       out.channels / groups, in.storage.pixel_stride, out.storage.pixel_stride,
                       ohwi.data(), bias.data(), relu ? 0.0f : -inf, inf, 0, &xop),
                   name + ": create convolution"))
          return false;
        operators.push_back(xop);
        if (!check(xnn_setup_convolution2d_nhwc_f32(xop, 1, in.height, in.width, x, y, threadpool),
                   name + ": setup convolution"))
          return false;
        break;
      }
      case fb::OperatorOptions::Pool2DOptions: {
        const auto* p = op->options_as_Pool2DOptions();
        const bool relu = p->activation() == fb::Activation::RELU;
        const float lo = relu ? 0.0f : -inf;
        if (p->global()) {
          if (p->type() != fb::PoolType::AVERAGE)
            return fail(name + ": global max pooling is not supported");
          if (!check(xnn_create_global_average_pooling_nwc_f32(in.channels, in.storage.pixel_stride,
                                                               out.storage.pixel_stride, lo, inf, 0,
                                                               &xop),
                     name + ": create global average pooling"))
            return false;
          operators.push_back(xop);
          if (!check(
                  xnn_setup_global_average_pooling_nwc_f32(xop, 1, in.pixels(), x, y, threadpool),
                  name + ": setup global average pooling"))
            return false;
          break;
        }
        if (p->type() == fb::PoolType::MAXIMUM) {
          // Ceil mode: pad the bottom/right so that floor arithmetic yields the same output size.
          // Padded taps never win (XNNPACK's max pooling ignores them), as in the reference.
          const int pad_bottom =
              std::max(p->pad_bottom(),
                       (out.height - 1) * p->stride_h() + p->kernel_h() - in.height - p->pad_top());
          const int pad_right =
              std::max(p->pad_right(),
                       (out.width - 1) * p->stride_w() + p->kernel_w() - in.width - p->pad_left());
          if (!check(xnn_create_max_pooling2d_nhwc_f32(
                         p->pad_top(), pad_right, pad_bottom, p->pad_left(), p->kernel_h(),
                         p->kernel_w(), p->stride_h(), p->stride_w(), 1, 1, in.channels,
                         in.storage.pixel_stride, out.storage.pixel_stride, lo, inf, 0, &xop),
                     name + ": create max pooling"))
            return false;
          operators.push_back(xop);
          if (!check(
                  xnn_setup_max_pooling2d_nhwc_f32(xop, 1, in.height, in.width, x, y, threadpool),
                  name + ": setup max pooling"))
            return false;
          break;
        }
        // Windowed average pooling: only where XNNPACK's and the model's semantics coincide.
        if (p->pad_top() || p->pad_left() || p->pad_bottom() || p->pad_right() || p->ceil_mode())
          return fail(name +
                      ": padded or ceil-mode average pooling is not supported by the baseline");
        if (!check(xnn_create_average_pooling2d_nhwc_f32(
                       0, 0, 0, 0, p->kernel_h(), p->kernel_w(), p->stride_h(), p->stride_w(),
                       in.channels, in.storage.pixel_stride, out.storage.pixel_stride, lo, inf, 0,
                       &xop),
                   name + ": create average pooling"))
          return false;
        operators.push_back(xop);
        if (!check(
                xnn_setup_average_pooling2d_nhwc_f32(xop, 1, in.height, in.width, x, y, threadpool),
                name + ": setup average pooling"))
          return false;
        break;
      }
      case fb::OperatorOptions::ConcatOptions:
        continue;  // in place: the producers wrote into their slices
      case fb::OperatorOptions::FullyConnectedOptions: {
        const auto* f = op->options_as_FullyConnectedOptions();
        DenseWeights w;
        std::string message;
        if (!expand_weights(f->weights(), &w, &message)) return fail(name + ": " + message);
        const std::size_t features = in.pixels() * static_cast<std::size_t>(in.channels);
        if (w.shape.size() != 2 || static_cast<std::size_t>(w.shape[1]) != features ||
            w.shape[0] != out.channels)
          return fail(name + ": weight shape does not match the layer");
        if (in.pixels() > 1 && in.storage.pixel_stride != static_cast<std::size_t>(in.channels))
          return fail(name + ": FC over a concatenated slice with H*W > 1 is not supported");
        // The model flattens C,H,W; XNNPACK sees H,W,C.
        std::vector<float> weights(w.values.size());
        const float beta = fold_beta[out_t];
        for (int o = 0; o < out.channels; ++o)
          for (int ch = 0; ch < in.channels; ++ch)
            for (std::size_t p = 0; p < in.pixels(); ++p)
              weights[o * features + p * in.channels + ch] =
                  beta * w.values[o * features + ch * in.pixels() + p];
        std::vector<float> bias(static_cast<std::size_t>(out.channels), 0.0f);
        if (f->bias() != nullptr) {
          if (f->bias()->size() != bias.size()) return fail(name + ": bias size");
          for (std::size_t k = 0; k < bias.size(); ++k)
            bias[k] = beta * f->bias()->Get(static_cast<flatbuffers::uoffset_t>(k));
        }
        const bool relu = f->activation() == fb::Activation::RELU;
        const std::size_t input_stride = in.pixels() > 1 ? features : in.storage.pixel_stride;
        if (!check(xnn_create_fully_connected_nc_f32(features, out.channels, input_stride,
                                                     out.storage.pixel_stride, weights.data(),
                                                     bias.data(), relu ? 0.0f : -inf, inf, 0, &xop),
                   name + ": create fully connected"))
          return false;
        operators.push_back(xop);
        if (!check(xnn_setup_fully_connected_nc_f32(xop, 1, x, y, threadpool),
                   name + ": setup fully connected"))
          return false;
        break;
      }
      case fb::OperatorOptions::SoftmaxOptions: {
        const std::size_t n = in.pixels() * static_cast<std::size_t>(in.channels);
        if ((in.pixels() > 1 && in.storage.pixel_stride != static_cast<std::size_t>(in.channels)) ||
            (out.pixels() > 1 &&
             out.storage.pixel_stride != static_cast<std::size_t>(out.channels)))
          return fail(name + ": softmax over a strided tensor is not supported");
        const std::size_t in_stride = in.pixels() > 1 ? n : in.storage.pixel_stride;
        const std::size_t out_stride = out.pixels() > 1 ? n : out.storage.pixel_stride;
        if (!check(xnn_create_softmax_nc_f32(n, in_stride, out_stride, 0, &xop),
                   name + ": create softmax"))
          return false;
        operators.push_back(xop);
        if (!check(xnn_setup_softmax_nc_f32(xop, 1, x, y, threadpool), name + ": setup softmax"))
          return false;
        break;
      }
      default:
        return fail(name + ": unsupported operator");
    }
    operator_names.push_back(name);
  }
  return true;
}

bool XnnpackBaseline::Impl::build(const fb::Model* model, const XnnpackBaselineOptions& options) {
  if (options.num_threads < 1) return fail("num_threads must be >= 1");
  if (model->operators() == nullptr || model->tensors() == nullptr ||
      model->operators()->size() == 0)
    return fail("model without operators");
  int height = options.input_height, width = options.input_width;
  const fb::Metadata* meta = model->metadata();
  if (height == 0) height = meta ? meta->default_height() : 0;
  if (width == 0) width = meta ? meta->default_width() : 0;
  if (height <= 0 || width <= 0) return fail("no input size given and none recorded in the model");
  if (!infer_shapes(model, height, width) || !assign_storage(model)) return false;
  plan_arena();
  arena.reset(static_cast<float*>(std::aligned_alloc(kAlignment, align_up(arena_bytes))));
  if (!arena) return fail("cannot allocate the activation arena");
  std::memset(arena.get(), 0, arena_bytes);

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
                                                         std::string* error) {
  flatbuffers::Verifier verifier(static_cast<const std::uint8_t*>(model_data), model_size);
  if (model_data == nullptr || !fb::VerifyModelBuffer(verifier)) {
    *error = "not a valid .gnrt model (FlatBuffers verification failed)";
    return nullptr;
  }
  auto impl = std::make_unique<Impl>();
  if (!impl->build(fb::GetModel(model_data), options)) {
    *error = "XNNPACK baseline: " + impl->error;
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
  const TensorInfo& t = impl_->tensors[impl_->input_tensor];
  if (nchw == nullptr || count != t.pixels() * static_cast<std::size_t>(t.channels))
    return impl_->fail("set_input: wrong element count");
  float* dst = impl_->tensor_data(impl_->input_tensor);
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
  const TensorInfo& t = impl_->tensors[impl_->output_tensor];
  if (nchw == nullptr || count != t.pixels() * static_cast<std::size_t>(t.channels))
    return impl_->fail("get_output: wrong element count");
  const float* src = impl_->tensor_data(impl_->output_tensor);
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
