// Declarations of the x86 int8 kernels (rows of kernel_list.cc's qconv table).
#pragma once

#include "gnrt/qkernels.h"

namespace gnrt {
namespace kernels {

bool qs8_conv2d_sparse_s1f_64x4__avx512vnni_supports(const QConvProblem& p);
void qs8_conv2d_sparse_s1f_64x4__avx512vnni(const QConvProblem& p, const void* packed,
                                            const std::uint8_t* input, std::uint8_t* output,
                                            int oc_begin, int oc_end);

bool qs8_conv2d_sparse_s1f_32x4__avxvnni_supports(const QConvProblem& p);
void qs8_conv2d_sparse_s1f_32x4__avxvnni(const QConvProblem& p, const void* packed,
                                         const std::uint8_t* input, std::uint8_t* output,
                                         int oc_begin, int oc_end);

bool qs8_conv2d_sparse_s1f_32x4__avx2_supports(const QConvProblem& p);
void qs8_conv2d_sparse_s1f_32x4__avx2(const QConvProblem& p, const void* packed,
                                      const std::uint8_t* input, std::uint8_t* output,
                                      int oc_begin, int oc_end);

}  // namespace kernels
}  // namespace gnrt
