// Kernel selection: the one place that knows which kernel families exist for which ISA.
// The per-architecture selectors (platforms/x86, platforms/arm) are asked first; the scalar
// reference kernels are the fallback and what force_scalar returns.
#include <cstring>

#include "gnrt/kernels.h"
#include "select_internal.h"

namespace gnrt {
namespace kernels {
namespace internal {
namespace {

// memcpy that accepts empty ranges with null pointers (a layer with no nonzeros has empty
// index/value vectors).
void copy_bytes(void* dst, const void* src, std::size_t bytes) {
  if (bytes != 0) std::memcpy(dst, src, bytes);
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

std::size_t dense_conv_weight_count(const ConvGeometry& g) {
  return static_cast<std::size_t>(g.out_channels) * (g.in_channels / g.groups) * g.kernel_h *
         g.kernel_w;
}

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

}  // namespace

ConvKernel scalar_conv_kernel(const ConvProblem& problem) {
  ConvKernel kernel{};
  kernel.sparse = problem.sparse.row_begin != nullptr;
  kernel.name = kernel.sparse ? "f32_conv2d_sparse__scalar" : "f32_conv2d_dense__scalar";
  kernel.packed_bytes = scalar_conv_layout(problem).total;
  kernel.pack = scalar_conv_pack;
  kernel.run = kernel.sparse ? scalar_conv_run_sparse : scalar_conv_run_dense;
  return kernel;
}

FcKernel scalar_fc_kernel(const FcProblem& problem) {
  FcKernel kernel{};
  kernel.sparse = problem.sparse.row_begin != nullptr;
  kernel.name = kernel.sparse ? "f32_fc_sparse__scalar" : "f32_fc_dense__scalar";
  const std::size_t out = static_cast<std::size_t>(problem.out_features);
  std::size_t bytes = align64(out * sizeof(float));
  if (kernel.sparse) {
    const std::size_t nonzeros = problem.sparse.row_begin[out];
    bytes += align64((out + 1) * sizeof(std::uint32_t)) +
             align64(nonzeros * sizeof(std::uint32_t)) + align64(nonzeros * sizeof(float));
  } else {
    bytes += align64(out * static_cast<std::size_t>(problem.in_features) * sizeof(float));
  }
  kernel.packed_bytes = bytes;
  kernel.pack = scalar_fc_pack;
  kernel.run = kernel.sparse ? scalar_fc_run_sparse : scalar_fc_run_dense;
  return kernel;
}

double conv_density(const ConvProblem& problem) {
  const double total = static_cast<double>(dense_conv_weight_count(problem.geometry));
  if (total <= 0.0) return 0.0;
  const double nonzeros = problem.sparse.row_begin != nullptr
                              ? problem.sparse.row_begin[problem.geometry.out_channels]
                              : static_cast<double>(problem.nonzeros);
  return nonzeros / total;
}

double fc_density(const FcProblem& problem) {
  const double total = static_cast<double>(problem.in_features) * problem.out_features;
  if (total <= 0.0) return 0.0;
  const double nonzeros = problem.sparse.row_begin != nullptr
                              ? problem.sparse.row_begin[problem.out_features]
                              : static_cast<double>(problem.nonzeros);
  return nonzeros / total;
}

void expand_conv_weights(const ConvProblem& problem, float* dense) {
  const std::size_t count = dense_conv_weight_count(problem.geometry);
  if (problem.sparse.row_begin == nullptr) {
    copy_bytes(dense, problem.dense_weights, count * sizeof(float));
    return;
  }
  std::memset(dense, 0, count * sizeof(float));
  const std::size_t row_size = count / static_cast<std::size_t>(problem.geometry.out_channels);
  for (int o = 0; o < problem.geometry.out_channels; ++o) {
    for (std::uint32_t n = problem.sparse.row_begin[o]; n < problem.sparse.row_begin[o + 1]; ++n) {
      dense[o * row_size + problem.sparse.indices[n]] = problem.sparse.values[n];
    }
  }
}

void expand_fc_weights(const FcProblem& problem, float* dense) {
  const std::size_t in = static_cast<std::size_t>(problem.in_features);
  const std::size_t count = in * static_cast<std::size_t>(problem.out_features);
  if (problem.sparse.row_begin == nullptr) {
    copy_bytes(dense, problem.dense_weights, count * sizeof(float));
    return;
  }
  std::memset(dense, 0, count * sizeof(float));
  for (int o = 0; o < problem.out_features; ++o) {
    for (std::uint32_t n = problem.sparse.row_begin[o]; n < problem.sparse.row_begin[o + 1]; ++n) {
      dense[o * in + problem.sparse.indices[n]] = problem.sparse.values[n];
    }
  }
}

}  // namespace internal

ConvKernel select_conv_kernel(const ConvProblem& problem, Isa isa, bool force_scalar) {
  if (!force_scalar) {
    ConvKernel kernel{};
#if defined(GNRT_KERNELS_X86)
    if ((isa == Isa::kAvx2 || isa == Isa::kAvx512) &&
        internal::select_conv_kernel_x86(problem, isa, &kernel)) {
      return kernel;
    }
#endif
#if defined(GNRT_KERNELS_ARM)
    if (isa == Isa::kNeon && internal::select_conv_kernel_arm(problem, isa, &kernel)) {
      return kernel;
    }
#endif
    (void)kernel;
    (void)isa;
  }
  return internal::scalar_conv_kernel(problem);
}

FcKernel select_fc_kernel(const FcProblem& problem, Isa isa, bool force_scalar) {
  if (!force_scalar) {
    FcKernel kernel{};
#if defined(GNRT_KERNELS_X86)
    if ((isa == Isa::kAvx2 || isa == Isa::kAvx512) &&
        internal::select_fc_kernel_x86(problem, isa, &kernel)) {
      return kernel;
    }
#endif
#if defined(GNRT_KERNELS_ARM)
    if (isa == Isa::kNeon && internal::select_fc_kernel_arm(problem, isa, &kernel)) {
      return kernel;
    }
#endif
    (void)kernel;
    (void)isa;
  }
  return internal::scalar_fc_kernel(problem);
}

namespace internal {

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

PoolKernel scalar_pool_kernel(const PoolProblem& problem) {
  if (problem.global) return {"f32_global_avgpool__scalar", scalar_pool_run};
  return {problem.max ? "f32_maxpool2d__scalar" : "f32_avgpool2d__scalar", scalar_pool_run};
}

}  // namespace internal

PoolKernel select_pool_kernel(const PoolProblem& problem, Isa isa, bool force_scalar) {
  if (!force_scalar) {
    PoolKernel kernel{};
#if defined(GNRT_POOL_KERNELS_X86)
    if ((isa == Isa::kAvx2 || isa == Isa::kAvx512) &&
        internal::select_pool_kernel_x86(problem, isa, &kernel)) {
      return kernel;
    }
#endif
#if defined(GNRT_POOL_KERNELS_ARM)
    if (isa == Isa::kNeon && internal::select_pool_kernel_arm(problem, isa, &kernel)) {
      return kernel;
    }
#endif
    (void)kernel;
    (void)isa;
  }
  return internal::scalar_pool_kernel(problem);
}

}  // namespace kernels
}  // namespace gnrt
