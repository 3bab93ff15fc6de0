#include "validate.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "gnrt/format_version.h"
#include "gnrt/shape_rules.h"

namespace gnrt {

namespace {

bool valid_activation(fb::Activation a) {
  return a == fb::Activation::NONE || a == fb::Activation::RELU;
}

// The output shape an operator produces at the model's default size.
struct OutputShape {
  std::int64_t channels = 0, height = 0, width = 0;
};

// What every operator's decoder gets: the operator, its label for messages and its first input.
struct OpContext {
  int index = 0;
  const fb::Operator* op = nullptr;
  std::string where;  // "operator 3 'name'", the prefix of every message about it
  const TensorDesc* in = nullptr;
  bool single_input = false;
};

// The window fields Conv2DOptions and Pool2DOptions share.
template <class Options>
void read_window(const Options* o, OpDesc* d) {
  d->kernel_h = o->kernel_h();
  d->kernel_w = o->kernel_w();
  d->stride_h = o->stride_h();
  d->stride_w = o->stride_w();
  d->pad_top = o->pad_top();
  d->pad_left = o->pad_left();
  d->pad_bottom = o->pad_bottom();
  d->pad_right = o->pad_right();
}

// Every check below names what it rejects; the first failing check wins.
class Validator {
 public:
  explicit Validator(Model* model) : m_(model) {}

  Status run();

 private:
  Status fail(const std::string& message) { return make_error(GNRT_INVALID_MODEL, message); }
  std::string op_label(int index, const fb::Operator* op) const {
    std::string label = "operator " + std::to_string(index);
    if (op && op->name()) label += " '" + std::string(op->name()->c_str()) + "'";
    return label;
  }
  Status check_tensor_index(const std::string& where, int index) const {
    if (index < 0 || index >= static_cast<int>(m_->tensors.size()))
      return make_error(GNRT_INVALID_MODEL, where + ": tensor index " + std::to_string(index) +
                                                " out of range [0, " +
                                                std::to_string(m_->tensors.size()) + ")");
    return Status::Ok();
  }

  // Phases of run(), in order.
  Status check_header();
  Status decode_tensors();
  Status decode_graph_io();
  Status decode_operators();
  Status check_graph_outputs();
  Status decode_metadata();

  // One operator: the parts every operator has, then its type's decoder.
  Status decode_operator(int index, const fb::Operator* op);
  Status decode_edges(const OpContext& c, OpDesc* d);
  Status conv2d(const OpContext& c, OpDesc* d, OutputShape* expect);
  Status pool2d(const OpContext& c, OpDesc* d, OutputShape* expect);
  Status concat(const OpContext& c, OpDesc* d, OutputShape* expect);
  Status fully_connected(const OpContext& c, OpDesc* d, OutputShape* expect);
  Status softmax(const OpContext& c, OpDesc* d, OutputShape* expect);
  Status check_output_shape(const OpContext& c, const OpDesc& d, const OutputShape& expect);

  // Helpers the operator decoders share.
  Status check_kernel_and_stride(const std::string& where, const OpDesc& d);
  Status check_conv_window(const std::string& where, const OpDesc& d);
  Status check_pool_window(const std::string& where, const OpDesc& d);
  Status decode_activation(const std::string& where, fb::Activation activation, OpDesc* d);
  Status decode_bias(const std::string& where, const flatbuffers::Vector<float>* bias, OpDesc* d);
  void count_parameters(const WeightRef& w);

  // Weights: the shape and encoding, then the dense or sparse rows.
  Status decode_weights(const std::string& where, const fb::Weights* w,
                        const std::vector<int>& expected_shape, WeightRef* out);
  Status decode_values(const std::string& where, const fb::Weights* w, WeightRef* out);
  Status decode_dense_rows(const std::string& where, const fb::Weights* w, std::uint64_t total,
                           WeightRef* out);
  Status decode_sparse_rows(const std::string& where, const fb::Weights* w, WeightRef* out);

  Model* m_;
  std::vector<bool> defined_;     // tensors computed so far (the input, then each op's output)
  std::vector<int> concat_seen_;  // per tensor: the operator that last listed it in a concat
};

Status Validator::decode_weights(const std::string& where, const fb::Weights* w,
                                 const std::vector<int>& expected_shape, WeightRef* out) {
  if (!w) return fail(where + ": weights missing");
  if (!w->shape() || w->shape()->size() != expected_shape.size())
    return fail(where + ": weight shape must have " + std::to_string(expected_shape.size()) +
                " dimensions");
  for (std::size_t i = 0; i < expected_shape.size(); ++i) {
    if (w->shape()->Get(static_cast<flatbuffers::uoffset_t>(i)) != expected_shape[i]) {
      std::string want, got;
      for (std::size_t j = 0; j < expected_shape.size(); ++j) {
        want += (j ? "x" : "") + std::to_string(expected_shape[j]);
        got += (j ? "x" : "") +
               std::to_string(w->shape()->Get(static_cast<flatbuffers::uoffset_t>(j)));
      }
      return fail(where + ": weight shape " + got + " does not match the operator (" + want + ")");
    }
  }
  std::uint64_t total = 1;
  for (int d : expected_shape) total *= static_cast<std::uint64_t>(d);
  const std::uint64_t rows = static_cast<std::uint64_t>(expected_shape[0]);
  const std::uint64_t row_length = total / rows;
  if (row_length > 0xffffffffull) return fail(where + ": weight rows too long");
  out->rows = expected_shape[0];
  out->row_length = static_cast<int>(row_length);

  const fb::WeightLayout layout = w->layout();
  if (layout != fb::WeightLayout::DENSE && layout != fb::WeightLayout::SPARSE_ROWS)
    return fail(where + ": unknown weight layout " + std::to_string(static_cast<int>(layout)));
  const fb::ValueType vt = w->value_type();
  if (vt != fb::ValueType::FLOAT32 && vt != fb::ValueType::FLOAT16)
    return fail(where + ": unknown value type " + std::to_string(static_cast<int>(vt)));
  out->sparse = layout == fb::WeightLayout::SPARSE_ROWS;
  out->float16 = vt == fb::ValueType::FLOAT16;
  if (Status s = decode_values(where, w, out); !s.ok()) return s;
  return out->sparse ? decode_sparse_rows(where, w, out) : decode_dense_rows(where, w, total, out);
}

// The value vector of the declared type (and no other), pointed to in place.
Status Validator::decode_values(const std::string& where, const fb::Weights* w, WeightRef* out) {
  if (out->float16) {
    if (!w->values_f16() || w->values_f32())
      return fail(where + ": float16 weights need exactly values_f16");
    out->values_f16 = w->values_f16()->data();
    out->value_count = w->values_f16()->size();
  } else {
    if (!w->values_f32() || w->values_f16())
      return fail(where + ": float32 weights need exactly values_f32");
    out->values_f32 = w->values_f32()->data();
    out->value_count = w->values_f32()->size();
    if (reinterpret_cast<std::uintptr_t>(out->values_f32) % alignof(float) != 0)
      return fail(where + ": weight values are not 4-byte aligned (buffer misaligned?)");
  }
  return Status::Ok();
}

Status Validator::decode_dense_rows(const std::string& where, const fb::Weights* w,
                                    std::uint64_t total, WeightRef* out) {
  const std::size_t value_count = out->value_count;
  if (w->row_nonzeros() || w->indices_u8() || w->indices_u16() || w->indices_u32())
    return fail(where + ": dense weights must not carry sparse index vectors");
  if (value_count != total)
    return fail(where + ": dense weights hold " + std::to_string(value_count) +
                " values, expected " + std::to_string(total));
  std::uint64_t nnz = 0;
  for (std::size_t i = 0; i < value_count; ++i) {
    if (out->float16) {
      nnz += (out->values_f16[i] & 0x7fffu) != 0;
    } else {
      nnz += out->values_f32[i] != 0.0f;
    }
  }
  out->nonzeros = nnz;
  out->stored_bytes = value_count * (out->float16 ? 2 : 4);
  return Status::Ok();
}

// Row counts within the row length, one index vector as long as the values, and per row
// strictly ascending indices below the row length.
Status Validator::decode_sparse_rows(const std::string& where, const fb::Weights* w,
                                     WeightRef* out) {
  const std::uint64_t rows = static_cast<std::uint64_t>(out->rows);
  const std::uint64_t row_length = static_cast<std::uint64_t>(out->row_length);
  const std::size_t value_count = out->value_count;
  if (!w->row_nonzeros() || w->row_nonzeros()->size() != rows)
    return fail(where + ": sparse weights need row_nonzeros with one entry per output channel (" +
                std::to_string(rows) + ")");
  const int index_vectors =
      (w->indices_u8() != nullptr) + (w->indices_u16() != nullptr) + (w->indices_u32() != nullptr);
  if (index_vectors != 1) return fail(where + ": sparse weights need exactly one index vector");
  out->row_nonzeros = w->row_nonzeros()->data();
  std::uint64_t sum = 0;
  for (std::uint64_t r = 0; r < rows; ++r) {
    const std::uint32_t count = out->row_nonzeros[r];
    if (count > row_length)
      return fail(where + ": output channel " + std::to_string(r) + " declares " +
                  std::to_string(count) + " nonzeros, more than its " + std::to_string(row_length) +
                  " weights");
    sum += count;
  }
  std::size_t index_count = 0;
  if (w->indices_u8()) {
    out->indices_u8 = w->indices_u8()->data();
    index_count = w->indices_u8()->size();
  } else if (w->indices_u16()) {
    out->indices_u16 = w->indices_u16()->data();
    index_count = w->indices_u16()->size();
  } else {
    out->indices_u32 = w->indices_u32()->data();
    index_count = w->indices_u32()->size();
  }
  if (index_count != sum || value_count != sum)
    return fail(where + ": sparse weights declare " + std::to_string(sum) + " nonzeros but hold " +
                std::to_string(index_count) + " indices and " + std::to_string(value_count) +
                " values");
  std::uint64_t pos = 0;
  for (std::uint64_t r = 0; r < rows; ++r) {
    std::int64_t previous = -1;
    for (std::uint32_t k = 0; k < out->row_nonzeros[r]; ++k, ++pos) {
      const std::uint64_t index = out->indices_u8    ? out->indices_u8[pos]
                                  : out->indices_u16 ? out->indices_u16[pos]
                                                     : out->indices_u32[pos];
      if (index >= row_length)
        return fail(where + ": output channel " + std::to_string(r) + " has index " +
                    std::to_string(index) + " out of range [0, " + std::to_string(row_length) +
                    ")");
      if (static_cast<std::int64_t>(index) <= previous)
        return fail(where + ": output channel " + std::to_string(r) +
                    " has indices not strictly ascending");
      previous = static_cast<std::int64_t>(index);
    }
  }
  out->nonzeros = sum;
  const std::size_t index_bytes = out->indices_u8 ? 1 : out->indices_u16 ? 2 : 4;
  out->stored_bytes = sum * ((out->float16 ? 2 : 4) + index_bytes) + rows * 4;
  return Status::Ok();
}

Status Validator::check_kernel_and_stride(const std::string& where, const OpDesc& d) {
  if (d.kernel_h < 1 || d.kernel_h > kMaxKernel || d.kernel_w < 1 || d.kernel_w > kMaxKernel)
    return fail(where + ": kernel size out of range [1, " + std::to_string(kMaxKernel) + "]");
  if (d.stride_h < 1 || d.stride_h > kMaxStride || d.stride_w < 1 || d.stride_w > kMaxStride)
    return fail(where + ": stride out of range");
  return Status::Ok();
}

Status Validator::check_conv_window(const std::string& where, const OpDesc& d) {
  if (Status s = check_kernel_and_stride(where, d); !s.ok()) return s;
  if (d.dilation_h < 1 || d.dilation_h > kMaxKernel || d.dilation_w < 1 ||
      d.dilation_w > kMaxKernel)
    return fail(where + ": dilation out of range");
  constexpr int kMaxPad = kMaxKernel * kMaxKernel;
  if (d.pad_top < 0 || d.pad_left < 0 || d.pad_bottom < 0 || d.pad_right < 0 ||
      d.pad_top > kMaxPad || d.pad_left > kMaxPad || d.pad_bottom > kMaxPad ||
      d.pad_right > kMaxPad)
    return fail(where + ": padding out of range");
  return Status::Ok();
}

Status Validator::check_pool_window(const std::string& where, const OpDesc& d) {
  if (Status s = check_kernel_and_stride(where, d); !s.ok()) return s;
  // As in PyTorch: padding at most half the window, so every window overlaps the input.
  // (p > k / 2 rather than 2 * p > k: a padding near INT_MAX overflowed; found by fuzz/fuzz_model.)
  if (d.pad_top < 0 || d.pad_left < 0 || d.pad_bottom < 0 || d.pad_right < 0 ||
      d.pad_top > d.kernel_h / 2 || d.pad_bottom > d.kernel_h / 2 || d.pad_left > d.kernel_w / 2 ||
      d.pad_right > d.kernel_w / 2)
    return fail(where + ": padding must be between 0 and half the pooling window");
  return Status::Ok();
}

Status Validator::decode_activation(const std::string& where, fb::Activation activation,
                                    OpDesc* d) {
  if (!valid_activation(activation)) return fail(where + ": unknown activation");
  d->relu = activation == fb::Activation::RELU;
  return Status::Ok();
}

// An optional bias of one entry per output channel (d->out_channels), pointed to in place.
Status Validator::decode_bias(const std::string& where, const flatbuffers::Vector<float>* bias,
                              OpDesc* d) {
  if (!bias) return Status::Ok();
  if (bias->size() != static_cast<flatbuffers::uoffset_t>(d->out_channels))
    return fail(where + ": bias has " + std::to_string(bias->size()) + " entries, expected " +
                std::to_string(d->out_channels));
  d->bias = bias->data();
  return Status::Ok();
}

void Validator::count_parameters(const WeightRef& w) {
  m_->params_dense += static_cast<std::uint64_t>(w.rows) * w.row_length;
  m_->nonzeros += w.nonzeros;
}

Status Validator::conv2d(const OpContext& c, OpDesc* d, OutputShape* expect) {
  const std::string& where = c.where;
  const TensorDesc& in = *c.in;
  const fb::Conv2DOptions* o = c.op->options_as_Conv2DOptions();
  if (!o) return fail(where + ": Conv2D options missing");
  if (!c.single_input) return fail(where + ": Conv2D takes one input");
  d->type = OpType::kConv2D;
  read_window(o, d);
  d->dilation_h = o->dilation_h();
  d->dilation_w = o->dilation_w();
  d->groups = o->groups();
  d->out_channels = o->out_channels();
  if (Status s = check_conv_window(where, *d); !s.ok()) return s;
  if (d->out_channels < 1 || d->out_channels > kMaxChannels)
    return fail(where + ": out_channels out of range");
  if (d->groups < 1 || in.channels % d->groups != 0 || d->out_channels % d->groups != 0)
    return fail(where + ": groups (" + std::to_string(d->groups) +
                ") must divide input channels (" + std::to_string(in.channels) +
                ") and out_channels (" + std::to_string(d->out_channels) + ")");
  if (Status s = decode_activation(where, o->activation(), d); !s.ok()) return s;
  if (Status s = decode_weights(
          where, o->weights(), {d->out_channels, in.channels / d->groups, d->kernel_h, d->kernel_w},
          &d->weights);
      !s.ok())
    return s;
  if (Status s = decode_bias(where, o->bias(), d); !s.ok()) return s;
  expect->channels = d->out_channels;
  expect->height = shape_rules::conv_out(in.default_height, d->kernel_h, d->stride_h, d->pad_top,
                                         d->pad_bottom, d->dilation_h);
  expect->width = shape_rules::conv_out(in.default_width, d->kernel_w, d->stride_w, d->pad_left,
                                        d->pad_right, d->dilation_w);
  count_parameters(d->weights);
  return Status::Ok();
}

Status Validator::pool2d(const OpContext& c, OpDesc* d, OutputShape* expect) {
  const std::string& where = c.where;
  const TensorDesc& in = *c.in;
  const fb::Pool2DOptions* o = c.op->options_as_Pool2DOptions();
  if (!o) return fail(where + ": Pool2D options missing");
  if (!c.single_input) return fail(where + ": Pool2D takes one input");
  if (o->type() != fb::PoolType::MAXIMUM && o->type() != fb::PoolType::AVERAGE)
    return fail(where + ": unknown pool type");
  if (Status s = decode_activation(where, o->activation(), d); !s.ok()) return s;
  expect->channels = in.channels;
  if (o->global()) {
    if (o->type() != fb::PoolType::AVERAGE)
      return fail(where + ": only global average pooling is supported");
    d->type = OpType::kGlobalAvgPool;
    expect->height = expect->width = 1;
    return Status::Ok();
  }
  d->type = o->type() == fb::PoolType::MAXIMUM ? OpType::kMaxPool : OpType::kAvgPool;
  read_window(o, d);
  d->ceil_mode = o->ceil_mode();
  d->count_include_pad = o->count_include_pad();
  if (Status s = check_pool_window(where, *d); !s.ok()) return s;
  expect->height = shape_rules::pool_out(in.default_height, d->kernel_h, d->stride_h, d->pad_top,
                                         d->pad_bottom, d->ceil_mode);
  expect->width = shape_rules::pool_out(in.default_width, d->kernel_w, d->stride_w, d->pad_left,
                                        d->pad_right, d->ceil_mode);
  return Status::Ok();
}

Status Validator::concat(const OpContext& c, OpDesc* d, OutputShape* expect) {
  const std::string& where = c.where;
  const TensorDesc& in = *c.in;
  const fb::ConcatOptions* o = c.op->options_as_ConcatOptions();
  if (!o) return fail(where + ": Concat options missing");
  if (o->axis() != 1) return fail(where + ": only channel concatenation (axis 1) is supported");
  d->type = OpType::kConcat;
  for (int t : d->inputs) {
    const TensorDesc& ti = m_->tensors[t];
    if (ti.default_height != in.default_height || ti.default_width != in.default_width)
      return fail(where + ": inputs differ in height/width");
    expect->channels += ti.channels;
  }
  // Linear, not pairwise: 1024 inputs in each of thousands of concats made loading take
  // seconds per 100 KB of file (see docs/reliability.md).
  for (int t : d->inputs) {
    if (concat_seen_[t] == c.index) return fail(where + ": the same tensor appears twice");
    concat_seen_[t] = c.index;
  }
  expect->height = in.default_height;
  expect->width = in.default_width;
  return Status::Ok();
}

Status Validator::fully_connected(const OpContext& c, OpDesc* d, OutputShape* expect) {
  const std::string& where = c.where;
  const TensorDesc& in = *c.in;
  const fb::FullyConnectedOptions* o = c.op->options_as_FullyConnectedOptions();
  if (!o) return fail(where + ": FullyConnected options missing");
  if (!c.single_input) return fail(where + ": FullyConnected takes one input");
  d->type = OpType::kFullyConnected;
  d->out_channels = o->out_features();
  if (d->out_channels < 1 || d->out_channels > kMaxChannels)
    return fail(where + ": out_features out of range");
  if (Status s = decode_activation(where, o->activation(), d); !s.ok()) return s;
  const std::int64_t in_features =
      static_cast<std::int64_t>(in.channels) * in.default_height * in.default_width;
  if (in_features > (1 << 24)) return fail(where + ": too many input features");
  if (Status s = decode_weights(where, o->weights(),
                                {d->out_channels, static_cast<int>(in_features)}, &d->weights);
      !s.ok())
    return s;
  if (Status s = decode_bias(where, o->bias(), d); !s.ok()) return s;
  expect->channels = d->out_channels;
  expect->height = expect->width = 1;
  count_parameters(d->weights);
  return Status::Ok();
}

Status Validator::softmax(const OpContext& c, OpDesc* d, OutputShape* expect) {
  const std::string& where = c.where;
  const fb::SoftmaxOptions* o = c.op->options_as_SoftmaxOptions();
  if (!o) return fail(where + ": Softmax options missing");
  if (!c.single_input) return fail(where + ": Softmax takes one input");
  d->type = OpType::kSoftmax;
  d->beta = o->beta();
  if (!std::isfinite(d->beta) || d->beta <= 0.0f)
    return fail(where + ": softmax beta must be positive and finite");
  expect->channels = c.in->channels;
  expect->height = c.in->default_height;
  expect->width = c.in->default_width;
  return Status::Ok();
}

Status Validator::check_header() {
  const fb::Model* root = m_->root;
  const std::uint32_t version = root->format_version();
  if (version / 1000 != kFormatVersionMajor)
    return fail("unsupported format version " + std::to_string(version / 1000) + "." +
                std::to_string(version % 1000) + " (this runtime reads " +
                std::to_string(kFormatVersionMajor) + ".x)");
  if (!root->tensors() || root->tensors()->size() == 0) return fail("model has no tensors");
  if (root->tensors()->size() > static_cast<flatbuffers::uoffset_t>(kMaxTensors))
    return fail("model has too many tensors");
  if (!root->operators() || root->operators()->size() == 0) return fail("model has no operators");
  if (root->operators()->size() > static_cast<flatbuffers::uoffset_t>(kMaxOperators))
    return fail("model has too many operators");
  return Status::Ok();
}

Status Validator::decode_tensors() {
  const auto* tensors = m_->root->tensors();
  m_->tensors.resize(tensors->size());
  for (flatbuffers::uoffset_t i = 0; i < tensors->size(); ++i) {
    const fb::Tensor* t = tensors->Get(i);
    TensorDesc& d = m_->tensors[i];
    d.name = t->name() ? t->name()->str() : "#" + std::to_string(i);
    const std::string where = "tensor " + std::to_string(i) + " '" + d.name + "'";
    if (!t->shape() || t->shape()->size() != 4)
      return fail(where + ": shape must be NCHW (4 dimensions)");
    const auto* s = t->shape();
    if (s->Get(0) != 1) return fail(where + ": batch must be 1");
    if (s->Get(1) < 1 || s->Get(1) > kMaxChannels) return fail(where + ": channels out of range");
    if (s->Get(2) < 1 || s->Get(2) > kMaxSpatial || s->Get(3) < 1 || s->Get(3) > kMaxSpatial)
      return fail(where + ": height/width out of range [1, " + std::to_string(kMaxSpatial) + "]");
    d.channels = s->Get(1);
    d.default_height = s->Get(2);
    d.default_width = s->Get(3);
  }
  return Status::Ok();
}

Status Validator::decode_graph_io() {
  const fb::Model* root = m_->root;
  if (!root->inputs() || root->inputs()->size() != 1)
    return fail("model must have exactly one input");
  m_->input = root->inputs()->Get(0);
  if (Status s = check_tensor_index("graph input", m_->input); !s.ok()) return s;
  if (!root->outputs() || root->outputs()->size() == 0) return fail("model has no outputs");
  for (flatbuffers::uoffset_t i = 0; i < root->outputs()->size(); ++i) {
    const int out = root->outputs()->Get(i);
    if (Status s = check_tensor_index("graph output", out); !s.ok()) return s;
    m_->outputs.push_back(out);
  }
  return Status::Ok();
}

// Inputs computed before the operator (at most kMaxConcatInputs of them), one output not yet
// defined.
Status Validator::decode_edges(const OpContext& c, OpDesc* d) {
  const fb::Operator* op = c.op;
  const std::string& where = c.where;
  if (!op->inputs() || op->inputs()->size() == 0) return fail(where + ": no inputs");
  if (!op->outputs() || op->outputs()->size() != 1)
    return fail(where + ": must have exactly one output");
  for (flatbuffers::uoffset_t k = 0;
       k < op->inputs()->size() && k <= static_cast<flatbuffers::uoffset_t>(kMaxConcatInputs);
       ++k) {
    const int t = op->inputs()->Get(k);
    // (The message is built only on failure: building it per input cost more than the check.)
    if (t < 0 || t >= static_cast<int>(m_->tensors.size()))
      return check_tensor_index(where + " input", t);
    if (!defined_[t])
      return fail(where + ": input tensor '" + m_->tensors[t].name +
                  "' is not computed before this operator");
    d->inputs.push_back(t);
  }
  if (op->inputs()->size() > static_cast<flatbuffers::uoffset_t>(kMaxConcatInputs))
    return fail(where + ": too many inputs");
  d->output = op->outputs()->Get(0);
  if (Status s = check_tensor_index(where + " output", d->output); !s.ok()) return s;
  if (defined_[d->output])
    return fail(where + ": output tensor '" + m_->tensors[d->output].name + "' is already defined");
  return Status::Ok();
}

Status Validator::check_output_shape(const OpContext& c, const OpDesc& d,
                                     const OutputShape& expect) {
  const TensorDesc& out = m_->tensors[d.output];
  if (expect.height < 1 || expect.width < 1)
    return fail(c.where + ": window does not fit its input at the default size");
  if (out.channels != expect.channels || out.default_height != expect.height ||
      out.default_width != expect.width)
    return fail(c.where + ": output tensor '" + out.name + "' is " + std::to_string(out.channels) +
                "x" + std::to_string(out.default_height) + "x" + std::to_string(out.default_width) +
                " but the operator produces " + std::to_string(expect.channels) + "x" +
                std::to_string(expect.height) + "x" + std::to_string(expect.width));
  return Status::Ok();
}

Status Validator::decode_operator(int index, const fb::Operator* op) {
  OpContext c;
  c.index = index;
  c.op = op;
  c.where = op_label(index, op);
  OpDesc d;
  d.name = op->name() ? op->name()->str() : "op" + std::to_string(index);
  if (Status s = decode_edges(c, &d); !s.ok()) return s;
  c.in = &m_->tensors[d.inputs[0]];
  c.single_input = op->inputs()->size() == 1;
  OutputShape expect;
  Status s;
  switch (op->options_type()) {
    case fb::OperatorOptions::Conv2DOptions:
      s = conv2d(c, &d, &expect);
      break;
    case fb::OperatorOptions::Pool2DOptions:
      s = pool2d(c, &d, &expect);
      break;
    case fb::OperatorOptions::ConcatOptions:
      s = concat(c, &d, &expect);
      break;
    case fb::OperatorOptions::FullyConnectedOptions:
      s = fully_connected(c, &d, &expect);
      break;
    case fb::OperatorOptions::SoftmaxOptions:
      s = softmax(c, &d, &expect);
      break;
    default:
      return make_error(GNRT_UNSUPPORTED, c.where + ": unsupported operator type " +
                                              std::to_string(static_cast<int>(op->options_type())) +
                                              " (file written by a newer gnrt?)");
  }
  if (!s.ok()) return s;
  if (Status shape = check_output_shape(c, d, expect); !shape.ok()) return shape;
  m_->tensors[d.output].producer = index;
  defined_[d.output] = true;
  m_->ops.push_back(std::move(d));
  return Status::Ok();
}

// Operators, in execution order; shapes checked at the default size.
Status Validator::decode_operators() {
  defined_ = std::vector<bool>(m_->tensors.size(), false);
  concat_seen_ = std::vector<int>(m_->tensors.size(), -1);
  defined_[m_->input] = true;
  const auto* ops = m_->root->operators();
  m_->ops.reserve(ops->size());
  for (flatbuffers::uoffset_t i = 0; i < ops->size(); ++i)
    if (Status s = decode_operator(static_cast<int>(i), ops->Get(i)); !s.ok()) return s;
  return Status::Ok();
}

Status Validator::check_graph_outputs() {
  for (int out : m_->outputs)
    if (!defined_[out])
      return fail("graph output '" + m_->tensors[out].name + "' is never computed");
  // gnrt_model_info.num_classes is an int (found by fuzz/fuzz_model: the product overflowed).
  const TensorDesc& out = m_->tensors[m_->outputs[0]];
  const std::uint64_t elements =
      static_cast<std::uint64_t>(out.channels) * out.default_height * out.default_width;
  if (elements > 0x7fffffffull)
    return fail("graph output '" + out.name + "' has " + std::to_string(elements) +
                " elements at the default size, more than 2^31 - 1");
  return Status::Ok();
}

// Metadata (optional; defaults from the graph).
Status Validator::decode_metadata() {
  const TensorDesc& input = m_->tensors[m_->input];
  m_->input_channels = input.channels;
  m_->default_height = input.default_height;
  m_->default_width = input.default_width;
  m_->mean.assign(input.channels, 0.0f);
  m_->std_dev.assign(input.channels, 1.0f);
  const fb::Metadata* md = m_->root->metadata();
  if (!md) return Status::Ok();
  if (md->name()) m_->name = md->name()->str();
  if (md->input_channels() != 0 && md->input_channels() != input.channels)
    return fail("metadata input_channels (" + std::to_string(md->input_channels()) +
                ") disagrees with the input tensor (" + std::to_string(input.channels) + ")");
  if ((md->default_height() != 0 && md->default_height() != input.default_height) ||
      (md->default_width() != 0 && md->default_width() != input.default_width))
    return fail("metadata default size disagrees with the input tensor");
  if (md->labels() && md->labels()->size() > 0) {
    const TensorDesc& out = m_->tensors[m_->outputs[0]];
    const std::uint64_t classes =
        static_cast<std::uint64_t>(out.channels) * out.default_height * out.default_width;
    if (md->labels()->size() != classes)
      return fail("metadata has " + std::to_string(md->labels()->size()) + " labels for " +
                  std::to_string(classes) + " outputs");
    for (flatbuffers::uoffset_t i = 0; i < md->labels()->size(); ++i) {
      const flatbuffers::String* s = md->labels()->Get(i);
      if (!s) return fail("metadata label " + std::to_string(i) + " is missing");
      m_->labels.push_back(s->c_str());
    }
  }
  for (const auto* vec : {md->mean(), md->std()}) {
    if (vec && vec->size() != static_cast<flatbuffers::uoffset_t>(input.channels))
      return fail("metadata mean/std must have one entry per input channel");
  }
  for (int c = 0; c < input.channels; ++c) {
    if (md->mean()) m_->mean[c] = md->mean()->Get(c);
    if (md->std()) m_->std_dev[c] = md->std()->Get(c);
    if (!std::isfinite(m_->mean[c]) || !std::isfinite(m_->std_dev[c]) || m_->std_dev[c] == 0.0f)
      return fail("metadata mean/std of channel " + std::to_string(c) +
                  " is not finite or std is zero");
  }
  if (const fb::PruningSummary* p = md->pruning()) {
    m_->params_dense_training = p->params_dense_training();
    m_->nonzeros_training = p->nonzeros_training();
  }
  m_->test_accuracy = md->test_accuracy();
  return Status::Ok();
}

Status Validator::run() {
  for (Status (Validator::*phase)() :
       {&Validator::check_header, &Validator::decode_tensors, &Validator::decode_graph_io,
        &Validator::decode_operators, &Validator::check_graph_outputs,
        &Validator::decode_metadata}) {
    if (Status s = (this->*phase)(); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace

Status validate_model(Model* model) {
  Validator validator(model);
  return validator.run();
}

}  // namespace gnrt
