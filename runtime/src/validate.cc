#include "validate.h"

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gnrt/format_version.h"
#include "gnrt/shape_rules.h"

// GNRT_WITH_INT8=0 (CMake GNRT_INT8=OFF): format 1.1 int8 models are refused with
// GNRT_UNSUPPORTED once they have otherwise validated.
#ifndef GNRT_WITH_INT8
#define GNRT_WITH_INT8 1
#endif

namespace gnrt {

namespace {

constexpr bool kWithInt8 = GNRT_WITH_INT8 != 0;

// Floats in messages: "%g" keeps tiny and huge scales readable (std::to_string prints 0.000000).
std::string float_text(double v) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", v);
  return text;
}

// A scale the int8 arithmetic can use: finite, positive and not denormal.
bool usable_scale(float s) { return std::isnormal(s) && s > 0.0f; }

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

  // Format 1.1: which operators may be int8, and the arithmetic bounds of an int8 layer.
  Status decode_int8_bias(const std::string& where, const flatbuffers::Vector<float>* bias,
                          const flatbuffers::Vector<std::int32_t>* bias_i32, OpDesc* d);
  Status check_accumulator_range(const std::string& where, const OpDesc& d);
  Status check_same_quantization(const std::string& where, const TensorDesc& in,
                                 const TensorDesc& out, const char* what);

  // Weights: the shape and encoding, then the dense or sparse rows.
  Status decode_weights(const std::string& where, const fb::Weights* w,
                        const std::vector<int>& expected_shape, WeightRef* out);
  Status decode_values(const std::string& where, const fb::Weights* w, WeightRef* out);
  Status decode_int8_values(const std::string& where, const fb::Weights* w, WeightRef* out);
  Status decode_delta_indices(const std::string& where, const fb::Weights* w, WeightRef* out);
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
  if (vt != fb::ValueType::FLOAT32 && vt != fb::ValueType::FLOAT16 && vt != fb::ValueType::INT8)
    return fail(where + ": unknown value type " + std::to_string(static_cast<int>(vt)));
  out->sparse = layout == fb::WeightLayout::SPARSE_ROWS;
  out->float16 = vt == fb::ValueType::FLOAT16;
  out->int8 = vt == fb::ValueType::INT8;
  if (out->int8) m_->int8 = true;

  // Block entries (format 1.1): int8 sparse rows only, whole blocks of input channels.
  const int block_size = w->block_size();
  if (!out->int8) {
    if (w->values_i8()) return fail(where + ": float weights must not carry values_i8");
    if (w->scales()) return fail(where + ": float weights must not carry scales");
    if (block_size != 1)
      return fail(where + ": float weights must have block_size 1, got " +
                  std::to_string(block_size));
    if (w->indices_delta()) return fail(where + ": float weights must not carry indices_delta");
  } else {
    if (block_size != 1 && block_size != 2 && block_size != 4 && block_size != 8)
      return fail(where + ": block_size " + std::to_string(block_size) +
                  " must be 1, 2, 4 or 8");
    if (block_size != 1 && !out->sparse)
      return fail(where + ": block_size " + std::to_string(block_size) +
                  " needs SPARSE_ROWS weights");
    if (expected_shape[1] % block_size != 0)
      return fail(where + ": in_per_group (" + std::to_string(expected_shape[1]) +
                  ") is not a multiple of block_size (" + std::to_string(block_size) + ")");
  }
  out->block_size = block_size;
  if (Status s = decode_values(where, w, out); !s.ok()) return s;
  return out->sparse ? decode_sparse_rows(where, w, out) : decode_dense_rows(where, w, total, out);
}

// The value vector of the declared type (and no other), pointed to in place.
Status Validator::decode_values(const std::string& where, const fb::Weights* w, WeightRef* out) {
  if (out->int8) return decode_int8_values(where, w, out);
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

// int8: values in [-127, 127] (symmetric, -128 unused) and one usable scale per output channel.
Status Validator::decode_int8_values(const std::string& where, const fb::Weights* w,
                                     WeightRef* out) {
  if (!w->values_i8() || w->values_f32() || w->values_f16())
    return fail(where + ": int8 weights need exactly values_i8 (no values_f32/values_f16)");
  out->values_i8 = w->values_i8()->data();
  out->value_count = w->values_i8()->size();
  for (std::size_t i = 0; i < out->value_count; ++i) {
    if (out->values_i8[i] < -127)
      return fail(where + ": values_i8[" + std::to_string(i) + "] is " +
                  std::to_string(out->values_i8[i]) + ", outside [-127, 127]");
  }
  if (!w->scales() || w->scales()->size() != static_cast<flatbuffers::uoffset_t>(out->rows))
    return fail(where + ": int8 weights need scales with one entry per output channel (" +
                std::to_string(out->rows) + ")");
  out->scales = w->scales()->data();
  if (reinterpret_cast<std::uintptr_t>(out->scales) % alignof(float) != 0)
    return fail(where + ": weight scales are not 4-byte aligned (buffer misaligned?)");
  for (int r = 0; r < out->rows; ++r) {
    if (!usable_scale(out->scales[r]))
      return fail(where + ": output channel " + std::to_string(r) + " has weight scale " +
                  float_text(out->scales[r]) +
                  "; int8 weight scales must be finite, positive and normal");
  }
  return Status::Ok();
}

Status Validator::decode_dense_rows(const std::string& where, const fb::Weights* w,
                                    std::uint64_t total, WeightRef* out) {
  const std::size_t value_count = out->value_count;
  if (w->row_nonzeros() || w->indices_u8() || w->indices_u16() || w->indices_u32() ||
      w->indices_delta())
    return fail(where + ": dense weights must not carry sparse index vectors");
  if (value_count != total)
    return fail(where + ": dense weights hold " + std::to_string(value_count) +
                " values, expected " + std::to_string(total));
  std::uint64_t nnz = 0;
  for (std::size_t i = 0; i < value_count; ++i) {
    if (out->int8) {
      nnz += out->values_i8[i] != 0;
    } else if (out->float16) {
      nnz += (out->values_f16[i] & 0x7fffu) != 0;
    } else {
      nnz += out->values_f32[i] != 0.0f;
    }
  }
  out->nonzeros = nnz;
  out->stored_bytes = out->int8 ? value_count + static_cast<std::size_t>(out->rows) * 4
                                : value_count * (out->float16 ? 2 : 4);
  return Status::Ok();
}

// Row counts within the row's entries, one index vector as long as the entries, values for
// every weight of every entry, and per row strictly ascending entry indices below
// row_entries(). Indices, counts and bounds are in entries (blocks of block_size weights).
Status Validator::decode_sparse_rows(const std::string& where, const fb::Weights* w,
                                     WeightRef* out) {
  const std::uint64_t rows = static_cast<std::uint64_t>(out->rows);
  const std::uint64_t row_entries = static_cast<std::uint64_t>(out->row_entries());
  const std::uint64_t block_size = static_cast<std::uint64_t>(out->block_size);
  const std::size_t value_count = out->value_count;
  if (!w->row_nonzeros() || w->row_nonzeros()->size() != rows)
    return fail(where + ": sparse weights need row_nonzeros with one entry per output channel (" +
                std::to_string(rows) + ")");
  const int index_vectors = (w->indices_u8() != nullptr) + (w->indices_u16() != nullptr) +
                            (w->indices_u32() != nullptr) + (w->indices_delta() != nullptr);
  if (index_vectors != 1)
    return fail(where + ": sparse weights need exactly one index vector" +
                std::string(out->int8 ? " (indices_u8/u16/u32 or indices_delta)" : ""));
  out->row_nonzeros = w->row_nonzeros()->data();
  std::uint64_t sum = 0;
  for (std::uint64_t r = 0; r < rows; ++r) {
    const std::uint32_t count = out->row_nonzeros[r];
    if (count > row_entries) {
      if (block_size == 1)
        return fail(where + ": output channel " + std::to_string(r) + " declares " +
                    std::to_string(count) + " nonzeros, more than its " +
                    std::to_string(row_entries) + " weights");
      return fail(where + ": output channel " + std::to_string(r) + " declares " +
                  std::to_string(count) + " entries, more than its " +
                  std::to_string(row_entries) + " blocks of " + std::to_string(block_size));
    }
    sum += count;
  }
  if (value_count != sum * block_size) {
    if (block_size == 1)
      return fail(where + ": sparse weights declare " + std::to_string(sum) +
                  " nonzeros but hold " + std::to_string(value_count) + " values");
    return fail(where + ": sparse weights declare " + std::to_string(sum) + " entries of " +
                std::to_string(block_size) + " but hold " + std::to_string(value_count) +
                " values (expected " + std::to_string(sum * block_size) + ")");
  }
  out->nonzeros = sum * block_size;
  const std::size_t value_bytes = out->int8 ? 1 : out->float16 ? 2 : 4;
  // Values, row counts and (int8) the per-row scales.
  const std::size_t fixed_bytes =
      static_cast<std::size_t>(sum * block_size) * value_bytes + rows * (out->int8 ? 8 : 4);
  if (w->indices_delta()) {
    if (Status s = decode_delta_indices(where, w, out); !s.ok()) return s;
    out->stored_bytes = fixed_bytes + out->indices_delta_count;
    return Status::Ok();
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
  if (index_count != sum)
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
      if (index >= row_entries)
        return fail(where + ": output channel " + std::to_string(r) + " has index " +
                    std::to_string(index) + " out of range [0, " + std::to_string(row_entries) +
                    ")");
      if (static_cast<std::int64_t>(index) <= previous)
        return fail(where + ": output channel " + std::to_string(r) +
                    " has indices not strictly ascending");
      previous = static_cast<std::int64_t>(index);
    }
  }
  const std::size_t index_bytes = out->indices_u8 ? 1 : out->indices_u16 ? 2 : 4;
  out->stored_bytes = fixed_bytes + sum * index_bytes;
  return Status::Ok();
}

// Gap-coded entry indices (schema/gnrt.fbs): per row, from previous = -1 and skip = 0, a byte b
// in 1..255 is the entry previous + skip + b, a byte 0 adds 255 to skip. Escapes belong to the
// entry after them, so every row ends on a nonzero byte; bytes after the last row's last entry
// (trailing escapes included) are an error, as is a vector that ends inside an entry.
Status Validator::decode_delta_indices(const std::string& where, const fb::Weights* w,
                                       WeightRef* out) {
  const auto* delta = w->indices_delta();
  out->indices_delta = delta->data();
  out->indices_delta_count = delta->size();
  const std::uint8_t* bytes = out->indices_delta;
  const std::size_t size = out->indices_delta_count;
  const std::int64_t row_entries = out->row_entries();
  std::size_t pos = 0;
  for (int r = 0; r < out->rows; ++r) {
    std::int64_t previous = -1;
    for (std::uint32_t k = 0; k < out->row_nonzeros[r]; ++k) {
      std::int64_t skip = 0;
      for (;;) {
        if (pos >= size)
          return fail(where + ": indices_delta ends inside output channel " + std::to_string(r) +
                      " (entry " + std::to_string(k) + " of " +
                      std::to_string(out->row_nonzeros[r]) + ")");
        const std::uint8_t b = bytes[pos++];
        if (b == 0) {
          skip += 255;
          // Even the smallest gap after this escape would leave the row.
          if (previous + skip + 1 >= row_entries)
            return fail(where + ": output channel " + std::to_string(r) +
                        " has an indices_delta escape past its " + std::to_string(row_entries) +
                        " entries");
          continue;
        }
        const std::int64_t index = previous + skip + b;
        if (index >= row_entries)
          return fail(where + ": output channel " + std::to_string(r) + " has index " +
                      std::to_string(index) + " out of range [0, " + std::to_string(row_entries) +
                      ") (indices_delta byte " + std::to_string(pos - 1) + ")");
        previous = index;
        break;
      }
    }
  }
  if (pos != size)
    return fail(where + ": indices_delta has " + std::to_string(size - pos) +
                " bytes after the last entry of the last output channel (" +
                std::to_string(size) + " bytes, " + std::to_string(pos) + " used)");
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

// Format 1.1 int8 layers carry bias_i32 (units of input_scale * weight scale) instead of the
// float bias; float layers never carry bias_i32.
Status Validator::decode_int8_bias(const std::string& where,
                                   const flatbuffers::Vector<float>* bias,
                                   const flatbuffers::Vector<std::int32_t>* bias_i32, OpDesc* d) {
  if (!d->weights.int8) {
    if (bias_i32) return fail(where + ": bias_i32 is only for int8 layers (weights are float)");
    return decode_bias(where, bias, d);
  }
  if (bias) return fail(where + ": int8 layers take bias_i32, not the float bias");
  if (!bias_i32) return Status::Ok();
  if (bias_i32->size() != static_cast<flatbuffers::uoffset_t>(d->out_channels))
    return fail(where + ": bias_i32 has " + std::to_string(bias_i32->size()) +
                " entries, expected " + std::to_string(d->out_channels));
  d->bias_i32 = bias_i32->data();
  return Status::Ok();
}

// The int32 accumulator of an int8 row: bias_i32 + sum of q_w * q_in over the stored weights
// (|q_w| <= 127, q_in <= 255), then the zero-point correction -z_in * sum(q_w) folded into the
// bias (bounded by 255 * 127 per weight of the row). The bound must stay below 2^31.
Status Validator::check_accumulator_range(const std::string& where, const OpDesc& d) {
  const WeightRef& w = d.weights;
  constexpr std::int64_t kProduct = 255 * 127;
  for (int o = 0; o < w.rows; ++o) {
    const std::int64_t stored = w.sparse ? static_cast<std::int64_t>(w.row_nonzeros[o]) *
                                               w.block_size
                                         : w.row_length;
    const std::int64_t bias = d.bias_i32 ? std::llabs(static_cast<long long>(d.bias_i32[o])) : 0;
    const std::int64_t bound = stored * kProduct + bias + kProduct * w.row_length;
    if (bound >= (std::int64_t{1} << 31))
      return fail(where + ": output channel " + std::to_string(o) +
                  ": int32 accumulator could overflow (" + std::to_string(stored) +
                  " stored weights, row length " + std::to_string(w.row_length) + ", bias_i32 " +
                  std::to_string(d.bias_i32 ? d.bias_i32[o] : 0) + ")");
  }
  return Status::Ok();
}

// Pools and concatenations pass quantized values through: both sides quantized or neither, and
// then the same scale (bitwise) and zero point.
Status Validator::check_same_quantization(const std::string& where, const TensorDesc& in,
                                          const TensorDesc& out, const char* what) {
  if (in.quantized != out.quantized)
    return fail(where + ": " + what + " '" + in.name + "' is " +
                (in.quantized ? "quantized" : "float") + " but output '" + out.name + "' is " +
                (out.quantized ? "quantized" : "float"));
  if (!in.quantized) return Status::Ok();
  std::uint32_t in_bits = 0, out_bits = 0;
  std::memcpy(&in_bits, &in.scale, sizeof in_bits);
  std::memcpy(&out_bits, &out.scale, sizeof out_bits);
  if (in_bits != out_bits || in.zero_point != out.zero_point)
    return fail(where + ": " + what + " '" + in.name + "' (scale " + float_text(in.scale) +
                ", zero point " + std::to_string(in.zero_point) + ") and output '" + out.name +
                "' (scale " + float_text(out.scale) + ", zero point " +
                std::to_string(out.zero_point) + ") must have the same quantization");
  return Status::Ok();
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
  if (Status s = decode_int8_bias(where, o->bias(), o->bias_i32(), d); !s.ok()) return s;
  // Format 1.1: an int8 convolution reads and writes uint8 tensors; a float one neither.
  const TensorDesc& out = m_->tensors[d->output];
  if (d->weights.int8) {
    if (!in.quantized || !out.quantized)
      return fail(where + ": int8 weights need quantized input and output tensors ('" +
                  (in.quantized ? out.name : in.name) + "' is float)");
    if (Status s = check_accumulator_range(where, *d); !s.ok()) return s;
    for (int oc = 0; oc < d->out_channels; ++oc) {
      const double m = static_cast<double>(in.scale) *
                       static_cast<double>(d->weights.scales[oc]) /
                       static_cast<double>(out.scale);
      if (!std::isfinite(m) || m < std::ldexp(1.0, -40) || m > std::ldexp(1.0, 16))
        return fail(where + ": output channel " + std::to_string(oc) +
                    ": requantization multiplier " + float_text(m) +
                    " (input scale * weight scale / output scale) outside [2^-40, 2^16]");
    }
  } else if (in.quantized) {
    return fail(where + ": quantized input '" + in.name + "' needs int8 weights");
  } else if (out.quantized) {
    return fail(where + ": quantized output '" + out.name + "' needs int8 weights");
  }
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
  if (Status s = check_same_quantization(where, in, m_->tensors[d->output], "pooling input");
      !s.ok())
    return s;
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
  // Format 1.1: a concatenation copies values, so all parts share the output's quantization.
  const TensorDesc& out = m_->tensors[d->output];
  for (int t : d->inputs)
    if (Status s = check_same_quantization(where, m_->tensors[t], out, "concat input"); !s.ok())
      return s;
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
  if (Status s = decode_int8_bias(where, o->bias(), o->bias_i32(), d); !s.ok()) return s;
  // Format 1.1: int8 weights exactly when the input is quantized; the output (logits) is float.
  const TensorDesc& out = m_->tensors[d->output];
  if (out.quantized)
    return fail(where + ": output '" + out.name +
                "' must be float: a quantized FullyConnected output is not part of format 1.1");
  if (d->weights.int8) {
    if (!in.quantized)
      return fail(where + ": int8 weights need a quantized input tensor ('" + in.name +
                  "' is float)");
    if (Status s = check_accumulator_range(where, *d); !s.ok()) return s;
    for (int oc = 0; oc < d->out_channels; ++oc) {
      const float m = static_cast<float>(static_cast<double>(in.scale) *
                                         static_cast<double>(d->weights.scales[oc]));
      if (!std::isfinite(m) || !(m > 0.0f))
        return fail(where + ": output channel " + std::to_string(oc) +
                    ": input scale * weight scale (" + float_text(m) +
                    ") is not a finite positive float");
    }
  } else if (in.quantized) {
    return fail(where + ": quantized input '" + in.name + "' needs int8 weights");
  }
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
  const TensorDesc& out = m_->tensors[d->output];
  if (c.in->quantized || out.quantized)
    return fail(where + ": Softmax input '" + c.in->name + "' and output '" + out.name +
                "' must be float (not quantized)");
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
    // Format 1.1: a uint8 tensor, real = scale * (q - zero_point).
    if (const fb::Quantization* q = t->quantization()) {
      if (!usable_scale(q->scale()))
        return fail(where + ": quantization scale " + float_text(q->scale()) +
                    " must be finite, positive and normal");
      if (q->zero_point() < 0 || q->zero_point() > 255)
        return fail(where + ": quantization zero_point " + std::to_string(q->zero_point()) +
                    " out of range [0, 255]");
      d.quantized = true;
      d.scale = q->scale();
      d.zero_point = q->zero_point();
      m_->int8 = true;
    }
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
  if (!kWithInt8 && m_->int8)
    return make_error(GNRT_UNSUPPORTED,
                      "model uses int8 (format 1.1 quantized tensors) but this libgnrt was built "
                      "without int8 support (GNRT_INT8=OFF)");
  return Status::Ok();
}

}  // namespace

Status validate_model(Model* model) {
  Validator validator(model);
  return validator.run();
}

}  // namespace gnrt
