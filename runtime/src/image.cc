// gnrt_plan_set_input_image_u8: resize + channel conversion + normalization for apps.
#include <algorithm>
#include <cmath>

#include "image.h"

namespace gnrt {

Status set_input_image(Plan* plan, const std::uint8_t* pixels, int height, int width,
                       int channels) {
  if (!pixels) return make_error(GNRT_INVALID_ARGUMENT, "image pixels are NULL");
  if (height < 1 || width < 1 || height > (1 << 15) || width > (1 << 15))
    return make_error(GNRT_INVALID_ARGUMENT, "image size " + std::to_string(height) + "x" +
                                                 std::to_string(width) +
                                                 " out of range [1, 32768]");
  if (channels != 1 && channels != 3)
    return make_error(GNRT_INVALID_ARGUMENT,
                      "image must have 1 or 3 channels, got " + std::to_string(channels));
  const Model& m = plan->model();
  const int t = plan->input_tensor();
  const TensorLayout& l = plan->layout(t);
  if (l.channels != 1 && l.channels != 3)
    return make_error(GNRT_UNSUPPORTED,
                      "image input needs a model with 1 or 3 input channels, this one has " +
                          std::to_string(l.channels));
  float* dst = plan->tensor_data(t);
  // Bilinear, half-pixel centres (as PyTorch's interpolate with align_corners=false).
  const float scale_y = static_cast<float>(height) / l.height;
  const float scale_x = static_cast<float>(width) / l.width;
  for (int y = 0; y < l.height; ++y) {
    const float sy = std::max(0.0f, (y + 0.5f) * scale_y - 0.5f);
    const int y0 = std::min(static_cast<int>(sy), height - 1);
    const int y1 = std::min(y0 + 1, height - 1);
    const float fy = sy - y0;
    for (int x = 0; x < l.width; ++x) {
      const float sx = std::max(0.0f, (x + 0.5f) * scale_x - 0.5f);
      const int x0 = std::min(static_cast<int>(sx), width - 1);
      const int x1 = std::min(x0 + 1, width - 1);
      const float fx = sx - x0;
      float rgb[3];
      for (int c = 0; c < channels; ++c) {
        auto px = [&](int yy, int xx) {
          return static_cast<float>(
              pixels[(static_cast<std::size_t>(yy) * width + xx) * channels + c]);
        };
        const float top = px(y0, x0) + (px(y0, x1) - px(y0, x0)) * fx;
        const float bottom = px(y1, x0) + (px(y1, x1) - px(y1, x0)) * fx;
        rgb[c] = top + (bottom - top) * fy;
      }
      if (channels == 1) rgb[1] = rgb[2] = rgb[0];
      for (int c = 0; c < l.channels; ++c) {
        // Gray from RGB with ITU-R BT.601 weights.
        float v = l.channels == 1 && channels == 3
                      ? 0.299f * rgb[0] + 0.587f * rgb[1] + 0.114f * rgb[2]
                      : rgb[c];
        v = (v / 255.0f - m.mean[c]) / m.std_dev[c];
        dst[c * l.channel_stride + y * l.row_stride + x] = v;
      }
    }
  }
  plan->zero_input_border();
  plan->mark_input_set();
  return Status::Ok();
}

}  // namespace gnrt
