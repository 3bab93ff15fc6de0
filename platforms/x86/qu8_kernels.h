// Declarations of the x86 uint8 pooling kernels (rows of kernel_list.cc's qpool table).
#pragma once

#include "gnrt/qkernels.h"

namespace gnrt {
namespace kernels {

void qu8_maxpool_s1f__avx512(const QPoolProblem& p, const std::uint8_t* input,
                             std::uint8_t* output, int g_begin, int g_end);
void qu8_maxpool_border__avx512(const QPoolProblem& p, const std::uint8_t* input,
                                std::uint8_t* output, int g_begin, int g_end);
void qu8_maxpool_s1f__avx2(const QPoolProblem& p, const std::uint8_t* input, std::uint8_t* output,
                           int g_begin, int g_end);
void qu8_maxpool_border__avx2(const QPoolProblem& p, const std::uint8_t* input,
                              std::uint8_t* output, int g_begin, int g_end);

}  // namespace kernels
}  // namespace gnrt
