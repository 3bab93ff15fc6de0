#include "data/dataset.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>
#include <sys/stat.h>

#include "datasets.h"
#include "fileio.h"
#include "idx.h"

namespace gnconvert {
namespace {

bool file_exists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

std::string find_idx(const std::string& dir, const std::string& stem) {
  for (const char* suffix : {".gz", ""}) {
    std::string path = dir + "/" + stem + suffix;
    if (file_exists(path)) return path;
  }
  // Some distributions use a dot before idx ("train-images.idx3-ubyte").
  std::string dotted = stem;
  auto pos = dotted.find("-idx");
  if (pos != std::string::npos) {
    dotted[pos] = '.';
    for (const char* suffix : {".gz", ""}) {
      std::string path = dir + "/" + dotted + suffix;
      if (file_exists(path)) return path;
    }
  }
  throw DataError("missing dataset file " + dir + "/" + stem + "[.gz]");
}

// The io readers throw gnrt::tools::InputError; the converter's callers expect DataError.
template <typename Read>
auto as_data_error(Read&& read) -> decltype(read()) {
  try {
    return read();
  } catch (const gnrt::tools::InputError& e) {
    throw DataError(e.what());
  }
}

std::vector<std::uint8_t> read_bytes(const std::string& path) {
  return as_data_error([&] { return gnrt::tools::read_file(path); });
}

void append(ImageSet* dst, const ImageSet& src) {
  if (dst->size() == 0) {
    *dst = src;
    return;
  }
  dst->pixels.insert(dst->pixels.end(), src.pixels.begin(), src.pixels.end());
  dst->labels.insert(dst->labels.end(), src.labels.begin(), src.labels.end());
}

}  // namespace

ImageSet read_idx(const std::string& images_path, const std::string& labels_path, int num_classes) {
  gnrt::tools::IdxImages images =
      as_data_error([&] { return gnrt::tools::read_idx_images(images_path); });
  std::vector<std::uint8_t> labels =
      as_data_error([&] { return gnrt::tools::read_idx_labels(labels_path); }).labels;
  if (labels.size() != static_cast<std::size_t>(images.count)) {
    throw DataError(labels_path + ": " + std::to_string(labels.size()) + " labels for " +
                    std::to_string(images.count) + " images in " + images_path);
  }
  for (std::uint8_t label : labels) {
    if (label >= num_classes) {
      throw DataError(labels_path + ": label " + std::to_string(label) + " out of range 0.." +
                      std::to_string(num_classes - 1));
    }
  }
  ImageSet set;
  set.channels = 1;
  set.height = images.height;
  set.width = images.width;
  set.pixels = std::move(images.pixels);
  set.labels = std::move(labels);
  return set;
}

ImageSet parse_cifar10(const std::vector<std::uint8_t>& data, const std::string& what) {
  constexpr std::size_t kRecord = 1 + 3 * 32 * 32;
  if (data.empty() || data.size() % kRecord != 0) {
    throw DataError(what + ": not a CIFAR-10 binary batch (size " + std::to_string(data.size()) +
                    " is not a multiple of 3073)");
  }
  std::size_t n = data.size() / kRecord;
  ImageSet set;
  set.channels = 3;
  set.height = 32;
  set.width = 32;
  set.pixels.resize(n * 3072);
  set.labels.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::uint8_t* record = data.data() + i * kRecord;
    if (record[0] >= 10) {
      throw DataError(what + ": record " + std::to_string(i) + " has label " +
                      std::to_string(record[0]) + " (expected 0..9)");
    }
    set.labels[i] = record[0];
    std::copy(record + 1, record + kRecord, set.pixels.begin() + i * 3072);
  }
  return set;
}

std::string default_dataset_dir(const std::string& name) {
  std::string dir = gnrt::tools::default_dataset_dir(name);
  if (dir.empty()) {
    throw DataError("unknown dataset '" + name + "' (expected fashion-mnist, mnist or cifar10)");
  }
  return dir;
}

std::vector<std::string> dataset_class_names(const std::string& name) {
  if (name == "fashion-mnist") {
    return {"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal",      "Shirt",   "Sneaker",  "Bag",   "Ankle boot"};
  }
  if (name == "mnist") return {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
  if (name == "cifar10") {
    return {"airplane", "automobile", "bird",  "cat",  "deer",
            "dog",      "frog",       "horse", "ship", "truck"};
  }
  throw DataError("unknown dataset '" + name + "' (expected fashion-mnist, mnist or cifar10)");
}

Dataset load_dataset(const std::string& name, const std::string& dir_arg) {
  Dataset ds;
  ds.name = name;
  ds.class_names = dataset_class_names(name);
  std::string dir = dir_arg.empty() ? default_dataset_dir(name) : dir_arg;
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    throw DataError("dataset directory " + dir + " does not exist");
  }
  if (name == "fashion-mnist" || name == "mnist") {
    ds.train = read_idx(find_idx(dir, "train-images-idx3-ubyte"),
                        find_idx(dir, "train-labels-idx1-ubyte"), 10);
    ds.test = read_idx(find_idx(dir, "t10k-images-idx3-ubyte"),
                       find_idx(dir, "t10k-labels-idx1-ubyte"), 10);
  } else {
    for (int i = 1; i <= 5; ++i) {
      std::string path = dir + "/data_batch_" + std::to_string(i) + ".bin";
      append(&ds.train, parse_cifar10(read_bytes(path), path));
    }
    std::string path = dir + "/test_batch.bin";
    ds.test = parse_cifar10(read_bytes(path), path);
  }
  if (ds.train.height != ds.test.height || ds.train.width != ds.test.width ||
      ds.train.channels != ds.test.channels) {
    throw DataError(dir + ": training and test images differ in size");
  }
  return ds;
}

void channel_stats(const ImageSet& set, const std::vector<std::size_t>& indices,
                   std::vector<float>* mean, std::vector<float>* std_dev) {
  const std::size_t plane = static_cast<std::size_t>(set.height) * set.width;
  mean->assign(set.channels, 0.0f);
  std_dev->assign(set.channels, 1.0f);
  for (int c = 0; c < set.channels; ++c) {
    double sum = 0, sum_sq = 0;
    for (std::size_t index : indices) {
      const std::uint8_t* p = set.image(index) + c * plane;
      std::uint64_t s = 0, s2 = 0;
      for (std::size_t i = 0; i < plane; ++i) {
        s += p[i];
        s2 += std::uint64_t{p[i]} * p[i];
      }
      sum += static_cast<double>(s);
      sum_sq += static_cast<double>(s2);
    }
    double count = static_cast<double>(indices.size() * plane);
    if (count == 0) continue;
    double m = sum / count / 255.0;
    double var = sum_sq / count / (255.0 * 255.0) - m * m;
    (*mean)[c] = static_cast<float>(m);
    (*std_dev)[c] = static_cast<float>(std::sqrt(std::max(var, 1e-12)));
  }
}

std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b, std::uint64_t c, std::uint64_t d) {
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  for (std::uint64_t v : {a, b, c, d}) {
    x ^= v + 0x9E3779B97F4A7C15ull + (x << 6) + (x >> 2);
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    x ^= x >> 31;
  }
  return x;
}

Split make_split(std::size_t n, std::size_t validation_count, std::uint64_t split_seed) {
  if (validation_count >= n) {
    throw DataError("validation split of " + std::to_string(validation_count) +
                    " images leaves no training images (dataset has " + std::to_string(n) + ")");
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Fisher-Yates with our own generator: std::shuffle's algorithm is implementation-defined.
  std::mt19937_64 rng(mix_seed(split_seed, 0x5EED));
  for (std::size_t i = n; i > 1; --i) {
    std::size_t j = static_cast<std::size_t>(rng() % i);
    std::swap(order[i - 1], order[j]);
  }
  Split split;
  split.validation.assign(order.begin(), order.begin() + validation_count);
  split.train.assign(order.begin() + validation_count, order.end());
  std::sort(split.validation.begin(), split.validation.end());
  std::sort(split.train.begin(), split.train.end());
  return split;
}

}  // namespace gnconvert
