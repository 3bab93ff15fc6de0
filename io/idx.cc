#include "idx.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <limits>

namespace gnrt::tools {
namespace {

// Deflate cannot expand data by more than about 1032:1, so a gzip file of n bytes holds at most
// this many bytes: declarations beyond it are impossible and are rejected up front.
constexpr std::uint64_t kMaxDeflateRatio = 1032;

bool is_gzip(const std::uint8_t* data, std::size_t size) {
  return size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
}

std::string hex_byte(std::uint8_t b) {
  static const char* kDigits = "0123456789abcdef";
  return std::string("0x") + kDigits[b >> 4] + kDigits[b & 15];
}

const char* idx_type_name(std::uint8_t code) {
  switch (code) {
    case 0x08:
      return "unsigned byte";
    case 0x09:
      return "signed byte";
    case 0x0b:
      return "int16";
    case 0x0c:
      return "int32";
    case 0x0d:
      return "float32";
    case 0x0e:
      return "float64";
    default:
      return "unknown";
  }
}

// Sequential access to the (possibly compressed) bytes of an IDX file.
class Source {
 public:
  Source(const std::uint8_t* data, std::size_t size, const std::string& name)
      : data_(data), size_(size), name_(name), gzip_(is_gzip(data, size)) {
    if (gzip_) {
      std::memset(&stream_, 0, sizeof(stream_));
      // 16 + MAX_WBITS: expect the gzip wrapper and check its CRC and length trailer.
      if (inflateInit2(&stream_, 16 + MAX_WBITS) != Z_OK) fail("zlib initialization failed");
      inflate_ready_ = true;
    }
  }
  ~Source() {
    if (inflate_ready_) inflateEnd(&stream_);
  }
  Source(const Source&) = delete;
  Source& operator=(const Source&) = delete;

  [[noreturn]] void fail(const std::string& what) const {
    throw InputError(printable(name_) + ": " + what);
  }

  bool gzip() const { return gzip_; }
  std::size_t file_size() const { return size_; }
  // Bytes not yet consumed (raw files only).
  std::size_t raw_remaining() const { return size_ - pos_; }

  // Reads up to n bytes; fewer only at the end of the data.
  std::size_t read(std::uint8_t* out, std::size_t n) {
    if (!gzip_) {
      const std::size_t take = std::min(n, size_ - pos_);
      if (take) std::memcpy(out, data_ + pos_, take);
      pos_ += take;
      return take;
    }
    std::size_t produced = 0;
    while (produced < n && !stream_end_) {
      if (stream_.avail_in == 0 && pos_ < size_) {
        const std::size_t chunk = std::min<std::size_t>(size_ - pos_, 1u << 30);
        stream_.next_in = const_cast<Bytef*>(data_ + pos_);
        stream_.avail_in = static_cast<uInt>(chunk);
        pos_ += chunk;
      }
      const std::size_t want = std::min<std::size_t>(n - produced, 1u << 30);
      stream_.next_out = out + produced;
      stream_.avail_out = static_cast<uInt>(want);
      const int rc = inflate(&stream_, Z_NO_FLUSH);
      produced += want - stream_.avail_out;
      if (rc == Z_STREAM_END) {
        stream_end_ = true;
      } else if (rc == Z_BUF_ERROR) {
        // No progress possible. Input is refilled above whenever some is left and output space
        // is always offered, so the input ran out before the end of the stream.
        fail("truncated gzip stream");
      } else if (rc != Z_OK) {
        fail(std::string("corrupt gzip data (") + (stream_.msg ? stream_.msg : "zlib error") + ")");
      } else if (stream_.avail_in == 0 && pos_ >= size_ && stream_.avail_out != 0) {
        fail("truncated gzip stream");
      }
    }
    return produced;
  }

  // After the declared data: the data must end here (for gzip: the stream ends, its CRC is
  // checked, and nothing but the stream is in the file).
  void expect_end() {
    std::uint8_t extra[256];
    const std::size_t n = read(extra, sizeof(extra));
    if (n != 0) fail("unexpected data after the declared dimensions' contents");
    if (gzip_ && (stream_.avail_in != 0 || pos_ != size_)) {
      fail("unexpected data after the end of the gzip stream");
    }
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
  const std::string& name_;
  bool gzip_;
  z_stream stream_{};
  bool inflate_ready_ = false;
  bool stream_end_ = false;
};

std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) |
         std::uint32_t(p[3]);
}

void put_be32(std::vector<std::uint8_t>& out, std::uint32_t v) {
  out.push_back(static_cast<std::uint8_t>(v >> 24));
  out.push_back(static_cast<std::uint8_t>(v >> 16));
  out.push_back(static_cast<std::uint8_t>(v >> 8));
  out.push_back(static_cast<std::uint8_t>(v));
}

// Reads header and data of an unsigned-byte IDX file of the given rank. `what` describes the
// expected content for error messages ("images [N, H, W]").
std::vector<std::uint8_t> read_idx(Source& source, int rank, const char* what,
                                   std::vector<std::uint32_t>* dims) {
  std::uint8_t header[4];
  if (source.read(header, 4) != 4) source.fail("truncated: shorter than the 4-byte IDX magic");
  if (header[0] != 0 || header[1] != 0) {
    source.fail("not an IDX file (magic starts " + hex_byte(header[0]) + " " + hex_byte(header[1]) +
                ", expected 0x00 0x00)");
  }
  if (header[2] != 0x08) {
    source.fail(std::string("IDX data type ") + hex_byte(header[2]) + " (" +
                idx_type_name(header[2]) + ") is not supported; expected unsigned byte (0x08)");
  }
  if (header[3] != rank) {
    source.fail("IDX file has " + std::to_string(header[3]) + " dimension(s); expected " +
                std::to_string(rank) + " for " + what);
  }
  std::uint8_t dim_bytes[4 * 3];
  const std::size_t dim_len = 4 * static_cast<std::size_t>(rank);
  if (source.read(dim_bytes, dim_len) != dim_len) source.fail("truncated: incomplete IDX header");

  std::uint64_t payload = 1;
  std::string shape;
  dims->clear();
  for (int i = 0; i < rank; ++i) {
    const std::uint32_t d = read_be32(dim_bytes + 4 * i);
    dims->push_back(d);
    shape += (i ? "x" : "") + std::to_string(d);
  }
  // Validate each dimension before multiplying: with N <= 2^31 and H, W <= 65535 the product
  // stays below 2^63.
  if ((*dims)[0] > kMaxIdxCount) source.fail("absurd item count " + std::to_string((*dims)[0]));
  for (int i = 1; i < rank; ++i) {
    if ((*dims)[i] == 0 || (*dims)[i] > kMaxIdxImageSide) {
      source.fail("absurd dimensions " + shape + " (image sides must be 1.." +
                  std::to_string(kMaxIdxImageSide) + ")");
    }
  }
  for (std::uint32_t d : *dims) payload *= d;

  // Compare the declaration with what the file can hold before allocating anything for it.
  if (!source.gzip()) {
    if (payload > source.raw_remaining()) {
      source.fail("truncated: dimensions " + shape + " declare " + std::to_string(payload) +
                  " bytes of data, the file has " + std::to_string(source.raw_remaining()));
    }
    if (payload < source.raw_remaining()) {
      source.fail("dimensions " + shape + " declare " + std::to_string(payload) +
                  " bytes of data, the file has " + std::to_string(source.raw_remaining()) +
                  " (trailing data)");
    }
  } else if (payload > std::uint64_t(source.file_size()) * kMaxDeflateRatio) {
    source.fail("dimensions " + shape + " declare " + std::to_string(payload) +
                " bytes, more than a " + std::to_string(source.file_size()) +
                "-byte gzip file can hold");
  }
  if (payload > std::numeric_limits<std::size_t>::max() / 2) source.fail("data too large");

  // Grow with the data actually produced (a compressed file may still stop short).
  std::vector<std::uint8_t> data;
  constexpr std::size_t kChunk = std::size_t{1} << 22;
  while (data.size() < payload) {
    const std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>(kChunk, payload - data.size()));
    const std::size_t old = data.size();
    data.resize(old + want);
    const std::size_t got = source.read(data.data() + old, want);
    if (got != want) {
      source.fail("truncated: dimensions " + shape + " declare " + std::to_string(payload) +
                  " bytes of data, the file has " + std::to_string(old + got));
    }
  }
  source.expect_end();
  return data;
}

}  // namespace

IdxImages decode_idx_images(const std::uint8_t* data, std::size_t size, const std::string& name) {
  Source source(data, size, name);
  std::vector<std::uint32_t> dims;
  IdxImages images;
  images.pixels = read_idx(source, 3, "images [N, H, W]", &dims);
  images.count = static_cast<int>(dims[0]);
  images.height = static_cast<int>(dims[1]);
  images.width = static_cast<int>(dims[2]);
  return images;
}

IdxLabels decode_idx_labels(const std::uint8_t* data, std::size_t size, const std::string& name) {
  Source source(data, size, name);
  std::vector<std::uint32_t> dims;
  IdxLabels labels;
  labels.labels = read_idx(source, 1, "labels [N]", &dims);
  return labels;
}

IdxImages read_idx_images(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file(path);
  return decode_idx_images(bytes.data(), bytes.size(), path);
}

IdxLabels read_idx_labels(const std::string& path) {
  const std::vector<std::uint8_t> bytes = read_file(path);
  return decode_idx_labels(bytes.data(), bytes.size(), path);
}

std::vector<std::uint8_t> encode_idx_images(const IdxImages& images) {
  if (images.count < 0 || images.height < 1 || images.width < 1 ||
      images.pixels.size() !=
          std::size_t(images.count) * std::size_t(images.height) * std::size_t(images.width)) {
    throw InputError("encode_idx_images: pixel count does not match count x height x width");
  }
  std::vector<std::uint8_t> out = {0, 0, 0x08, 3};
  put_be32(out, static_cast<std::uint32_t>(images.count));
  put_be32(out, static_cast<std::uint32_t>(images.height));
  put_be32(out, static_cast<std::uint32_t>(images.width));
  out.insert(out.end(), images.pixels.begin(), images.pixels.end());
  return out;
}

std::vector<std::uint8_t> encode_idx_labels(const IdxLabels& labels) {
  std::vector<std::uint8_t> out = {0, 0, 0x08, 1};
  put_be32(out, static_cast<std::uint32_t>(labels.labels.size()));
  out.insert(out.end(), labels.labels.begin(), labels.labels.end());
  return out;
}

std::vector<std::uint8_t> gzip_compress(const std::vector<std::uint8_t>& bytes) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    throw InputError("gzip_compress: zlib initialization failed");
  }
  std::vector<std::uint8_t> out(deflateBound(&stream, static_cast<uLong>(bytes.size())) + 64);
  stream.next_in = const_cast<Bytef*>(bytes.data());
  stream.avail_in = static_cast<uInt>(bytes.size());
  stream.next_out = out.data();
  stream.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&stream, Z_FINISH);
  const std::size_t written = out.size() - stream.avail_out;
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) throw InputError("gzip_compress: deflate failed");
  out.resize(written);
  return out;
}

}  // namespace gnrt::tools
