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

template <typename T>
T* at(void* base, std::size_t offset) {
  return reinterpret_cast<T*>(static_cast<char*>(base) + offset);
}
template <typename T>
const T* at(const void* base, std::size_t offset) {
  return reinterpret_cast<const T*>(static_cast<const char*>(base) + offset);
}

// Packed layout of the scalar kernels, convolution and fully connected alike (a row: an output
// channel or feature), each region 64-byte aligned:
//   bias[rows]  (zeros when the problem has none)
//   sparse: row_begin[rows + 1] (uint32), indices[nonzeros] (uint32), values[nonzeros] (float)
//   dense:  weights[rows][row_size]  (convolution: [out][in / groups][kh][kw])
// `run` receives the problem again at inference time; its weight pointers may be stale by then,
// so the offsets are recomputed only from fields that stay valid (the sizes, and whether it is
// sparse). The nonzero count comes from the packed row_begin, not from the problem.
std::size_t weights_offset(std::size_t rows) { return align64(rows * sizeof(float)); }

std::size_t packed_rows_bytes(std::size_t rows, std::size_t row_size, const SparseRows& sparse) {
  std::size_t bytes = weights_offset(rows);
  if (sparse.row_begin != nullptr) {
    const std::size_t nonzeros = sparse.row_begin[rows];
    bytes += align64((rows + 1) * sizeof(std::uint32_t)) +
             align64(nonzeros * sizeof(std::uint32_t)) + align64(nonzeros * sizeof(float));
  } else {
    bytes += align64(rows * row_size * sizeof(float));
  }
  return bytes;
}

void pack_rows(std::size_t rows, std::size_t row_size, const float* bias, const SparseRows& sparse,
               const float* dense, void* packed) {
  if (bias != nullptr) {
    copy_bytes(packed, bias, sizeof(float) * rows);
  } else {
    std::memset(packed, 0, sizeof(float) * rows);
  }
  const std::size_t base = weights_offset(rows);
  if (sparse.row_begin != nullptr) {
    const std::size_t nonzeros = sparse.row_begin[rows];
    const std::size_t indices_offset = base + align64((rows + 1) * sizeof(std::uint32_t));
    const std::size_t values_offset = indices_offset + align64(nonzeros * sizeof(std::uint32_t));
    copy_bytes(at<std::uint32_t>(packed, base), sparse.row_begin,
               sizeof(std::uint32_t) * (rows + 1));
    copy_bytes(at<std::uint32_t>(packed, indices_offset), sparse.indices,
               sizeof(std::uint32_t) * nonzeros);
    copy_bytes(at<float>(packed, values_offset), sparse.values, sizeof(float) * nonzeros);
  } else {
    copy_bytes(at<float>(packed, base), dense, sizeof(float) * rows * row_size);
  }
}

SparseRows packed_sparse_rows(const void* packed, std::size_t rows) {
  const std::size_t base = weights_offset(rows);
  const auto* row_begin = at<std::uint32_t>(packed, base);
  const std::size_t indices_offset = base + align64((rows + 1) * sizeof(std::uint32_t));
  const std::size_t values_offset =
      indices_offset + align64(row_begin[rows] * sizeof(std::uint32_t));
  return {row_begin, at<std::uint32_t>(packed, indices_offset), at<float>(packed, values_offset)};
}

std::size_t conv_rows(const ConvProblem& p) {
  return static_cast<std::size_t>(p.geometry.out_channels);
}
std::size_t conv_row_size(const ConvProblem& p) {
  const ConvGeometry& g = p.geometry;
  return static_cast<std::size_t>(g.in_channels / g.groups) * g.kernel_h * g.kernel_w;
}

std::size_t scalar_conv_packed_bytes(const ConvProblem& p) {
  return packed_rows_bytes(conv_rows(p), conv_row_size(p), p.sparse);
}

void scalar_conv_pack(const ConvProblem& p, void* packed) {
  pack_rows(conv_rows(p), conv_row_size(p), p.bias, p.sparse, p.dense_weights, packed);
}

void scalar_conv_run_sparse(const ConvProblem& p, const void* packed, const float* input,
                            float* output, int oc_begin, int oc_end) {
  f32_conv2d_sparse__scalar(p.geometry, {input, p.in_row_stride, p.in_channel_stride},
                            packed_sparse_rows(packed, conv_rows(p)), at<float>(packed, 0),
                            {output, p.out_row_stride, p.out_channel_stride}, p.activation,
                            oc_begin, oc_end);
}

void scalar_conv_run_dense(const ConvProblem& p, const void* packed, const float* input,
                           float* output, int oc_begin, int oc_end) {
  f32_conv2d_dense__scalar(p.geometry, {input, p.in_row_stride, p.in_channel_stride},
                           at<float>(packed, weights_offset(conv_rows(p))), at<float>(packed, 0),
                           {output, p.out_row_stride, p.out_channel_stride}, p.activation, oc_begin,
                           oc_end);
}

std::size_t scalar_fc_packed_bytes(const FcProblem& p) {
  return packed_rows_bytes(static_cast<std::size_t>(p.out_features),
                           static_cast<std::size_t>(p.in_features), p.sparse);
}

void scalar_fc_pack(const FcProblem& p, void* packed) {
  pack_rows(static_cast<std::size_t>(p.out_features), static_cast<std::size_t>(p.in_features),
            p.bias, p.sparse, p.dense_weights, packed);
}

void scalar_fc_run_sparse(const FcProblem& p, const void* packed, const float* input, float* output,
                          int o_begin, int o_end) {
  f32_fc_sparse__scalar(p.in_features, p.out_features, input,
                        packed_sparse_rows(packed, static_cast<std::size_t>(p.out_features)),
                        at<float>(packed, 0), output, p.activation, o_begin, o_end);
}

void scalar_fc_run_dense(const FcProblem& p, const void* packed, const float* input, float* output,
                         int o_begin, int o_end) {
  const float* weights =
      at<float>(packed, weights_offset(static_cast<std::size_t>(p.out_features)));
  f32_fc_dense__scalar(p.in_features, p.out_features, input, weights, at<float>(packed, 0), output,
                       p.activation, o_begin, o_end);
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

const QConvKernelInfo kQConvKernels[] = {
    {"qs8_conv2d__scalar", Isa::kScalar, 0, nullptr, qs8_conv2d_ref},
};

// uint8 pooling (qpool.cc), the compiler-vectorized forms first, the reference last.
const QPoolKernelInfo kQPoolKernels[] = {
    {"qu8_maxpool_s1_flat", Isa::kScalar, 0, qu8_maxpool_s1_flat_fits, qu8_maxpool_s1_flat, true},
    {"qu8_maxpool_rows", Isa::kScalar, 0, qu8_maxpool_rows_fits, qu8_maxpool_rows, false},
    {"qu8_pool_ref", Isa::kScalar, 0, nullptr, qu8_pool_ref, false},
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
                                 nullptr,
                                 table_of(scalar::kQConvKernels),
                                 table_of(scalar::kQPoolKernels)};
  return family;
}

}  // namespace kernels
}  // namespace gnrt
