// The readers of untrusted files in io/ (gnrt_io) that the tools use: PGM/PPM and IDX. Valid
// files decode to the right pixels; every broken file (truncated, wrong magic, absurd dimensions,
// corrupt compression, random mutations) gives an InputError with a one-line message naming the
// file, never a crash and never an allocation beyond what the file holds.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "fileio.h"
#include "idx.h"
#include "imageio.h"

using namespace gnrt::tools;
using Bytes = std::vector<std::uint8_t>;

namespace {

Bytes bytes_of(const std::string& text) { return Bytes(text.begin(), text.end()); }

Image decode(const Bytes& b) { return decode_pnm(b.data(), b.size(), "test.pnm"); }

// Decoding must either succeed or throw InputError with a one-line message naming the input.
template <typename Fn>
bool decodes_or_fails_cleanly(Fn&& fn, const std::string& name, std::string* message = nullptr) {
  try {
    fn();
    return true;
  } catch (const InputError& e) {
    const std::string what = e.what();
    CHECK(what.find(name) == 0);
    CHECK(what.find('\n') == std::string::npos);
    if (message) *message = what;
    return false;
  }
}

std::string error_of(const Bytes& b) {
  std::string message;
  const bool ok = decodes_or_fails_cleanly([&] { decode(b); }, "test.pnm", &message);
  CHECK_FALSE(ok);
  return message;
}

Bytes pnm_p5(int w, int h, int maxval, const Bytes& data) {
  Bytes out = bytes_of("P5\n" + std::to_string(w) + " " + std::to_string(h) + "\n" +
                       std::to_string(maxval) + "\n");
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

std::string temp_dir() {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/gnrt-readers-XXXXXX";
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  REQUIRE(mkdtemp(buffer.data()) != nullptr);
  return buffer.data();
}

}  // namespace

TEST_CASE("pnm: binary PGM and PPM, 8-bit") {
  const Image gray = decode(pnm_p5(3, 2, 255, {0, 1, 2, 100, 200, 255}));
  CHECK(gray.width == 3);
  CHECK(gray.height == 2);
  CHECK(gray.channels == 1);
  CHECK(gray.pixels == Bytes{0, 1, 2, 100, 200, 255});

  Bytes ppm = bytes_of("P6 2 1 255\n");
  for (std::uint8_t v : {10, 20, 30, 40, 50, 60}) ppm.push_back(v);
  const Image rgb = decode(ppm);
  CHECK(rgb.channels == 3);
  CHECK(rgb.pixels == Bytes{10, 20, 30, 40, 50, 60});
}

TEST_CASE("pnm: ASCII with comments, and maxval scaling") {
  const Image gray = decode(bytes_of("P2\n# a comment\n2 2 # trailing comment\n15\n0 15\n7\n8\n"));
  CHECK(gray.pixels == Bytes{0, 255, 119, 136});  // round(v * 255 / 15)
  const Image rgb = decode(bytes_of("P3 1 1 255 1 2 3"));
  CHECK(rgb.pixels == Bytes{1, 2, 3});
}

TEST_CASE("pnm: 16-bit samples are big-endian and scaled to 8 bits") {
  const Image img = decode(pnm_p5(3, 1, 65535, {0x00, 0x00, 0x80, 0x00, 0xff, 0xff}));
  CHECK(img.maxval == 65535);
  CHECK(img.pixels == Bytes{0, 128, 255});
  const Image ascii = decode(bytes_of("P2 2 1 1000 0 1000"));
  CHECK(ascii.pixels == Bytes{0, 255});
}

TEST_CASE("pnm: encode round-trips") {
  Image img;
  img.width = 4;
  img.height = 3;
  img.channels = 3;
  img.maxval = 255;
  for (int i = 0; i < 36; ++i) img.pixels.push_back(static_cast<std::uint8_t>(i * 7));
  const Bytes encoded = encode_pnm(img);
  const Image back = decode(encoded);
  CHECK(back.pixels == img.pixels);
  CHECK(back.width == 4);
  CHECK(looks_like_pnm(encoded.data(), encoded.size()));
}

TEST_CASE("pnm: wrong magic and unsupported types") {
  CHECK(error_of({}).find("not a PGM/PPM") != std::string::npos);
  CHECK(error_of(bytes_of("P")).find("not a PGM/PPM") != std::string::npos);
  CHECK(error_of(bytes_of("GNRT....")).find("not a PGM/PPM") != std::string::npos);
  CHECK(error_of(bytes_of("P1 1 1 0")).find("not supported") != std::string::npos);
  CHECK(error_of(bytes_of("P4 8 1 \x01")).find("not supported") != std::string::npos);
  CHECK(error_of(bytes_of("P7\nWIDTH 1\n")).find("not supported") != std::string::npos);
}

TEST_CASE("pnm: bad headers") {
  CHECK(error_of(bytes_of("P5")).find("truncated") != std::string::npos);
  CHECK(error_of(bytes_of("P5 ")).find("width") != std::string::npos);
  CHECK(error_of(bytes_of("P5 -3 2 255\n")).find("width") != std::string::npos);
  CHECK(error_of(bytes_of("P5 0 2 255\n")).find("at least 1") != std::string::npos);
  CHECK(error_of(bytes_of("P5 2 2 0\n")).find("maxval") != std::string::npos);
  CHECK(error_of(bytes_of("P5 2 2 65536\n")).find("maxval") != std::string::npos);
  CHECK(error_of(bytes_of("P5 32769 1 255\n")).find("out of range") != std::string::npos);
  CHECK(error_of(bytes_of("P5 99999999999999999999999 1 255\n")).find("out of range") !=
        std::string::npos);
  CHECK(error_of(bytes_of("P5 2 2 255")).find("truncated") != std::string::npos);
  CHECK(error_of(bytes_of("P5 1 1 255x")).find("whitespace") != std::string::npos);
}

TEST_CASE("pnm: absurd dimensions are refused against the file length, not allocated") {
  // 32768 x 32768 x 3 x 2 bytes = 6 GiB declared by a 30-byte file.
  const std::string message = error_of(bytes_of("P6 32768 32768 65535\nabc"));
  CHECK(message.find("truncated") != std::string::npos);
  CHECK(error_of(bytes_of("P3 32768 32768 255\n1 2 3")).find("truncated") != std::string::npos);
}

TEST_CASE("pnm: samples above maxval and bad ASCII data") {
  CHECK(error_of(pnm_p5(2, 1, 100, {50, 101})).find("above maxval") != std::string::npos);
  CHECK(error_of(pnm_p5(1, 1, 1000, {0x03, 0xe9})).find("above maxval") != std::string::npos);
  CHECK(error_of(bytes_of("P2 2 1 255 1 256")).find("above maxval") != std::string::npos);
  CHECK(error_of(bytes_of("P2 2 1 255 1 x")).find("number") != std::string::npos);
  CHECK(error_of(bytes_of("P2 3 1 255 1 2")).find("truncated") != std::string::npos);
}

TEST_CASE("pnm: every truncation of valid files fails cleanly") {
  Bytes data;
  for (int i = 0; i < 5 * 4 * 2; ++i) data.push_back(static_cast<std::uint8_t>(i));
  const std::vector<Bytes> files = {pnm_p5(5, 4, 255, Bytes(data.begin(), data.begin() + 20)),
                                    pnm_p5(5, 4, 65535, data),
                                    bytes_of("P3\n2 1\n255\n1 2 3 4 5 6\n")};
  for (const Bytes& file : files) {
    for (std::size_t len = 0; len < file.size(); ++len) {
      const Bytes cut(file.begin(), file.begin() + long(len));
      // An ASCII file cut after a complete number of the last sample may still decode.
      const bool ok = decodes_or_fails_cleanly([&] { decode(cut); }, "test.pnm");
      if (file[1] == '5') CHECK_FALSE(ok);
    }
  }
}

TEST_CASE("pnm: random mutations never crash") {
  std::mt19937 rng(7);
  const Bytes base = pnm_p5(6, 5, 255, Bytes(30, 77));
  const Bytes ascii = bytes_of("P3\n# c\n2 2\n255\n1 2 3 4 5 6 7 8 9 10 11 12\n");
  for (int i = 0; i < 3000; ++i) {
    Bytes b = (i % 2) ? base : ascii;
    const int edits = 1 + int(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = rng() % b.size();
      switch (rng() % 3) {
        case 0:
          b[pos] = static_cast<std::uint8_t>(rng());
          break;
        case 1:
          b[pos] = static_cast<std::uint8_t>("0123456789 #\n"[rng() % 13]);
          break;
        default:
          b.resize(pos);
          break;
      }
      if (b.empty()) break;
    }
    decodes_or_fails_cleanly([&] { decode(b); }, "test.pnm");
  }
}

// ------------------------------------------------------------------------------------------

namespace {

IdxImages small_images() {
  IdxImages images;
  images.count = 3;
  images.height = 4;
  images.width = 5;
  for (int i = 0; i < 60; ++i) images.pixels.push_back(static_cast<std::uint8_t>(i * 3));
  return images;
}

IdxImages decode_images(const Bytes& b) { return decode_idx_images(b.data(), b.size(), "x.idx"); }
IdxLabels decode_labels(const Bytes& b) { return decode_idx_labels(b.data(), b.size(), "x.idx"); }

std::string images_error(const Bytes& b) {
  std::string message;
  CHECK_FALSE(decodes_or_fails_cleanly([&] { decode_images(b); }, "x.idx", &message));
  return message;
}

std::string labels_error(const Bytes& b) {
  std::string message;
  CHECK_FALSE(decodes_or_fails_cleanly([&] { decode_labels(b); }, "x.idx", &message));
  return message;
}

Bytes header(std::uint8_t type, std::vector<std::uint32_t> dims) {
  Bytes out = {0, 0, type, static_cast<std::uint8_t>(dims.size())};
  for (std::uint32_t d : dims) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(d >> s));
  }
  return out;
}

}  // namespace

TEST_CASE("idx: raw and gzipped images and labels") {
  const IdxImages images = small_images();
  const Bytes raw = encode_idx_images(images);
  CHECK(raw.size() == 16 + 60);
  for (const Bytes& file : {raw, gzip_compress(raw)}) {
    const IdxImages back = decode_images(file);
    CHECK(back.count == 3);
    CHECK(back.height == 4);
    CHECK(back.width == 5);
    CHECK(back.pixels == images.pixels);
    CHECK(back.image(2)[0] == images.pixels[40]);
  }
  IdxLabels labels;
  labels.labels = {9, 2, 1, 1, 6};
  const Bytes raw_labels = encode_idx_labels(labels);
  CHECK(decode_labels(raw_labels).labels == labels.labels);
  CHECK(decode_labels(gzip_compress(raw_labels)).labels == labels.labels);

  // Zero items is a valid, empty file.
  CHECK(decode_labels(header(0x08, {0})).labels.empty());
  CHECK(decode_images(header(0x08, {0, 28, 28})).count == 0);
}

TEST_CASE("idx: the real Fashion-MNIST test set") {
  const std::string dir = GNRT_TEST_FASHION_MNIST_DIR;
  struct stat st {};
  if (::stat((dir + "/t10k-images-idx3-ubyte.gz").c_str(), &st) != 0) {
    MESSAGE("Fashion-MNIST not installed; skipped");
    return;
  }
  const IdxImages images = read_idx_images(dir + "/t10k-images-idx3-ubyte.gz");
  const IdxLabels labels = read_idx_labels(dir + "/t10k-labels-idx1-ubyte.gz");
  CHECK(images.count == 10000);
  CHECK(images.height == 28);
  CHECK(images.width == 28);
  REQUIRE(labels.labels.size() == 10000);
  CHECK(labels.labels[0] == 9);  // the first test item is an ankle boot
  int counts[10] = {};
  for (std::uint8_t l : labels.labels) {
    REQUIRE(l < 10);
    ++counts[l];
  }
  for (int c : counts) CHECK(c == 1000);
}

TEST_CASE("idx: wrong magic, type and rank") {
  CHECK(images_error({}).find("truncated") != std::string::npos);
  CHECK(images_error({0, 0, 8}).find("truncated") != std::string::npos);
  CHECK(images_error(bytes_of("P5 28 28 255\n")).find("not an IDX file") != std::string::npos);
  CHECK(images_error(Bytes{0x1c, 0, 0, 0, 'G', 'N', 'R', 'T', 1, 2}).find("not an IDX file") !=
        std::string::npos);
  CHECK(images_error(header(0x0d, {1, 1, 1})).find("float32") != std::string::npos);
  CHECK(labels_error(header(0x0c, {1})).find("int32") != std::string::npos);
  // Labels read as images and images read as labels.
  CHECK(images_error(header(0x08, {4})).find("expected 3") != std::string::npos);
  CHECK(labels_error(encode_idx_images(small_images())).find("expected 1") != std::string::npos);
  CHECK(images_error(header(0x08, {1, 2, 3, 4})).find("dimension") != std::string::npos);
}

TEST_CASE("idx: absurd dimensions and size mismatches") {
  CHECK(images_error(header(0x08, {0xffffffffu, 28, 28})).find("absurd") != std::string::npos);
  CHECK(images_error(header(0x08, {1, 0, 28})).find("absurd") != std::string::npos);
  CHECK(images_error(header(0x08, {1, 70000, 28})).find("absurd") != std::string::npos);
  // 2^31 x 65535 x 65535 bytes declared by a 16-byte file.
  CHECK(images_error(header(0x08, {0x7fffffffu, 65535, 65535})).find("truncated") !=
        std::string::npos);
  Bytes short_data = header(0x08, {2, 2, 2});
  short_data.insert(short_data.end(), 7, 1);
  CHECK(images_error(short_data).find("truncated") != std::string::npos);
  Bytes long_data = header(0x08, {2, 2, 2});
  long_data.insert(long_data.end(), 9, 1);
  CHECK(images_error(long_data).find("trailing") != std::string::npos);
  Bytes labels = header(0x08, {3});
  labels.insert(labels.end(), {1, 2});
  CHECK(labels_error(labels).find("truncated") != std::string::npos);
}

TEST_CASE("idx: gzip declarations beyond what the compressed size can hold are refused") {
  // A 16-byte header claiming 2^31 x 28 x 28 bytes, compressed: rejected before inflating data.
  const Bytes bomb = gzip_compress(header(0x08, {0x7fffffffu, 28, 28}));
  CHECK(images_error(bomb).find("gzip file can hold") != std::string::npos);
  // Within the ratio but absent: truncated.
  Bytes claims_more = header(0x08, {10, 28, 28});
  claims_more.insert(claims_more.end(), 100, 0);
  CHECK(images_error(gzip_compress(claims_more)).find("truncated") != std::string::npos);
}

TEST_CASE("idx: broken gzip streams") {
  const Bytes raw = encode_idx_images(small_images());
  const Bytes gz = gzip_compress(raw);
  for (std::size_t len = 2; len < gz.size(); ++len) {
    const Bytes cut(gz.begin(), gz.begin() + long(len));
    CHECK_FALSE(decodes_or_fails_cleanly([&] { decode_images(cut); }, "x.idx"));
  }
  // Damaged CRC trailer.
  Bytes bad_crc = gz;
  bad_crc[bad_crc.size() - 6] ^= 0x55;
  CHECK(images_error(bad_crc).find("corrupt") != std::string::npos);
  // Garbage after the stream.
  Bytes trailing = gz;
  trailing.push_back(0);
  CHECK(images_error(trailing).find("after the end") != std::string::npos);
  // Extra data inside the stream.
  Bytes more = raw;
  more.push_back(1);
  CHECK(images_error(gzip_compress(more)).find("unexpected data") != std::string::npos);
}

TEST_CASE("idx: every truncation of a raw file fails cleanly") {
  const Bytes raw = encode_idx_images(small_images());
  for (std::size_t len = 0; len < raw.size(); ++len) {
    const Bytes cut(raw.begin(), raw.begin() + long(len));
    CHECK_FALSE(decodes_or_fails_cleanly([&] { decode_images(cut); }, "x.idx"));
  }
}

TEST_CASE("idx: random mutations never crash") {
  std::mt19937 rng(11);
  const Bytes raw = encode_idx_images(small_images());
  const Bytes gz = gzip_compress(raw);
  for (int i = 0; i < 3000; ++i) {
    Bytes b = (i % 2) ? raw : gz;
    const int edits = 1 + int(rng() % 3);
    for (int e = 0; e < edits && !b.empty(); ++e) {
      const std::size_t pos = rng() % b.size();
      if (rng() % 5 == 0) {
        b.resize(pos);
      } else {
        b[pos] = static_cast<std::uint8_t>(rng());
      }
    }
    decodes_or_fails_cleanly([&] { decode_images(b); }, "x.idx");
    decodes_or_fails_cleanly([&] { decode_labels(b); }, "x.idx");
  }
}

TEST_CASE("read_file: missing files, directories and FIFOs fail without blocking") {
  const std::string dir = temp_dir();
  std::string message;
  CHECK_FALSE(decodes_or_fails_cleanly([&] { read_file(dir + "/missing"); }, dir, &message));
  CHECK(message.find("cannot open") != std::string::npos);
  CHECK_FALSE(decodes_or_fails_cleanly([&] { read_file(dir); }, dir, &message));
  CHECK(message.find("directory") != std::string::npos);
  const std::string fifo = dir + "/fifo";
  REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
  CHECK_FALSE(decodes_or_fails_cleanly([&] { read_pnm(fifo); }, fifo, &message));
  CHECK(message.find("not a regular file") != std::string::npos);
  const std::string big = dir + "/big";
  write_file(big, Bytes(100, 1));
  CHECK_FALSE(decodes_or_fails_cleanly([&] { read_file(big, 99); }, big, &message));
  CHECK(message.find("too large") != std::string::npos);
  CHECK(read_file(big).size() == 100);
  unlink(fifo.c_str());
  unlink(big.c_str());
  rmdir(dir.c_str());
}
