// Sparse fully connected layer (CSR SpMV, 16 nonzeros gathered per step), AVX-512.
// Loop nest: fc_impl.h; packing: fc_packing.h.
#include "x86/fc_impl.h"
#include "x86/kernels_x86.h"
#include "x86/vec_avx512.h"

namespace gnrt {
namespace kernels {
namespace x86 {

void f32_fc_sparse_16x1__avx512(const FcProblem& p, const void* packed, const float* input,
                                float* output, int o_begin, int o_end) {
  sparse_fc<VecAvx512>(p, packed, input, output, o_begin, o_end);
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
