// Netpbm image reader/writer for the tools: PGM and PPM, ASCII (P2, P3) and binary (P5, P6),
// maxval 1..65535 (16-bit samples are big-endian, as the Netpbm spec says). Input is untrusted:
// every malformed file gives an InputError naming the file and the problem; allocations never
// exceed what the file's length can actually hold.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "fileio.h"

namespace gnrt::tools {

// Largest width or height accepted (Netpbm itself allows more; no camera image comes close).
constexpr int kMaxImageDimension = 32768;

struct Image {
  int width = 0;
  int height = 0;
  int channels = 0;  // 1 (PGM, gray) or 3 (PPM, RGB)
  int maxval = 0;    // as declared in the file
  // height x width x channels, interleaved, row-major, scaled to 0..255 (round to nearest) when
  // maxval != 255.
  std::vector<std::uint8_t> pixels;
};

// True when the bytes start like a PGM/PPM this reader handles ("P2", "P3", "P5", "P6").
bool looks_like_pnm(const std::uint8_t* data, std::size_t size);

// Decodes a PGM/PPM held in memory. `name` is used in error messages. Only the first image of
// a multi-image file is read; bytes after it are ignored.
Image decode_pnm(const std::uint8_t* data, std::size_t size, const std::string& name);

// read_file + decode_pnm.
Image read_pnm(const std::string& path);

// Binary PGM (P5, channels 1) or PPM (P6, channels 3), maxval 255.
std::vector<std::uint8_t> encode_pnm(const Image& image);
void write_pnm(const std::string& path, const Image& image);

}  // namespace gnrt::tools
