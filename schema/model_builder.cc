#include "gnrt/model_builder.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "gnrt/format_version.h"
#include "gnrt/gnrt_generated.h"
#include "gnrt/half.h"
#include "gnrt/shape_rules.h"

namespace gnrt {

int conv_output_size(int in, int kernel, int stride, int pad_before, int pad_after, int dilation) {
  return static_cast<int>(
      shape_rules::conv_out(in, kernel, stride, pad_before, pad_after, dilation));
}

int pool_output_size(int in, int kernel, int stride, int pad_before, int pad_after,
                     bool ceil_mode) {
  return static_cast<int>(
      shape_rules::pool_out(in, kernel, stride, pad_before, pad_after, ceil_mode));
}

namespace {

enum class OpKind { kConv, kMaxPool, kAvgPool, kConcat, kFc, kSoftmax };

struct OpRecord {
  OpKind kind;
  std::vector<TensorId> inputs;
  TensorId output;
  ConvParams conv;
  PoolParams pool;
  int out_features = 0;
  std::uint64_t nonzeros = 0;
  bool int8 = false;  // conv / FC with ValueStorage::kInt8 weights
};

struct TensorRecord {
  std::string name;
  std::vector<int> shape;  // NCHW
  bool quantized = false;  // format 1.1 uint8 tensor: real = scale * (q - zero_point)
  float scale = 0.0f;
  int zero_point = 0;
};

// Symmetric per-row int8 weights: scale = max|w| / 127 (1 for an all-zero row), values
// round-half-even(w / scale) clamped to [-127, 127].
struct Int8Rows {
  std::vector<float> scales;
  std::vector<std::int8_t> values;  // rows * row_length, the dense matrix's order
};

Int8Rows quantize_rows(const std::vector<float>& w, int rows, int row_length) {
  Int8Rows q;
  q.scales.resize(rows);
  q.values.resize(w.size());
  for (int r = 0; r < rows; ++r) {
    const float* row = w.data() + static_cast<std::size_t>(r) * row_length;
    float max_abs = 0.0f;
    for (int i = 0; i < row_length; ++i) max_abs = std::max(max_abs, std::fabs(row[i]));
    const float scale = max_abs > 0.0f ? max_abs / 127.0f : 1.0f;
    q.scales[r] = scale;
    for (int i = 0; i < row_length; ++i) {
      // nearbyint rounds half to even in the default rounding mode.
      const float v = std::nearbyint(row[i] / scale);
      q.values[static_cast<std::size_t>(r) * row_length + i] =
          static_cast<std::int8_t>(std::min(127.0f, std::max(-127.0f, v)));
    }
  }
  return q;
}

// Appends the gap code of entry `index` after entry `previous` (schema/gnrt.fbs, indices_delta):
// gaps above 255 are preceded by one 0 byte per 255 skipped.
void append_delta(int previous, int index, std::vector<std::uint8_t>* out) {
  int gap = index - previous;
  while (gap > 255) {
    out->push_back(0);
    gap -= 255;
  }
  out->push_back(static_cast<std::uint8_t>(gap));
}

bool same_quantization(const TensorRecord& a, const TensorRecord& b) {
  return a.quantized == b.quantized &&
         (!a.quantized || (a.scale == b.scale && a.zero_point == b.zero_point));
}

std::vector<int> infer_shape(const OpRecord& op, const std::vector<std::vector<int>>& shapes) {
  const std::vector<int>& in = shapes.at(op.inputs.at(0));
  switch (op.kind) {
    case OpKind::kConv: {
      const ConvParams& p = op.conv;
      return {
          1, p.out_channels,
          conv_output_size(in[2], p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom, p.dilation_h),
          conv_output_size(in[3], p.kernel_w, p.stride_w, p.pad_left, p.pad_right, p.dilation_w)};
    }
    case OpKind::kMaxPool:
    case OpKind::kAvgPool: {
      const PoolParams& p = op.pool;
      if (p.global) return {1, in[1], 1, 1};
      return {
          1, in[1],
          pool_output_size(in[2], p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom, p.ceil_mode),
          pool_output_size(in[3], p.kernel_w, p.stride_w, p.pad_left, p.pad_right, p.ceil_mode)};
    }
    case OpKind::kConcat: {
      int channels = 0;
      for (TensorId id : op.inputs) channels += shapes.at(id)[1];
      return {1, channels, in[2], in[3]};
    }
    case OpKind::kFc:
      return {1, op.out_features, 1, 1};
    case OpKind::kSoftmax:
      return in;
  }
  return in;
}

}  // namespace

struct ModelBuilder::Impl {
  flatbuffers::FlatBufferBuilder fbb{1 << 20};
  std::vector<TensorRecord> tensors;
  std::vector<OpRecord> ops;
  std::vector<flatbuffers::Offset<fb::Operator>> op_offsets;
  TensorId input = -1;
  ModelMetadata metadata;
  bool finished = false;
  std::uint64_t params_dense = 0;
  std::uint64_t nonzeros = 0;

  void check_tensor(TensorId id, const char* what) const {
    if (id < 0 || id >= static_cast<TensorId>(tensors.size()))
      throw std::invalid_argument(std::string("ModelBuilder: unknown input tensor for ") + what);
  }
  void check_open() const {
    if (finished) throw std::logic_error("ModelBuilder: already finished");
  }

  TensorId add_tensor(const std::string& name, std::vector<int> shape) {
    for (int d : shape)
      if (d <= 0)
        throw std::invalid_argument("ModelBuilder: '" + name + "' has an empty output shape");
    tensors.push_back({name, std::move(shape)});
    return static_cast<TensorId>(tensors.size() - 1);
  }

  // Encodes a weight matrix with `rows` rows of `row_length` entries.
  flatbuffers::Offset<fb::Weights> encode_weights(const std::vector<int>& shape,
                                                  const std::vector<float>& w, int rows,
                                                  int row_length, const WeightOptions& options,
                                                  std::uint64_t* nonzero_count) {
    std::uint64_t nnz = 0;
    for (float v : w) nnz += (v != 0.0f);
    *nonzero_count = nnz;
    const bool f16 = options.storage == ValueStorage::kFloat16;
    const std::size_t value_bytes = f16 ? 2 : 4;
    const std::size_t index_bytes = row_length <= 256 ? 1 : (row_length <= 65536 ? 2 : 4);
    const std::size_t dense_bytes = w.size() * value_bytes;
    const std::size_t sparse_bytes =
        nnz * (value_bytes + index_bytes) + static_cast<std::size_t>(rows) * 4;
    bool sparse = options.encoding == WeightEncoding::kSparse ||
                  (options.encoding == WeightEncoding::kAuto && sparse_bytes < dense_bytes);

    std::vector<float> values;
    std::vector<std::uint32_t> row_nonzeros, indices;
    if (sparse) {
      values.reserve(nnz);
      indices.reserve(nnz);
      row_nonzeros.assign(rows, 0);
      for (int r = 0; r < rows; ++r) {
        for (int i = 0; i < row_length; ++i) {
          const float v = w[static_cast<std::size_t>(r) * row_length + i];
          if (v != 0.0f) {
            values.push_back(v);
            indices.push_back(static_cast<std::uint32_t>(i));
            ++row_nonzeros[r];
          }
        }
      }
    } else {
      values = w;
    }

    // Children first (FlatBuffers builds bottom-up), 64-byte aligned value vectors.
    auto shape_vec = fbb.CreateVector(shape);
    flatbuffers::Offset<flatbuffers::Vector<float>> f32;
    flatbuffers::Offset<flatbuffers::Vector<std::uint16_t>> f16v;
    if (f16) {
      std::vector<std::uint16_t> halves(values.size());
      for (std::size_t i = 0; i < values.size(); ++i) halves[i] = float_to_half(values[i]);
      fbb.ForceVectorAlignment(halves.size(), sizeof(std::uint16_t), 64);
      f16v = fbb.CreateVector(halves);
    } else {
      fbb.ForceVectorAlignment(values.size(), sizeof(float), 64);
      f32 = fbb.CreateVector(values);
    }
    flatbuffers::Offset<flatbuffers::Vector<std::uint32_t>> rows_vec, idx32;
    flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> idx8;
    flatbuffers::Offset<flatbuffers::Vector<std::uint16_t>> idx16;
    if (sparse) {
      rows_vec = fbb.CreateVector(row_nonzeros);
      if (index_bytes == 1) {
        std::vector<std::uint8_t> narrow(indices.begin(), indices.end());
        idx8 = fbb.CreateVector(narrow);
      } else if (index_bytes == 2) {
        std::vector<std::uint16_t> narrow(indices.begin(), indices.end());
        idx16 = fbb.CreateVector(narrow);
      } else {
        idx32 = fbb.CreateVector(indices);
      }
    }
    fb::WeightsBuilder wb(fbb);
    wb.add_shape(shape_vec);
    wb.add_layout(sparse ? fb::WeightLayout::SPARSE_ROWS : fb::WeightLayout::DENSE);
    wb.add_value_type(f16 ? fb::ValueType::FLOAT16 : fb::ValueType::FLOAT32);
    if (f16)
      wb.add_values_f16(f16v);
    else
      wb.add_values_f32(f32);
    if (sparse) {
      wb.add_row_nonzeros(rows_vec);
      if (index_bytes == 1)
        wb.add_indices_u8(idx8);
      else if (index_bytes == 2)
        wb.add_indices_u16(idx16);
      else
        wb.add_indices_u32(idx32);
    }
    return wb.Finish();
  }

  // Encodes int8 weights (format 1.1) of a layer whose rows are `in_per_group` x kh x kw (FC:
  // kh = kw = 1). Sparse rows are blocks of `block_size` input channels at one tap, stored when
  // any of their float weights is nonzero, with gap-coded indices. `scales` receives the
  // per-row weight scales (for the int32 bias).
  flatbuffers::Offset<fb::Weights> encode_weights_int8(const std::vector<int>& shape,
                                                       const std::vector<float>& w, int rows,
                                                       int in_per_group, int kh, int kw,
                                                       const WeightOptions& options,
                                                       std::uint64_t* nonzero_count,
                                                       std::vector<float>* scales) {
    const int row_length = in_per_group * kh * kw;
    const int block = options.block_size;
    std::uint64_t nnz = 0;
    for (float v : w) nnz += (v != 0.0f);
    *nonzero_count = nnz;
    Int8Rows q = quantize_rows(w, rows, row_length);

    // The sparse form, built first: its size decides kAuto.
    std::vector<std::int8_t> sparse_values;
    std::vector<std::uint32_t> row_entries(rows, 0);
    std::vector<std::uint8_t> deltas;
    const bool try_sparse = options.encoding != WeightEncoding::kDense;
    if (try_sparse) {
      const int blocks_per_tap = in_per_group / block;
      for (int r = 0; r < rows; ++r) {
        const std::size_t row_base = static_cast<std::size_t>(r) * row_length;
        int previous = -1;
        for (int cb = 0; cb < blocks_per_tap; ++cb) {
          for (int ky = 0; ky < kh; ++ky) {
            for (int kx = 0; kx < kw; ++kx) {
              bool any = false;
              for (int j = 0; j < block && !any; ++j) {
                const int ic = cb * block + j;
                any = w[row_base + (static_cast<std::size_t>(ic) * kh + ky) * kw + kx] != 0.0f;
              }
              if (!any) continue;
              const int entry = (cb * kh + ky) * kw + kx;
              append_delta(previous, entry, &deltas);
              previous = entry;
              for (int j = 0; j < block; ++j) {
                const int ic = cb * block + j;
                sparse_values.push_back(
                    q.values[row_base + (static_cast<std::size_t>(ic) * kh + ky) * kw + kx]);
              }
              ++row_entries[r];
            }
          }
        }
      }
    }
    const std::size_t dense_bytes = q.values.size();
    const std::size_t sparse_bytes =
        sparse_values.size() + deltas.size() + static_cast<std::size_t>(rows) * 4;
    const bool sparse = options.encoding == WeightEncoding::kSparse ||
                        (options.encoding == WeightEncoding::kAuto && sparse_bytes < dense_bytes);

    auto shape_vec = fbb.CreateVector(shape);
    const std::vector<std::int8_t>& values = sparse ? sparse_values : q.values;
    fbb.ForceVectorAlignment(values.size(), sizeof(std::int8_t), 64);
    auto values_vec = fbb.CreateVector(values);
    auto scales_vec = fbb.CreateVector(q.scales);
    flatbuffers::Offset<flatbuffers::Vector<std::uint32_t>> rows_vec;
    flatbuffers::Offset<flatbuffers::Vector<std::uint8_t>> delta_vec;
    if (sparse) {
      rows_vec = fbb.CreateVector(row_entries);
      delta_vec = fbb.CreateVector(deltas);
    }
    fb::WeightsBuilder wb(fbb);
    wb.add_shape(shape_vec);
    wb.add_layout(sparse ? fb::WeightLayout::SPARSE_ROWS : fb::WeightLayout::DENSE);
    wb.add_value_type(fb::ValueType::INT8);
    wb.add_values_i8(values_vec);
    wb.add_scales(scales_vec);
    if (sparse) {
      wb.add_block_size(block);
      wb.add_row_nonzeros(rows_vec);
      wb.add_indices_delta(delta_vec);
    }
    *scales = std::move(q.scales);
    return wb.Finish();
  }

  // Checks a layer's weight options; for int8, that its input is quantized and its rows split
  // into whole blocks.
  void check_weight_options(const std::string& name, const WeightOptions& options, TensorId input,
                            int in_per_group) const {
    const int b = options.block_size;
    if (b != 1 && b != 2 && b != 4 && b != 8)
      throw std::invalid_argument("ModelBuilder: " + name + ": block_size " + std::to_string(b) +
                                  " (1, 2, 4 or 8)");
    if (options.storage != ValueStorage::kInt8) {
      if (b != 1)
        throw std::invalid_argument("ModelBuilder: " + name +
                                    ": block_size > 1 needs int8 storage");
      return;
    }
    if (in_per_group % b)
      throw std::invalid_argument("ModelBuilder: " + name + ": " + std::to_string(in_per_group) +
                                  " input channels per group are not a multiple of block_size " +
                                  std::to_string(b));
    if (!tensors[input].quantized)
      throw std::invalid_argument("ModelBuilder: " + name +
                                  ": int8 weights need a quantized input (set_quantization on '" +
                                  tensors[input].name + "' first)");
  }

  // bias / (input_scale * scales[o]) rounded half to even, as int32.
  std::vector<std::int32_t> int32_bias(const std::string& name, const std::vector<float>& bias,
                                       float input_scale, const std::vector<float>& scales) const {
    std::vector<std::int32_t> out(bias.size());
    for (std::size_t o = 0; o < bias.size(); ++o) {
      const double v =
          std::nearbyint(static_cast<double>(bias[o]) /
                         (static_cast<double>(input_scale) * static_cast<double>(scales[o])));
      if (!(v >= static_cast<double>(std::numeric_limits<std::int32_t>::min()) &&
            v <= static_cast<double>(std::numeric_limits<std::int32_t>::max())))
        throw std::invalid_argument("ModelBuilder: " + name + ": bias[" + std::to_string(o) +
                                    "] = " + std::to_string(bias[o]) +
                                    " does not fit int32 at input scale x weight scale");
      out[o] = static_cast<std::int32_t>(v);
    }
    return out;
  }

  flatbuffers::Offset<fb::Operator> make_operator(const std::string& name,
                                                  const std::vector<TensorId>& inputs,
                                                  TensorId output, fb::OperatorOptions type,
                                                  flatbuffers::Offset<void> options) {
    auto name_off = fbb.CreateString(name);
    auto in_off = fbb.CreateVector(inputs);
    std::vector<int> outs{output};
    auto out_off = fbb.CreateVector(outs);
    return fb::CreateOperator(fbb, name_off, in_off, out_off, type, options);
  }

  // The format 1.1 rules between quantized tensors (docs/format.md, "int8"): an int8 conv writes
  // a quantized tensor, an int8 FC a float one; concat inputs and output share one (scale, zero
  // point), and so do a pool's input and output.
  void check_quantized_graph() const {
    for (const OpRecord& op : ops) {
      const TensorRecord& out = tensors[op.output];
      const std::string where = "ModelBuilder: " + out.name + ": ";
      switch (op.kind) {
        case OpKind::kConv:
          if (op.int8 && !out.quantized)
            throw std::invalid_argument(where + "an int8 convolution needs a quantized output");
          break;
        case OpKind::kFc:
          if (op.int8 && out.quantized)
            throw std::invalid_argument(where + "an int8 fully connected layer has a float output");
          break;
        case OpKind::kMaxPool:
        case OpKind::kAvgPool:
          if (!same_quantization(tensors[op.inputs[0]], out))
            throw std::invalid_argument(where +
                                        "a pool's input and output need the same quantization");
          break;
        case OpKind::kConcat:
          for (TensorId id : op.inputs)
            if (!same_quantization(tensors[id], out))
              throw std::invalid_argument(where +
                                          "concat inputs and output need the same quantization ('" +
                                          tensors[id].name + "' differs)");
          break;
        case OpKind::kSoftmax:
          break;
      }
    }
  }

  std::uint64_t macs_at(int height, int width, bool sparse_count) const {
    std::vector<std::vector<int>> shapes(tensors.size());
    shapes[input] = {1, tensors[input].shape[1], height, width};
    std::uint64_t macs = 0;
    for (const OpRecord& op : ops) {
      shapes[op.output] = infer_shape(op, shapes);
      const std::vector<int>& out = shapes[op.output];
      if (op.kind == OpKind::kConv) {
        const std::uint64_t pixels = static_cast<std::uint64_t>(out[2]) * out[3];
        const int in_c = shapes[op.inputs[0]][1];
        const std::uint64_t dense = static_cast<std::uint64_t>(op.conv.out_channels) *
                                    (in_c / op.conv.groups) * op.conv.kernel_h * op.conv.kernel_w;
        macs += pixels * (sparse_count ? op.nonzeros : dense);
      } else if (op.kind == OpKind::kFc) {
        const std::vector<int>& in = shapes[op.inputs[0]];
        const std::uint64_t dense =
            static_cast<std::uint64_t>(op.out_features) * in[1] * in[2] * in[3];
        macs += sparse_count ? op.nonzeros : dense;
      }
    }
    return macs;
  }
};

ModelBuilder::ModelBuilder() : impl_(new Impl) {}
ModelBuilder::~ModelBuilder() { delete impl_; }

TensorId ModelBuilder::input(const std::string& name, int channels, int height, int width) {
  impl_->check_open();
  if (impl_->input >= 0) throw std::logic_error("ModelBuilder: only one graph input is supported");
  impl_->input = impl_->add_tensor(name, {1, channels, height, width});
  return impl_->input;
}

TensorId ModelBuilder::conv2d(const std::string& name, TensorId input, const ConvParams& p,
                              const std::vector<float>& weights, const std::vector<float>& bias,
                              const WeightOptions& options) {
  impl_->check_open();
  impl_->check_tensor(input, name.c_str());
  const std::vector<int> in = impl_->tensors[input].shape;
  if (p.groups <= 0 || p.out_channels <= 0 || in[1] % p.groups || p.out_channels % p.groups)
    throw std::invalid_argument("ModelBuilder: " + name + ": channels not divisible by groups");
  const int in_per_group = in[1] / p.groups;
  const int row_length = in_per_group * p.kernel_h * p.kernel_w;
  if (weights.size() != static_cast<std::size_t>(p.out_channels) * row_length)
    throw std::invalid_argument(
        "ModelBuilder: " + name + ": expected " +
        std::to_string(static_cast<std::size_t>(p.out_channels) * row_length) + " weights, got " +
        std::to_string(weights.size()));
  if (!bias.empty() && bias.size() != static_cast<std::size_t>(p.out_channels))
    throw std::invalid_argument("ModelBuilder: " + name + ": bias size mismatch");

  impl_->check_weight_options(name, options, input, in_per_group);
  const bool int8 = options.storage == ValueStorage::kInt8;

  OpRecord op{OpKind::kConv, {input}, -1, p, {}, 0, 0};
  op.int8 = int8;
  std::vector<std::vector<int>> shapes;
  for (const auto& t : impl_->tensors) shapes.push_back(t.shape);
  const TensorId out = impl_->add_tensor(name, infer_shape(op, shapes));
  op.output = out;

  auto& fbb = impl_->fbb;
  std::uint64_t nnz = 0;
  flatbuffers::Offset<fb::Weights> w;
  flatbuffers::Offset<flatbuffers::Vector<float>> b;
  flatbuffers::Offset<flatbuffers::Vector<std::int32_t>> b32;
  if (int8) {
    std::vector<float> scales;
    w = impl_->encode_weights_int8({p.out_channels, in_per_group, p.kernel_h, p.kernel_w}, weights,
                                   p.out_channels, in_per_group, p.kernel_h, p.kernel_w, options,
                                   &nnz, &scales);
    if (!bias.empty())
      b32 = fbb.CreateVector(impl_->int32_bias(name, bias, impl_->tensors[input].scale, scales));
  } else {
    w = impl_->encode_weights({p.out_channels, in_per_group, p.kernel_h, p.kernel_w}, weights,
                              p.out_channels, row_length, options, &nnz);
    if (!bias.empty()) b = fbb.CreateVector(bias);
  }
  fb::Conv2DOptionsBuilder cb(fbb);
  cb.add_kernel_h(p.kernel_h);
  cb.add_kernel_w(p.kernel_w);
  cb.add_stride_h(p.stride_h);
  cb.add_stride_w(p.stride_w);
  cb.add_pad_top(p.pad_top);
  cb.add_pad_left(p.pad_left);
  cb.add_pad_bottom(p.pad_bottom);
  cb.add_pad_right(p.pad_right);
  cb.add_dilation_h(p.dilation_h);
  cb.add_dilation_w(p.dilation_w);
  cb.add_groups(p.groups);
  cb.add_out_channels(p.out_channels);
  cb.add_activation(p.relu ? fb::Activation::RELU : fb::Activation::NONE);
  cb.add_weights(w);
  if (!bias.empty()) {
    if (int8)
      cb.add_bias_i32(b32);
    else
      cb.add_bias(b);
  }
  auto opts = cb.Finish();
  impl_->op_offsets.push_back(
      impl_->make_operator(name, {input}, out, fb::OperatorOptions::Conv2DOptions, opts.Union()));
  op.nonzeros = nnz;
  impl_->ops.push_back(op);
  impl_->params_dense += weights.size();
  impl_->nonzeros += nnz;
  return out;
}

TensorId ModelBuilder::add_pool(const std::string& name, TensorId input, const PoolParams& p,
                                bool max) {
  Impl* impl = impl_;
  impl->check_open();
  impl->check_tensor(input, name.c_str());
  OpRecord op{max ? OpKind::kMaxPool : OpKind::kAvgPool, {input}, -1, {}, p, 0, 0};
  std::vector<std::vector<int>> shapes;
  for (const auto& t : impl->tensors) shapes.push_back(t.shape);
  const TensorId out = impl->add_tensor(name, infer_shape(op, shapes));
  op.output = out;
  auto& fbb = impl->fbb;
  fb::Pool2DOptionsBuilder pb(fbb);
  pb.add_type(max ? fb::PoolType::MAXIMUM : fb::PoolType::AVERAGE);
  pb.add_global(p.global);
  pb.add_kernel_h(p.kernel_h);
  pb.add_kernel_w(p.kernel_w);
  pb.add_stride_h(p.stride_h);
  pb.add_stride_w(p.stride_w);
  pb.add_pad_top(p.pad_top);
  pb.add_pad_left(p.pad_left);
  pb.add_pad_bottom(p.pad_bottom);
  pb.add_pad_right(p.pad_right);
  pb.add_ceil_mode(p.ceil_mode);
  pb.add_count_include_pad(p.count_include_pad);
  pb.add_activation(p.relu ? fb::Activation::RELU : fb::Activation::NONE);
  auto opts = pb.Finish();
  impl->op_offsets.push_back(
      impl->make_operator(name, {input}, out, fb::OperatorOptions::Pool2DOptions, opts.Union()));
  impl->ops.push_back(op);
  return out;
}

TensorId ModelBuilder::max_pool(const std::string& name, TensorId input, const PoolParams& params) {
  return add_pool(name, input, params, true);
}

TensorId ModelBuilder::avg_pool(const std::string& name, TensorId input, const PoolParams& params) {
  return add_pool(name, input, params, false);
}

TensorId ModelBuilder::concat(const std::string& name, const std::vector<TensorId>& inputs) {
  impl_->check_open();
  if (inputs.empty())
    throw std::invalid_argument("ModelBuilder: " + name + ": concat needs inputs");
  for (TensorId id : inputs) impl_->check_tensor(id, name.c_str());
  const auto& first = impl_->tensors[inputs[0]].shape;
  for (TensorId id : inputs) {
    const auto& s = impl_->tensors[id].shape;
    if (s[2] != first[2] || s[3] != first[3])
      throw std::invalid_argument("ModelBuilder: " + name +
                                  ": concat inputs differ in height/width");
  }
  OpRecord op{OpKind::kConcat, inputs, -1, {}, {}, 0, 0};
  std::vector<std::vector<int>> shapes;
  for (const auto& t : impl_->tensors) shapes.push_back(t.shape);
  const TensorId out = impl_->add_tensor(name, infer_shape(op, shapes));
  op.output = out;
  auto opts = fb::CreateConcatOptions(impl_->fbb, 1);
  impl_->op_offsets.push_back(
      impl_->make_operator(name, inputs, out, fb::OperatorOptions::ConcatOptions, opts.Union()));
  impl_->ops.push_back(op);
  return out;
}

TensorId ModelBuilder::fully_connected(const std::string& name, TensorId input, int out_features,
                                       const std::vector<float>& weights,
                                       const std::vector<float>& bias, bool relu,
                                       const WeightOptions& options) {
  impl_->check_open();
  impl_->check_tensor(input, name.c_str());
  const auto& in = impl_->tensors[input].shape;
  const int in_features = in[1] * in[2] * in[3];
  if (out_features <= 0 || weights.size() != static_cast<std::size_t>(out_features) * in_features)
    throw std::invalid_argument(
        "ModelBuilder: " + name + ": expected " +
        std::to_string(static_cast<std::size_t>(out_features) * in_features) + " weights, got " +
        std::to_string(weights.size()));
  if (!bias.empty() && bias.size() != static_cast<std::size_t>(out_features))
    throw std::invalid_argument("ModelBuilder: " + name + ": bias size mismatch");
  // Flattened C*H*W features are one "input channel" each at a 1x1 tap.
  impl_->check_weight_options(name, options, input, in_features);
  const bool int8 = options.storage == ValueStorage::kInt8;
  OpRecord op{OpKind::kFc, {input}, -1, {}, {}, out_features, 0};
  op.int8 = int8;
  const TensorId out = impl_->add_tensor(name, {1, out_features, 1, 1});
  op.output = out;
  auto& fbb = impl_->fbb;
  std::uint64_t nnz = 0;
  flatbuffers::Offset<fb::Weights> w;
  flatbuffers::Offset<flatbuffers::Vector<float>> b;
  flatbuffers::Offset<flatbuffers::Vector<std::int32_t>> b32;
  if (int8) {
    std::vector<float> scales;
    w = impl_->encode_weights_int8({out_features, in_features}, weights, out_features, in_features,
                                   1, 1, options, &nnz, &scales);
    if (!bias.empty())
      b32 = fbb.CreateVector(impl_->int32_bias(name, bias, impl_->tensors[input].scale, scales));
  } else {
    w = impl_->encode_weights({out_features, in_features}, weights, out_features, in_features,
                              options, &nnz);
    if (!bias.empty()) b = fbb.CreateVector(bias);
  }
  fb::FullyConnectedOptionsBuilder fcb(fbb);
  fcb.add_out_features(out_features);
  fcb.add_activation(relu ? fb::Activation::RELU : fb::Activation::NONE);
  fcb.add_weights(w);
  if (!bias.empty()) {
    if (int8)
      fcb.add_bias_i32(b32);
    else
      fcb.add_bias(b);
  }
  auto opts = fcb.Finish();
  impl_->op_offsets.push_back(impl_->make_operator(
      name, {input}, out, fb::OperatorOptions::FullyConnectedOptions, opts.Union()));
  op.nonzeros = nnz;
  impl_->ops.push_back(op);
  impl_->params_dense += weights.size();
  impl_->nonzeros += nnz;
  return out;
}

TensorId ModelBuilder::softmax(const std::string& name, TensorId input, float beta) {
  impl_->check_open();
  impl_->check_tensor(input, name.c_str());
  OpRecord op{OpKind::kSoftmax, {input}, -1, {}, {}, 0, 0};
  const TensorId out = impl_->add_tensor(name, impl_->tensors[input].shape);
  op.output = out;
  auto opts = fb::CreateSoftmaxOptions(impl_->fbb, beta);
  impl_->op_offsets.push_back(
      impl_->make_operator(name, {input}, out, fb::OperatorOptions::SoftmaxOptions, opts.Union()));
  impl_->ops.push_back(op);
  return out;
}

void ModelBuilder::set_metadata(const ModelMetadata& metadata) { impl_->metadata = metadata; }

void ModelBuilder::set_quantization(TensorId tensor, float scale, int zero_point) {
  impl_->check_open();
  impl_->check_tensor(tensor, "set_quantization()");
  TensorRecord& t = impl_->tensors[tensor];
  if (!std::isfinite(scale) || !(scale > 0.0f))
    throw std::invalid_argument("ModelBuilder: set_quantization('" + t.name + "'): scale " +
                                std::to_string(scale) + " is not finite and positive");
  if (zero_point < 0 || zero_point > 255)
    throw std::invalid_argument("ModelBuilder: set_quantization('" + t.name + "'): zero point " +
                                std::to_string(zero_point) + " outside [0, 255]");
  // An int8 layer's int32 bias was computed at its input's scale when it was added.
  for (const OpRecord& op : impl_->ops)
    if (op.int8 && op.inputs[0] == tensor && (t.scale != scale || !t.quantized))
      throw std::invalid_argument("ModelBuilder: set_quantization('" + t.name +
                                  "'): an int8 layer already reads it at scale " +
                                  std::to_string(t.scale));
  t.quantized = true;
  t.scale = scale;
  t.zero_point = zero_point;
}

std::vector<int> ModelBuilder::shape(TensorId tensor) const {
  impl_->check_tensor(tensor, "shape()");
  return impl_->tensors[tensor].shape;
}

std::uint64_t ModelBuilder::params_dense() const { return impl_->params_dense; }
std::uint64_t ModelBuilder::nonzeros() const { return impl_->nonzeros; }

std::vector<std::uint8_t> ModelBuilder::finish(const std::vector<TensorId>& outputs) {
  impl_->check_open();
  if (impl_->input < 0) throw std::logic_error("ModelBuilder: no input");
  if (outputs.empty()) throw std::invalid_argument("ModelBuilder: no outputs");
  for (TensorId id : outputs) impl_->check_tensor(id, "finish()");
  auto& fbb = impl_->fbb;
  const ModelMetadata& m = impl_->metadata;
  const auto& in_shape = impl_->tensors[impl_->input].shape;
  impl_->check_quantized_graph();
  bool any_quantized = false;

  std::vector<flatbuffers::Offset<fb::Tensor>> tensor_offsets;
  for (const auto& t : impl_->tensors) {
    auto n = fbb.CreateString(t.name);
    auto s = fbb.CreateVector(t.shape);
    flatbuffers::Offset<fb::Quantization> q;
    if (t.quantized) {
      q = fb::CreateQuantization(fbb, t.scale, t.zero_point);
      any_quantized = true;
    }
    tensor_offsets.push_back(fb::CreateTensor(fbb, n, s, q));
  }
  auto tensors_vec = fbb.CreateVector(tensor_offsets);
  auto ops_vec = fbb.CreateVector(impl_->op_offsets);
  std::vector<int> ins{impl_->input};
  auto inputs_vec = fbb.CreateVector(ins);
  auto outputs_vec = fbb.CreateVector(outputs);

  const PruningInfo& pr = m.pruning;
  const int th = pr.training_height > 0 ? pr.training_height : in_shape[2];
  const int tw = pr.training_width > 0 ? pr.training_width : in_shape[3];
  auto pruning = fb::CreatePruningSummaryDirect(
      fbb, pr.params_dense_training, pr.nonzeros_training, impl_->params_dense, impl_->nonzeros,
      impl_->macs_at(th, tw, false), impl_->macs_at(th, tw, true), th, tw, pr.method.c_str(),
      pr.recipe.c_str());
  std::vector<flatbuffers::Offset<flatbuffers::String>> labels;
  for (const auto& l : m.labels) labels.push_back(fbb.CreateString(l));
  auto metadata =
      fb::CreateMetadataDirect(fbb, m.name.c_str(), m.description.c_str(), m.producer.c_str(),
                               labels.empty() ? nullptr : &labels, in_shape[1], in_shape[2],
                               in_shape[3], m.mean.empty() ? nullptr : &m.mean,
                               m.std.empty() ? nullptr : &m.std, pruning, m.test_accuracy);
  auto model = fb::CreateModel(fbb, any_quantized ? kFormatVersion : kFormatVersion_1_0, metadata,
                               tensors_vec, ops_vec, inputs_vec, outputs_vec);
  fb::FinishModelBuffer(fbb, model);
  impl_->finished = true;
  return std::vector<std::uint8_t>(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
}

void write_file_atomic(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw std::runtime_error("cannot create " + tmp + ": " + std::strerror(errno));
  const bool ok = std::fwrite(bytes.data(), 1, bytes.size(), f) == bytes.size() &&
                  std::fflush(f) == 0 && ::fsync(fileno(f)) == 0;
  const int saved = errno;
  if (std::fclose(f) != 0 || !ok) {
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot write " + tmp + ": " + std::strerror(ok ? errno : saved));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    std::remove(tmp.c_str());
    throw std::runtime_error("cannot rename " + tmp + " to " + path + ": " + std::strerror(e));
  }
}

}  // namespace gnrt
