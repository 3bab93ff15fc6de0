#include "train/batches.h"

#include <random>

namespace gnconvert {

namespace F = torch::nn::functional;

std::vector<std::size_t> epoch_order(const std::vector<std::size_t>& indices, std::uint64_t seed) {
  std::vector<std::size_t> order = indices;
  std::mt19937_64 rng(seed);
  for (std::size_t i = order.size(); i > 1; --i) {
    std::size_t j = static_cast<std::size_t>(rng() % i);
    std::swap(order[i - 1], order[j]);
  }
  return order;
}

torch::Tensor make_batch(const ImageSet& set, const std::vector<std::size_t>& indices,
                         std::size_t begin, std::size_t end, const Normalization& norm, int height,
                         int width, const DataOptions* augment, std::uint64_t seed,
                         std::size_t draws_skipped) {
  const int c = set.channels, h = set.height, w = set.width;
  const std::size_t n = end - begin;
  auto batch = torch::empty({static_cast<int64_t>(n), c, h, w});
  float* out = batch.data_ptr<float>();
  std::mt19937_64 rng(seed);
  if (augment && augment->augment && draws_skipped > 0) {
    // Draws per image below: two for the shift (when crop_pad > 0), one for the flip.
    const std::size_t per_image = (augment->crop_pad > 0 ? 2 : 0) + (augment->flip ? 1 : 0);
    rng.discard(static_cast<unsigned long long>(draws_skipped * per_image));
  }
  std::vector<float> scale(c), shift(c);
  for (int ch = 0; ch < c; ++ch) {
    scale[ch] = 1.0f / (255.0f * norm.std[ch]);
    shift[ch] = -norm.mean[ch] / norm.std[ch];
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* src = set.image(indices[begin + i]);
    int dx = 0, dy = 0;
    bool flip = false;
    if (augment && augment->augment) {
      int pad = augment->crop_pad;
      if (pad > 0) {
        dx = static_cast<int>(rng() % (2 * pad + 1)) - pad;
        dy = static_cast<int>(rng() % (2 * pad + 1)) - pad;
      }
      flip = augment->flip && (rng() & 1);
    }
    for (int ch = 0; ch < c; ++ch) {
      const std::uint8_t* plane = src + static_cast<std::size_t>(ch) * h * w;
      float* dst = out + (i * c + ch) * static_cast<std::size_t>(h) * w;
      for (int y = 0; y < h; ++y) {
        int sy = y + dy;
        for (int x = 0; x < w; ++x) {
          int sx = (flip ? w - 1 - x : x) + dx;
          float pixel = (sy >= 0 && sy < h && sx >= 0 && sx < w) ? plane[sy * w + sx] : 0.0f;
          dst[y * w + x] = pixel * scale[ch] + shift[ch];
        }
      }
    }
  }
  if (height != h || width != w) {
    batch = F::interpolate(batch, F::InterpolateFuncOptions()
                                      .size(std::vector<int64_t>{height, width})
                                      .mode(torch::kBilinear)
                                      .align_corners(false));
  }
  return batch.contiguous();
}

torch::Tensor make_labels(const ImageSet& set, const std::vector<std::size_t>& indices,
                          std::size_t begin, std::size_t end) {
  auto labels = torch::empty({static_cast<int64_t>(end - begin)}, torch::kLong);
  auto* p = labels.data_ptr<int64_t>();
  for (std::size_t i = begin; i < end; ++i) p[i - begin] = set.labels[indices[i]];
  return labels;
}

}  // namespace gnconvert
