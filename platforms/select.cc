// Kernel selection: one algorithm for every ISA family (kernel_registry.h). The family of the
// requested ISA level is asked first; the scalar reference kernels are the fallback and what
// force_scalar returns.
#include <cstring>

#include "gnrt/kernels.h"
#include "kernel_registry.h"
#include "select_internal.h"

namespace gnrt {
namespace kernels {
namespace internal {
namespace {

// memcpy that accepts empty ranges with null pointers.
void copy_bytes(void* dst, const void* src, std::size_t bytes) {
  if (bytes != 0) std::memcpy(dst, src, bytes);
}

std::size_t dense_conv_weight_count(const ConvGeometry& g) {
  return static_cast<std::size_t>(g.out_channels) * (g.in_channels / g.groups) * g.kernel_h *
         g.kernel_w;
}

}  // namespace

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

bool isa_allows(Isa requested, Isa needed) {
  if (needed == Isa::kScalar) return true;
  if (requested == Isa::kAvx512) return needed == Isa::kAvx512 || needed == Isa::kAvx2;
  if (requested == Isa::kAvx2) return needed == Isa::kAvx2;
  if (requested == Isa::kNeon) return needed == Isa::kNeon;
  return false;
}

const IsaKernels* kernels_for(Isa isa) {
#if defined(GNRT_KERNELS_X86)
  if (isa == Isa::kAvx2 || isa == Isa::kAvx512) return &x86_kernels();
#endif
#if defined(GNRT_KERNELS_ARM)
  if (isa == Isa::kNeon) return &arm_kernels();
#endif
  (void)isa;
  return nullptr;
}

namespace {

// The fields convolution and fully connected kernels share.
template <typename Kernel, typename Info, typename Problem>
Kernel packed_kernel(const Info& info, const Problem& problem) {
  Kernel kernel{};
  kernel.name = info.name;
  kernel.sparse = info.sparse;
  kernel.packed_bytes = info.packed_bytes(problem);
  kernel.pack = info.pack;
  kernel.run = info.run;
  return kernel;
}

}  // namespace

ConvKernel to_conv_kernel(const ConvKernelInfo& info, const ConvProblem& problem) {
  ConvKernel kernel = packed_kernel<ConvKernel>(info, problem);
  kernel.zeroes_row_gaps = info.zeroes_row_gaps;
  return kernel;
}

FcKernel to_fc_kernel(const FcKernelInfo& info, const FcProblem& problem) {
  return packed_kernel<FcKernel>(info, problem);
}

PoolKernel to_pool_kernel(const PoolKernelInfo& info, const PoolProblem& problem) {
  PoolKernel kernel{info.name, info.run, info.zeroes_row_gaps};
  if (info.reads_border_rows != nullptr) kernel.reads_border_rows = info.reads_border_rows(problem);
  return kernel;
}

// Walk the family's list in priority order and take the first row whose ISA the caller allows,
// whose form (sparse or dense) wins at this layer's density, and which supports the problem's
// geometry and borders; the family's preferred row first.
bool select_from(const IsaKernels& family, const ConvProblem& problem, Isa isa,
                 ConvKernel* kernel) {
  const bool want_sparse =
      internal::conv_density(problem) < family.conv_density_crossover(problem, isa);
  const auto fits = [&](const ConvKernelInfo& info) {
    return row_allowed(info, isa) && info.supports(problem);
  };
  // A layer dense enough for the dense kernels but of a shape none of them takes (the 7x7/2
  // stem) runs sparse anyway: then the preferred sparse kernel, as for a sparse layer.
  bool dense_fits = false;
  for (const ConvKernelInfo& info : family.conv) {
    if (want_sparse || dense_fits) break;
    dense_fits = !info.sparse && fits(info);
  }
  if ((want_sparse || !dense_fits) && family.preferred_conv != nullptr) {
    const ConvKernelInfo* preferred = family.preferred_conv(problem, isa);
    if (preferred != nullptr && preferred->sparse && fits(*preferred)) {
      *kernel = to_conv_kernel(*preferred, problem);
      return true;
    }
  }
  // First pass: the preferred form; second pass: any form (a shape the preferred form does not
  // cover is still faster through the other vectorized form than through scalar code).
  for (int pass = 0; pass < 2; ++pass) {
    for (const ConvKernelInfo& info : family.conv) {
      if (pass == 0 && info.sparse != want_sparse) continue;
      if (!fits(info)) continue;
      *kernel = to_conv_kernel(info, problem);
      return true;
    }
  }
  return false;
}

bool select_from(const IsaKernels& family, const FcProblem& problem, Isa isa, FcKernel* kernel) {
  const bool want_sparse =
      internal::fc_density(problem) < family.fc_density_crossover(problem, isa);
  for (int pass = 0; pass < 2; ++pass) {
    for (const FcKernelInfo& info : family.fc) {
      if (!row_allowed(info, isa)) continue;
      if (pass == 0 && info.sparse != want_sparse) continue;
      if (info.supports != nullptr && !info.supports(problem)) continue;
      *kernel = to_fc_kernel(info, problem);
      return true;
    }
  }
  return false;
}

bool select_from(const IsaKernels& family, const PoolProblem& problem, Isa isa,
                 PoolKernel* kernel) {
  const PoolKernelInfo* preferred =
      family.preferred_pool != nullptr ? family.preferred_pool(problem, isa) : nullptr;
  if (preferred != nullptr) {
    *kernel = to_pool_kernel(*preferred, problem);
    return true;
  }
  for (const PoolKernelInfo& info : family.pool) {
    if (!row_allowed(info, isa) || !info.supports(problem)) continue;
    *kernel = to_pool_kernel(info, problem);
    return true;
  }
  return false;
}

namespace {

// The family of `isa` unless force_scalar, then the scalar list (which takes every problem).
template <typename Problem, typename Kernel>
Kernel select_kernel(const Problem& problem, Isa isa, bool force_scalar) {
  Kernel kernel{};
  if (!force_scalar) {
    const IsaKernels* family = kernels_for(isa);
    if (family != nullptr && select_from(*family, problem, isa, &kernel)) return kernel;
  }
  select_from(scalar_kernels(), problem, Isa::kScalar, &kernel);
  return kernel;
}

}  // namespace

ConvKernel select_conv_kernel(const ConvProblem& problem, Isa isa, bool force_scalar) {
  return select_kernel<ConvProblem, ConvKernel>(problem, isa, force_scalar);
}

FcKernel select_fc_kernel(const FcProblem& problem, Isa isa, bool force_scalar) {
  return select_kernel<FcProblem, FcKernel>(problem, isa, force_scalar);
}

PoolKernel select_pool_kernel(const PoolProblem& problem, Isa isa, bool force_scalar) {
  return select_kernel<PoolProblem, PoolKernel>(problem, isa, force_scalar);
}

}  // namespace kernels
}  // namespace gnrt

namespace gnrt {
namespace kernels {

QConvKernel select_qconv(const QConvProblem& problem, Isa isa) {
  const IsaKernels* families[2] = {kernels_for(isa), &scalar_kernels()};
  for (const IsaKernels* family : families) {
    if (family == nullptr) continue;
    for (const QConvKernelInfo& info : family->qconv) {
      if (!row_allowed(info, isa) || (info.supports && !info.supports(problem))) continue;
      return {info.name, info.run};
    }
  }
  return {"qs8_conv2d__scalar", qs8_conv2d_ref};
}

QPoolKernel select_qpool(const QPoolProblem& problem, Isa isa) {
  const IsaKernels* families[2] = {kernels_for(isa), &scalar_kernels()};
  for (const IsaKernels* family : families) {
    if (family == nullptr) continue;
    for (const QPoolKernelInfo& info : family->qpool) {
      if (!row_allowed(info, isa) || (info.supports && !info.supports(problem))) continue;
      return {info.name, info.run, info.writes_gaps};
    }
  }
  return {"qu8_pool_ref", qu8_pool_ref, false};
}

}  // namespace kernels
}  // namespace gnrt
