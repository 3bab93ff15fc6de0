#include "imageio.h"

#include <cstdint>

namespace gnrt::tools {
namespace {

bool is_space(std::uint8_t c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_digit(std::uint8_t c) { return c >= '0' && c <= '9'; }

// Cursor over the file bytes with the Netpbm header rules: tokens separated by whitespace,
// '#' starts a comment that runs to the end of the line.
class Reader {
 public:
  Reader(const std::uint8_t* data, std::size_t size, const std::string& name)
      : data_(data), size_(size), name_(name) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(printable(name_) + ": " + what);
  }

  void skip_space_and_comments() {
    while (pos_ < size_) {
      if (is_space(data_[pos_])) {
        ++pos_;
      } else if (data_[pos_] == '#') {
        while (pos_ < size_ && data_[pos_] != '\n' && data_[pos_] != '\r') ++pos_;
      } else {
        break;
      }
    }
  }

  // A decimal number no larger than `limit`; `what` names it in errors.
  std::uint32_t number(const char* what, std::uint32_t limit) {
    skip_space_and_comments();
    if (pos_ >= size_) fail(std::string("truncated: missing ") + what);
    if (!is_digit(data_[pos_])) fail(std::string("expected a number for ") + what);
    std::uint64_t value = 0;
    while (pos_ < size_ && is_digit(data_[pos_])) {
      value = value * 10 + (data_[pos_] - '0');
      if (value > limit) {
        fail(std::string(what) + " is out of range (more than " + std::to_string(limit) + ")");
      }
      ++pos_;
    }
    return static_cast<std::uint32_t>(value);
  }

  // The single whitespace byte that separates the header from a binary raster.
  void raster_separator() {
    if (pos_ >= size_) fail("truncated: no pixel data after the header");
    if (!is_space(data_[pos_])) fail("expected whitespace after maxval");
    ++pos_;
  }

  std::size_t pos() const { return pos_; }
  std::size_t remaining() const { return size_ - pos_; }
  const std::uint8_t* here() const { return data_ + pos_; }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 2;  // after the magic
  const std::string& name_;
};

std::uint8_t scale_to_u8(std::uint32_t value, std::uint32_t maxval) {
  if (maxval == 255) return static_cast<std::uint8_t>(value);
  return static_cast<std::uint8_t>((value * 255u + maxval / 2) / maxval);
}

}  // namespace

bool looks_like_pnm(const std::uint8_t* data, std::size_t size) {
  return size >= 2 && data[0] == 'P' &&
         (data[1] == '2' || data[1] == '3' || data[1] == '5' || data[1] == '6');
}

Image decode_pnm(const std::uint8_t* data, std::size_t size, const std::string& name) {
  if (size < 2 || data[0] != 'P' || data[1] < '1' || data[1] > '7') {
    throw InputError(printable(name) + ": not a PGM/PPM image (no P2/P3/P5/P6 magic)");
  }
  if (!looks_like_pnm(data, size)) {
    throw InputError(printable(name) + ": Netpbm type P" + std::string(1, char(data[1])) +
                     " is not supported (only PGM/PPM: P2, P3, P5, P6)");
  }
  const char kind = static_cast<char>(data[1]);
  const bool ascii = kind == '2' || kind == '3';
  Reader reader(data, size, name);

  Image image;
  image.channels = (kind == '3' || kind == '6') ? 3 : 1;
  image.width = static_cast<int>(reader.number("width", kMaxImageDimension));
  image.height = static_cast<int>(reader.number("height", kMaxImageDimension));
  image.maxval = static_cast<int>(reader.number("maxval", 65535));
  if (image.width == 0 || image.height == 0) reader.fail("width and height must be at least 1");
  if (image.maxval == 0) reader.fail("maxval must be at least 1");

  // At most 32768^2 * 3 samples: fits easily in 64 bits.
  const std::uint64_t samples =
      std::uint64_t(image.width) * std::uint64_t(image.height) * std::uint64_t(image.channels);
  const std::uint32_t maxval = static_cast<std::uint32_t>(image.maxval);
  const std::string dims = std::to_string(image.width) + "x" + std::to_string(image.height);

  if (!ascii) {
    reader.raster_separator();
    const std::uint64_t bytes_per_sample = maxval > 255 ? 2 : 1;
    const std::uint64_t needed = samples * bytes_per_sample;
    // Checked before allocating: the allocation is bounded by the file's length.
    if (needed > reader.remaining()) {
      reader.fail("truncated: " + dims + " needs " + std::to_string(needed) +
                  " bytes of pixel data, file has " + std::to_string(reader.remaining()));
    }
    image.pixels.resize(static_cast<std::size_t>(samples));
    const std::uint8_t* p = reader.here();
    for (std::size_t i = 0; i < image.pixels.size(); ++i) {
      std::uint32_t v;
      if (bytes_per_sample == 2) {
        v = (std::uint32_t(p[2 * i]) << 8) | p[2 * i + 1];
      } else {
        v = p[i];
      }
      if (v > maxval) {
        reader.fail("sample " + std::to_string(i) + " is " + std::to_string(v) + ", above maxval " +
                    std::to_string(maxval));
      }
      image.pixels[i] = scale_to_u8(v, maxval);
    }
    return image;
  }

  // ASCII: every sample takes at least one byte, so the file length bounds the sample count.
  if (samples > reader.remaining()) {
    reader.fail("truncated: " + dims + " needs " + std::to_string(samples) +
                " samples, the file is too short to hold them");
  }
  image.pixels.resize(static_cast<std::size_t>(samples));
  for (std::size_t i = 0; i < image.pixels.size(); ++i) {
    reader.skip_space_and_comments();
    if (reader.remaining() == 0) {
      reader.fail("truncated: " + std::to_string(i) + " of " + std::to_string(samples) +
                  " samples present");
    }
    const std::uint32_t v = reader.number("a sample", 65535);
    if (v > maxval) {
      reader.fail("sample " + std::to_string(i) + " is " + std::to_string(v) + ", above maxval " +
                  std::to_string(maxval));
    }
    image.pixels[i] = scale_to_u8(v, maxval);
  }
  return image;
}

Image read_pnm(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file(path);
  return decode_pnm(bytes.data(), bytes.size(), path);
}

std::vector<std::uint8_t> encode_pnm(const Image& image) {
  if (image.channels != 1 && image.channels != 3) {
    throw InputError("encode_pnm: channels must be 1 or 3");
  }
  if (image.width < 1 || image.height < 1 ||
      image.pixels.size() !=
          std::size_t(image.width) * std::size_t(image.height) * std::size_t(image.channels)) {
    throw InputError("encode_pnm: pixel count does not match width x height x channels");
  }
  const std::string header = std::string(image.channels == 1 ? "P5" : "P6") + "\n" +
                             std::to_string(image.width) + " " + std::to_string(image.height) +
                             "\n255\n";
  std::vector<std::uint8_t> out(header.begin(), header.end());
  out.insert(out.end(), image.pixels.begin(), image.pixels.end());
  return out;
}

void write_pnm(const std::string& path, const Image& image) { write_file(path, encode_pnm(image)); }

}  // namespace gnrt::tools
