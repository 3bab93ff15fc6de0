// x86 kernel selection: walk the kernel list (kernel_list.cc) in priority order and take the
// first kernel whose ISA the caller allows, whose form (sparse or dense) wins at this layer's
// density, and which supports the problem's geometry and borders.
#include <cstring>

#include "select_internal.h"
#include "x86/kernel_list.h"

namespace gnrt {
namespace kernels {
namespace internal {

namespace {

bool isa_allows(Isa requested, Isa needed) {
  if (needed == Isa::kScalar) return true;
  if (requested == Isa::kAvx512) return needed == Isa::kAvx512 || needed == Isa::kAvx2;
  if (requested == Isa::kAvx2) return needed == Isa::kAvx2;
  return false;
}

}  // namespace

bool select_conv_kernel_x86(const ConvProblem& problem, Isa isa, ConvKernel* kernel) {
  const bool want_sparse = conv_density(problem) < x86::conv_density_crossover(problem, isa);
  // A layer dense enough for the dense kernels but of a shape none of them takes (the 7x7/2
  // stem) runs sparse anyway: then the preferred sparse kernel, as for a sparse layer.
  bool dense_fits = false;
  for (int i = 0; i < x86::kConvKernelCount && !want_sparse && !dense_fits; ++i) {
    const x86::ConvKernelInfo& info = x86::kConvKernels[i];
    dense_fits = !info.sparse && isa_allows(isa, info.isa) && info.supports(problem);
  }
  if (want_sparse || !dense_fits) {
    if (const char* preferred = x86::preferred_conv_kernel(problem, isa)) {
      for (int i = 0; i < x86::kConvKernelCount; ++i) {
        const x86::ConvKernelInfo& info = x86::kConvKernels[i];
        if (std::strcmp(info.name, preferred) != 0 || !info.sparse) continue;
        if (!isa_allows(isa, info.isa) || !info.supports(problem)) break;
        *kernel = x86::to_conv_kernel(info, problem);
        return true;
      }
    }
  }
  // First pass: the preferred form; second pass: any form (a shape the preferred form does not
  // cover is still faster through the other vectorized form than through scalar code).
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < x86::kConvKernelCount; ++i) {
      const x86::ConvKernelInfo& info = x86::kConvKernels[i];
      if (!isa_allows(isa, info.isa)) continue;
      if (pass == 0 && info.sparse != want_sparse) continue;
      if (!info.supports(problem)) continue;
      *kernel = x86::to_conv_kernel(info, problem);
      return true;
    }
  }
  return false;
}

bool select_fc_kernel_x86(const FcProblem& problem, Isa isa, FcKernel* kernel) {
  const bool want_sparse = fc_density(problem) < x86::fc_density_crossover(problem, isa);
  for (int pass = 0; pass < 2; ++pass) {
    for (int i = 0; i < x86::kFcKernelCount; ++i) {
      const x86::FcKernelInfo& info = x86::kFcKernels[i];
      if (!isa_allows(isa, info.isa)) continue;
      if (pass == 0 && info.sparse != want_sparse) continue;
      *kernel = x86::to_fc_kernel(info, problem);
      return true;
    }
  }
  return false;
}

bool select_pool_kernel_x86(const PoolProblem& problem, Isa isa, PoolKernel* kernel) {
  // First pass: the 256-bit kernels when the rows are short (kernel_list.cc); second: any.
  for (int pass = x86::pool_prefers_256bit(problem) ? 0 : 1; pass < 2; ++pass) {
    for (int i = 0; i < x86::kPoolKernelCount; ++i) {
      const x86::PoolKernelInfo& info = x86::kPoolKernels[i];
      if (pass == 0 && info.isa != Isa::kAvx2) continue;
      if (!isa_allows(isa, info.isa) || !info.supports(problem)) continue;
      *kernel = {info.name, info.run, info.zeroes_row_gaps};
      // The global average pools read interior elements only; the max pools no border row in
      // their lane-shift form.
      kernel->reads_border_rows =
          !problem.global &&
          !x86::maxpool3x3_shift_form(problem.geometry.stride_w, problem.geometry.pad_left);
      return true;
    }
  }
  return false;
}

}  // namespace internal
}  // namespace kernels
}  // namespace gnrt
