// Sparse fully connected (matrix-vector), ARMv7 NEON (VMLA): per output, eight nonzeros per
// step gathered by lane loads into two accumulators. Built with -mfpu=neon.
#if !defined(__arm__) || defined(__aarch64__)
#error "AArch32 only"
#endif

#include "arm/neon_kernels.h"
#include "arm/neon_mac.h"
#include "arm/sparse_neon_impl.h"

namespace gnrt {
namespace kernels {
void f32_fc_sparse__neon_armv7(const FcProblem& problem, const void* packed, const float* input,
                               float* output, int o_begin, int o_end) {
  arm::fc_sparse_run<arm::MacMla>(problem, packed, input, output, o_begin, o_end);
}

}  // namespace kernels
}  // namespace gnrt
