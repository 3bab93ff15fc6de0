// IDX reader (the MNIST / Fashion-MNIST container format), raw or gzip-compressed (detected
// from the content, not the name). Only what the tools need: unsigned-byte images [N, H, W] and
// labels [N]. Input is untrusted: magic, type, rank and dimensions are validated against the
// data actually present; allocations grow with decompressed data, never with declared sizes.
// Errors are InputError with a one-line message naming the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fileio.h"

namespace gnrt::tools {

// Limits on declared dimensions (rejected before any data is read).
constexpr std::uint32_t kMaxIdxImageSide = 65535;
constexpr std::uint32_t kMaxIdxCount = 0x7fffffff;

struct IdxImages {
  int count = 0;
  int height = 0;
  int width = 0;
  std::vector<std::uint8_t> pixels;  // count x height x width, row-major

  const std::uint8_t* image(int index) const {
    return pixels.data() + std::size_t(index) * std::size_t(height) * std::size_t(width);
  }
};

struct IdxLabels {
  std::vector<std::uint8_t> labels;
};

// From file bytes held in memory (gzip or raw). `name` is used in error messages.
IdxImages decode_idx_images(const std::uint8_t* data, std::size_t size, const std::string& name);
IdxLabels decode_idx_labels(const std::uint8_t* data, std::size_t size, const std::string& name);

// read_file + decode.
IdxImages read_idx_images(const std::string& path);
IdxLabels read_idx_labels(const std::string& path);

// Raw (uncompressed) IDX encodings, for writing test subsets.
std::vector<std::uint8_t> encode_idx_images(const IdxImages& images);
std::vector<std::uint8_t> encode_idx_labels(const IdxLabels& labels);
// gzip-compresses bytes (zlib, gzip wrapper). Throws InputError on failure.
std::vector<std::uint8_t> gzip_compress(const std::vector<std::uint8_t>& bytes);

}  // namespace gnrt::tools
