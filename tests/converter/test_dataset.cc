// Dataset readers (IDX through io/idx.h, CIFAR-10), the validation split and channel statistics:
// no LibTorch.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <functional>
#include <iterator>
#include <set>

#include "data/dataset.h"
#include "test_util.h"

using namespace gnconvert;
using namespace gnconvert_test;

namespace {

std::vector<std::uint8_t> sample_pixels(int n, int h, int w) {
  std::vector<std::uint8_t> p(static_cast<std::size_t>(n) * h * w);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = static_cast<std::uint8_t>(i * 7 + 3);
  return p;
}

}  // namespace

TEST_CASE("IDX images and labels read back, raw and gzipped") {
  TempDir dir;
  auto pixels = sample_pixels(5, 4, 3);
  std::vector<std::uint8_t> labels = {0, 9, 3, 3, 1};
  write_bytes(dir / "img", idx_images(pixels, 5, 4, 3));
  write_bytes(dir / "lab", idx_labels(labels));
  write_gz(dir / "img.gz", idx_images(pixels, 5, 4, 3));
  write_gz(dir / "lab.gz", idx_labels(labels));
  for (auto names : {std::make_pair("img", "lab"), std::make_pair("img.gz", "lab.gz")}) {
    ImageSet set = read_idx(dir / names.first, dir / names.second, 10);
    CHECK(set.size() == 5);
    CHECK(set.channels == 1);
    CHECK(set.height == 4);
    CHECK(set.width == 3);
    CHECK(set.pixels == pixels);
    CHECK(set.labels == labels);
    CHECK(set.image(2)[0] == pixels[24]);
  }
}

TEST_CASE("corrupt or wrong IDX files give clean errors") {
  TempDir dir;
  auto good = idx_images(sample_pixels(2, 3, 3), 2, 3, 3);
  write_bytes(dir / "lab", idx_labels({1, 2}));

  auto bad_magic = good;
  bad_magic[0] = 0x42;
  write_bytes(dir / "magic", bad_magic);
  CHECK(contains(error_of([&] { read_idx(dir / "magic", dir / "lab", 10); }), "not an IDX file"));

  auto truncated = good;
  truncated.resize(truncated.size() - 5);
  write_bytes(dir / "trunc", truncated);
  CHECK(contains(error_of([&] { read_idx(dir / "trunc", dir / "lab", 10); }), "truncated"));

  auto header_only = std::vector<std::uint8_t>(good.begin(), good.begin() + 9);
  write_bytes(dir / "hdr", header_only);
  CHECK(
      contains(error_of([&] { read_idx(dir / "hdr", dir / "lab", 10); }), "incomplete IDX header"));

  auto float_type = good;
  float_type[2] = 0x0D;
  write_bytes(dir / "float", float_type);
  CHECK(contains(error_of([&] { read_idx(dir / "float", dir / "lab", 10); }), "unsigned byte"));

  // Labels passed as images and the other way round: wrong rank.
  write_bytes(dir / "img", good);
  CHECK(contains(error_of([&] { read_idx(dir / "lab", dir / "img", 10); }),
                 "dimension(s); expected 3"));

  // Count mismatch and label range.
  write_bytes(dir / "lab3", idx_labels({1, 2, 3}));
  CHECK(contains(error_of([&] { read_idx(dir / "img", dir / "lab3", 10); }),
                 "3 labels for 2 images"));
  write_bytes(dir / "lab_big", idx_labels({1, 12}));
  CHECK(contains(error_of([&] { read_idx(dir / "img", dir / "lab_big", 10); }), "out of range"));

  // Huge declared dimensions must not allocate.
  std::vector<std::uint8_t> huge = {0,    0,    8,    3,    0xff, 0xff, 0xff, 0xff,
                                    0xff, 0xff, 0xff, 0xff, 0,    0,    0,    1};
  write_bytes(dir / "huge", huge);
  CHECK_THROWS_AS(read_idx(dir / "huge", dir / "lab", 10), DataError);

  // Corrupt and truncated gzip streams (io/idx.h reads them).
  write_gz(dir / "img.gz", good);
  CHECK(read_idx(dir / "img.gz", dir / "lab", 10).size() == 2);
  std::ifstream in(dir / "img.gz", std::ios::binary);
  std::vector<std::uint8_t> packed((std::istreambuf_iterator<char>(in)), {});
  auto cut = std::vector<std::uint8_t>(packed.begin(), packed.begin() + packed.size() / 2);
  write_bytes(dir / "cut.gz", cut);
  CHECK(contains(error_of([&] { read_idx(dir / "cut.gz", dir / "lab", 10); }), "truncated"));
  auto flipped = packed;
  for (std::size_t i = 12; i < flipped.size() - 8; ++i) flipped[i] ^= 0x5A;
  write_bytes(dir / "flip.gz", flipped);
  CHECK(contains(error_of([&] { read_idx(dir / "flip.gz", dir / "lab", 10); }), "gzip"));
  CHECK_THROWS_AS(read_idx(dir / "flip.gz", dir / "lab", 10), DataError);

  CHECK(contains(error_of([&] { read_idx(dir / "missing", dir / "lab", 10); }), "No such file"));
  CHECK(contains(error_of([&] { read_idx(dir.path, dir / "lab", 10); }), "is a directory"));
}

TEST_CASE("load_dataset finds IDX files and reports missing ones") {
  TempDir dir;
  write_toy_mnist(dir.path, 30, 10);
  Dataset ds = load_dataset("mnist", dir.path);
  CHECK(ds.train.size() == 30);
  CHECK(ds.test.size() == 10);
  CHECK(ds.class_names.size() == 10);
  std::remove((dir / "t10k-labels-idx1-ubyte.gz").c_str());
  CHECK(contains(error_of([&] { load_dataset("mnist", dir.path); }), "missing dataset file"));
  CHECK(contains(error_of([&] { load_dataset("mnist", dir / "nope"); }), "does not exist"));
  CHECK(contains(error_of([&] { load_dataset("imagenet", dir.path); }), "unknown dataset"));
}

TEST_CASE("CIFAR-10 binary batches") {
  std::vector<std::uint8_t> data;
  for (int i = 0; i < 3; ++i) {
    data.push_back(static_cast<std::uint8_t>(i * 4));
    for (int p = 0; p < 3072; ++p) data.push_back(static_cast<std::uint8_t>(p + i));
  }
  ImageSet set = parse_cifar10(data, "batch");
  CHECK(set.size() == 3);
  CHECK(set.channels == 3);
  CHECK(set.labels == std::vector<std::uint8_t>{0, 4, 8});
  CHECK(set.image(1)[0] == 1);
  CHECK(set.image(2)[1024] == static_cast<std::uint8_t>(1024 + 2));  // green plane
  auto short_data = data;
  short_data.pop_back();
  CHECK(contains(error_of([&] { parse_cifar10(short_data, "b"); }), "multiple of 3073"));
  auto bad_label = data;
  bad_label[3073] = 10;
  CHECK(contains(error_of([&] { parse_cifar10(bad_label, "b"); }), "label 10"));
  CHECK_THROWS_AS(parse_cifar10({}, "empty"), DataError);
}

TEST_CASE("validation split is deterministic, disjoint and independent of the training seed") {
  Split a = make_split(1000, 100, 0);
  Split b = make_split(1000, 100, 0);
  Split c = make_split(1000, 100, 1);
  CHECK(a.validation == b.validation);
  CHECK(a.train == b.train);
  CHECK(a.validation != c.validation);
  CHECK(a.validation.size() == 100);
  CHECK(a.train.size() == 900);
  std::set<std::size_t> all(a.train.begin(), a.train.end());
  for (auto v : a.validation) CHECK(all.insert(v).second);
  CHECK(all.size() == 1000);
  CHECK_THROWS_AS(make_split(10, 10, 0), DataError);
}

TEST_CASE("channel statistics") {
  ImageSet set;
  set.channels = 1;
  set.height = 1;
  set.width = 2;
  set.pixels = {0, 255, 255, 255};
  set.labels = {0, 0};
  std::vector<float> mean, std_dev;
  channel_stats(set, {0, 1}, &mean, &std_dev);
  CHECK(mean[0] == doctest::Approx(0.75));
  CHECK(std_dev[0] == doctest::Approx(std::sqrt(0.75 * 0.25)));
}
