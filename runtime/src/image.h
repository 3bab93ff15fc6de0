#pragma once

#include <cstdint>

#include "plan.h"

namespace gnrt {

// Interleaved 8-bit image -> the plan's input tensor (resized, channel-converted, normalized).
Status set_input_image(Plan* plan, const std::uint8_t* pixels, int height, int width, int channels);

}  // namespace gnrt
