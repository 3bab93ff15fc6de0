// Small text formatters shared by the commands and reports. No LibTorch.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gnconvert {

// "64x1x7x7".
std::string shape_string(const std::vector<std::int64_t>& shape);

// 0.9312 -> "93.12%".
std::string percent(double fraction);

// Seconds as "1h02m" or "3m07s"; "?" when not finite or negative.
std::string format_duration(double seconds);

}  // namespace gnconvert
