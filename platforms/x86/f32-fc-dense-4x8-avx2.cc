// Dense (4 rows x 8 lanes) fully connected layer, AVX2+FMA. Loop nest: fc_impl.h; packing:
// fc_packing.h.
#include "x86/fc_impl.h"
#include "x86/kernels_x86.h"
#include "x86/vec_avx2.h"

namespace gnrt {
namespace kernels {
namespace x86 {

void f32_fc_dense_4x8__avx2(const FcProblem& p, const void* packed, const float* input,
                            float* output, int o_begin, int o_end) {
  dense_fc<VecAvx2>(p, packed, input, output, o_begin, o_end);
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
