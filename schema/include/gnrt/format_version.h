// Version of the .gnrt format written and read by this build: major * 1000 + minor. Readers
// accept any minor of their major (new fields only at the end, see schema/gnrt.fbs).
#pragma once

#include <cstdint>

namespace gnrt {
constexpr std::uint32_t kFormatVersionMajor = 1;
constexpr std::uint32_t kFormatVersionMinor = 0;
constexpr std::uint32_t kFormatVersion = kFormatVersionMajor * 1000 + kFormatVersionMinor;
}  // namespace gnrt
