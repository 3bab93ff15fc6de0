// Sparse fully connected layer (CSR SpMV, 8 nonzeros gathered per step), AVX2+FMA.
// Loop nest: fc_impl.h; packing: fc_packing.h.
#include "x86/fc_impl.h"
#include "x86/kernels_x86.h"
#include "x86/vec_avx2.h"

namespace gnrt {
namespace kernels {
namespace x86 {

void f32_fc_sparse_8x1__avx2(const FcProblem& p, const void* packed, const float* input,
                             float* output, int o_begin, int o_end) {
  sparse_fc<VecAvx2>(p, packed, input, output, o_begin, o_end);
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
