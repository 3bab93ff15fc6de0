// Batches of images as normalized float tensors, and the seeded epoch order.
//
// Reproducibility: every random draw is derived from (seed, stage, epoch, step) -- the epoch's
// shuffling, each batch's augmentation and the dropout generator, which is reseeded before every
// step -- so a run resumed from a checkpoint replays exactly the draws of an uninterrupted run.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

#include "data/dataset.h"
#include "util/options.h"

namespace gnconvert {

struct Normalization {
  std::vector<float> mean;  // per channel, of pixel/255
  std::vector<float> std;
};

// Normalized float batch (N x C x height x width) of images set[indices[begin..end)), bilinearly
// resized (half-pixel centres, no antialiasing) when the resolution differs from the images'.
// With `augment`, each image is shifted by up to crop_pad pixels (zero fill) and flipped
// horizontally with probability 1/2, drawn from `seed`. `draws_skipped` images' worth of draws
// are skipped first: a data-parallel rank holding positions [k, k + n) of a global batch draws
// exactly what one process building the whole batch draws for those images.
torch::Tensor make_batch(const ImageSet& set, const std::vector<std::size_t>& indices,
                         std::size_t begin, std::size_t end, const Normalization& norm, int height,
                         int width, const DataOptions* augment, std::uint64_t seed,
                         std::size_t draws_skipped = 0);
torch::Tensor make_labels(const ImageSet& set, const std::vector<std::size_t>& indices,
                          std::size_t begin, std::size_t end);

// `indices` shuffled by Fisher-Yates with a generator seeded by `seed`.
std::vector<std::size_t> epoch_order(const std::vector<std::size_t>& indices, std::uint64_t seed);

}  // namespace gnconvert
