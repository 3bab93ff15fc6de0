// The scalar reference kernels as a kernel list (the fallback of every ISA and what force_scalar
// selects), with their packed layouts. The scalar kernels keep the weights' stored form: sparse
// problems get the sparse kernel, dense ones the dense kernel.
#include <cstring>

#include "kernel_registry.h"
#include "select_internal.h"

namespace gnrt {
namespace kernels {
namespace scalar {
namespace {

using internal::align64;

// memcpy that accepts empty ranges with null pointers (a layer with no nonzeros has empty
// index/value vectors).
void copy_bytes(void* dst, const void* src, std::size_t bytes) {
  if (bytes != 0) std::memcpy(dst, src, bytes);
}

std::size_t dense_conv_weight_count(const ConvGeometry& g) {
  return static_cast<std::size_t>(g.out_channels) * (g.in_channels / g.groups) * g.kernel_h *
         g.kernel_w;
}

// Packed layout of the scalar kernels, each region 64-byte aligned:
//   bias[out]  (zeros when the problem has none)
//   sparse: row_begin[out + 1] (uint32), indices[nonzeros] (uint32), values[nonzeros] (float)
//   dense:  weights[out][in / groups][kh][kw]
struct ScalarConvLayout {
  std::size_t bias = 0;
  std::size_t row_begin = 0;
  std::size_t indices = 0;
  std::size_t values = 0;
  std::size_t weights = 0;
  std::size_t total = 0;
};

ScalarConvLayout scalar_conv_layout(const ConvProblem& p) {
  ScalarConvLayout layout;
  const std::size_t out = static_cast<std::size_t>(p.geometry.out_channels);
  std::size_t offset = 0;
  layout.bias = offset;
  offset += align64(out * sizeof(float));
  if (p.sparse.row_begin != nullptr) {
    const std::size_t nonzeros = p.sparse.row_begin[out];
    layout.row_begin = offset;
    offset += align64((out + 1) * sizeof(std::uint32_t));
    layout.indices = offset;
    offset += align64(nonzeros * sizeof(std::uint32_t));
    layout.values = offset;
    offset += align64(nonzeros * sizeof(float));
  } else {
    layout.weights = offset;
    offset += align64(dense_conv_weight_count(p.geometry) * sizeof(float));
  }
  layout.total = offset;
  return layout;
}

template <typename T>
T* at(void* base, std::size_t offset) {
  return reinterpret_cast<T*>(static_cast<char*>(base) + offset);
}
template <typename T>
const T* at(const void* base, std::size_t offset) {
  return reinterpret_cast<const T*>(static_cast<const char*>(base) + offset);
}

void pack_bias(const float* bias, int count, float* packed_bias) {
  if (bias != nullptr) {
    copy_bytes(packed_bias, bias, sizeof(float) * static_cast<std::size_t>(count));
  } else {
    std::memset(packed_bias, 0, sizeof(float) * static_cast<std::size_t>(count));
  }
}

void scalar_conv_pack(const ConvProblem& p, void* packed) {
  const ScalarConvLayout layout = scalar_conv_layout(p);
  const int out = p.geometry.out_channels;
  pack_bias(p.bias, out, at<float>(packed, layout.bias));
  if (p.sparse.row_begin != nullptr) {
    const std::size_t nonzeros = p.sparse.row_begin[out];
    copy_bytes(at<std::uint32_t>(packed, layout.row_begin), p.sparse.row_begin,
               sizeof(std::uint32_t) * (static_cast<std::size_t>(out) + 1));
    copy_bytes(at<std::uint32_t>(packed, layout.indices), p.sparse.indices,
               sizeof(std::uint32_t) * nonzeros);
    copy_bytes(at<float>(packed, layout.values), p.sparse.values, sizeof(float) * nonzeros);
  } else {
    copy_bytes(at<float>(packed, layout.weights), p.dense_weights,
               sizeof(float) * dense_conv_weight_count(p.geometry));
  }
}

// `run` receives the problem again at inference time; its weight pointers may be stale by then,
// so the layout is recomputed only from fields that stay valid (geometry, and whether it is
// sparse). The nonzero count comes from the packed row_begin, not from the problem.
void scalar_conv_run_sparse(const ConvProblem& p, const void* packed, const float* input,
                            float* output, int oc_begin, int oc_end) {
  const std::size_t out = static_cast<std::size_t>(p.geometry.out_channels);
  const std::size_t row_begin_offset = align64(out * sizeof(float));
  const auto* row_begin = at<std::uint32_t>(packed, row_begin_offset);
  const std::size_t indices_offset = row_begin_offset + align64((out + 1) * sizeof(std::uint32_t));
  const std::size_t values_offset =
      indices_offset + align64(row_begin[out] * sizeof(std::uint32_t));
  const SparseRows rows{row_begin, at<std::uint32_t>(packed, indices_offset),
                        at<float>(packed, values_offset)};
  f32_conv2d_sparse__scalar(p.geometry, {input, p.in_row_stride, p.in_channel_stride}, rows,
                            at<float>(packed, 0), {output, p.out_row_stride, p.out_channel_stride},
                            p.activation, oc_begin, oc_end);
}

void scalar_conv_run_dense(const ConvProblem& p, const void* packed, const float* input,
                           float* output, int oc_begin, int oc_end) {
  const std::size_t out = static_cast<std::size_t>(p.geometry.out_channels);
  const std::size_t weights_offset = align64(out * sizeof(float));
  f32_conv2d_dense__scalar(p.geometry, {input, p.in_row_stride, p.in_channel_stride},
                           at<float>(packed, weights_offset), at<float>(packed, 0),
                           {output, p.out_row_stride, p.out_channel_stride}, p.activation, oc_begin,
                           oc_end);
}

// FC packed layout: bias[out], then either row_begin/indices/values or weights[out][in].
void scalar_fc_pack(const FcProblem& p, void* packed) {
  const std::size_t out = static_cast<std::size_t>(p.out_features);
  pack_bias(p.bias, p.out_features, at<float>(packed, 0));
  const std::size_t base = align64(out * sizeof(float));
  if (p.sparse.row_begin != nullptr) {
    const std::size_t nonzeros = p.sparse.row_begin[out];
    const std::size_t indices_offset = base + align64((out + 1) * sizeof(std::uint32_t));
    const std::size_t values_offset = indices_offset + align64(nonzeros * sizeof(std::uint32_t));
    copy_bytes(at<std::uint32_t>(packed, base), p.sparse.row_begin,
               sizeof(std::uint32_t) * (out + 1));
    copy_bytes(at<std::uint32_t>(packed, indices_offset), p.sparse.indices,
               sizeof(std::uint32_t) * nonzeros);
    copy_bytes(at<float>(packed, values_offset), p.sparse.values, sizeof(float) * nonzeros);
  } else {
    copy_bytes(at<float>(packed, base), p.dense_weights,
               sizeof(float) * out * static_cast<std::size_t>(p.in_features));
  }
}

void scalar_fc_run_sparse(const FcProblem& p, const void* packed, const float* input, float* output,
                          int o_begin, int o_end) {
  const std::size_t out = static_cast<std::size_t>(p.out_features);
  const std::size_t base = align64(out * sizeof(float));
  const auto* row_begin = at<std::uint32_t>(packed, base);
  const std::size_t indices_offset = base + align64((out + 1) * sizeof(std::uint32_t));
  const std::size_t values_offset =
      indices_offset + align64(row_begin[out] * sizeof(std::uint32_t));
  const SparseRows rows{row_begin, at<std::uint32_t>(packed, indices_offset),
                        at<float>(packed, values_offset)};
  f32_fc_sparse__scalar(p.in_features, p.out_features, input, rows, at<float>(packed, 0), output,
                        p.activation, o_begin, o_end);
}

void scalar_fc_run_dense(const FcProblem& p, const void* packed, const float* input, float* output,
                         int o_begin, int o_end) {
  const std::size_t base = align64(static_cast<std::size_t>(p.out_features) * sizeof(float));
  f32_fc_dense__scalar(p.in_features, p.out_features, input, at<float>(packed, base),
                       at<float>(packed, 0), output, p.activation, o_begin, o_end);
}

std::size_t scalar_conv_packed_bytes(const ConvProblem& p) { return scalar_conv_layout(p).total; }

std::size_t scalar_fc_packed_bytes(const FcProblem& problem) {
  const std::size_t out = static_cast<std::size_t>(problem.out_features);
  std::size_t bytes = align64(out * sizeof(float));
  if (problem.sparse.row_begin != nullptr) {
    const std::size_t nonzeros = problem.sparse.row_begin[out];
    bytes += align64((out + 1) * sizeof(std::uint32_t)) +
             align64(nonzeros * sizeof(std::uint32_t)) + align64(nonzeros * sizeof(float));
  } else {
    bytes += align64(out * static_cast<std::size_t>(problem.in_features) * sizeof(float));
  }
  return bytes;
}

bool conv_stored_sparse(const ConvProblem& p) { return p.sparse.row_begin != nullptr; }
bool conv_stored_dense(const ConvProblem& p) { return p.sparse.row_begin == nullptr; }
bool fc_stored_sparse(const FcProblem& p) { return p.sparse.row_begin != nullptr; }
bool fc_stored_dense(const FcProblem& p) { return p.sparse.row_begin == nullptr; }
// The stored form as a crossover: above every density for sparse weights, below for dense.
double conv_stored_form(const ConvProblem& p, Isa) { return conv_stored_sparse(p) ? 2.0 : -1.0; }
double fc_stored_form(const FcProblem& p, Isa) { return fc_stored_sparse(p) ? 2.0 : -1.0; }

void scalar_pool_run(const PoolProblem& p, const float* input, float* output, int c_begin,
                     int c_end) {
  const ConstPlanarView in{input, p.in_row_stride, p.in_channel_stride};
  if (p.global) {
    if (p.out_channel_stride == 1) {
      f32_global_avgpool__scalar(p.geometry.channels, p.geometry.in_height, p.geometry.in_width, in,
                                 output, c_begin, c_end);
    } else {
      for (int c = c_begin; c < c_end; ++c) {
        const ConstPlanarView plane{input + c * p.in_channel_stride, p.in_row_stride,
                                    p.in_channel_stride};
        f32_global_avgpool__scalar(1, p.geometry.in_height, p.geometry.in_width, plane,
                                   output + c * p.out_channel_stride, 0, 1);
      }
    }
    if (p.activation == Activation::kRelu)
      for (int c = c_begin; c < c_end; ++c) {
        float& v = output[c * p.out_channel_stride];
        v = v > 0.0f ? v : 0.0f;
      }
    return;
  }
  const PlanarView out{output, p.out_row_stride, p.out_channel_stride};
  if (p.max) {
    f32_maxpool2d__scalar(p.geometry, in, out, p.activation, c_begin, c_end);
  } else {
    f32_avgpool2d__scalar(p.geometry, in, out, p.count_include_pad, p.pad_bottom, p.pad_right,
                          p.activation, c_begin, c_end);
  }
}

bool is_global(const PoolProblem& p) { return p.global; }
bool is_max(const PoolProblem& p) { return !p.global && p.max; }
bool is_average(const PoolProblem& p) { return !p.global && !p.max; }

const ConvKernelInfo kConvKernels[] = {
    {"f32_conv2d_sparse__scalar", Isa::kScalar, 0, true, conv_stored_sparse,
     scalar_conv_packed_bytes, scalar_conv_pack, scalar_conv_run_sparse, false},
    {"f32_conv2d_dense__scalar", Isa::kScalar, 0, false, conv_stored_dense,
     scalar_conv_packed_bytes, scalar_conv_pack, scalar_conv_run_dense, false},
};

const FcKernelInfo kFcKernels[] = {
    {"f32_fc_sparse__scalar", Isa::kScalar, 0, true, fc_stored_sparse, scalar_fc_packed_bytes,
     scalar_fc_pack, scalar_fc_run_sparse},
    {"f32_fc_dense__scalar", Isa::kScalar, 0, false, fc_stored_dense, scalar_fc_packed_bytes,
     scalar_fc_pack, scalar_fc_run_dense},
};

const PoolKernelInfo kPoolKernels[] = {
    {"f32_global_avgpool__scalar", Isa::kScalar, 0, is_global, scalar_pool_run, false, nullptr},
    {"f32_maxpool2d__scalar", Isa::kScalar, 0, is_max, scalar_pool_run, false, nullptr},
    {"f32_avgpool2d__scalar", Isa::kScalar, 0, is_average, scalar_pool_run, false, nullptr},
};

}  // namespace
}  // namespace scalar

const IsaKernels& scalar_kernels() {
  static const IsaKernels family{table_of(scalar::kConvKernels),
                                 table_of(scalar::kFcKernels),
                                 table_of(scalar::kPoolKernels),
                                 scalar::conv_stored_form,
                                 scalar::fc_stored_form,
                                 nullptr,
                                 nullptr};
  return family;
}

}  // namespace kernels
}  // namespace gnrt
