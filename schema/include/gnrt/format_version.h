// Version of the .gnrt format written and read by this build: major * 1000 + minor. Readers
// accept any minor of their major (new fields only at the end, see schema/gnrt.fbs).
#pragma once

#include <cstdint>

namespace gnrt {
constexpr std::uint32_t kFormatVersionMajor = 1;
// 1.1 adds int8 weights, quantized tensors, block-sparse rows and gap-coded indices; files that
// use none of them are still written as 1.0.
constexpr std::uint32_t kFormatVersionMinor = 1;
constexpr std::uint32_t kFormatVersion_1_0 = kFormatVersionMajor * 1000;
constexpr std::uint32_t kFormatVersion = kFormatVersionMajor * 1000 + kFormatVersionMinor;
}  // namespace gnrt
