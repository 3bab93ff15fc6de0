// Image classification datasets held in memory as 8-bit pixels: the IDX format (MNIST,
// Fashion-MNIST; gzipped or raw, read by io/idx.h, the one IDX reader of the project) and the
// CIFAR-10 binary format. No LibTorch, so the readers can be tested and fuzzed on their own. Every
// reader validates what it reads and throws DataError with a one-line message naming the file; it
// never reads out of bounds.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace gnconvert {

class DataError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// N images, channel-major (N x C x H x W), pixels 0..255, one label per image.
struct ImageSet {
  int channels = 0;
  int height = 0;
  int width = 0;
  std::vector<std::uint8_t> pixels;
  std::vector<std::uint8_t> labels;

  std::size_t size() const { return labels.size(); }
  std::size_t image_bytes() const { return static_cast<std::size_t>(channels) * height * width; }
  const std::uint8_t* image(std::size_t index) const {
    return pixels.data() + index * image_bytes();
  }
};

// A dataset as the converter sees it: a training set (from which a validation split is held out)
// and a test set that only gives final numbers.
struct Dataset {
  std::string name;  // "fashion-mnist", "mnist", "cifar10"
  std::vector<std::string> class_names;
  ImageSet train;
  ImageSet test;
};

// IDX (LeCun's MNIST format) through io/idx.h: unsigned-byte images [N, rows, cols] and labels
// [N], raw or gzipped; the labels must match the images in number and lie in 0..num_classes-1.
ImageSet read_idx(const std::string& images_path, const std::string& labels_path, int num_classes);

// CIFAR-10 binary version: records of 1 label byte + 3072 pixel bytes (3 x 32 x 32).
ImageSet parse_cifar10(const std::vector<std::uint8_t>& data, const std::string& what);

// Loads a dataset by name from a directory ("" = the default location of that dataset).
// IDX files are looked up as <dir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz];
// CIFAR-10 as <dir>/data_batch_{1..5}.bin and <dir>/test_batch.bin.
Dataset load_dataset(const std::string& name, const std::string& dir);
// The dataset's default directory (io/datasets.h); throws DataError for an unknown name.
std::string default_dataset_dir(const std::string& name);
std::vector<std::string> dataset_class_names(const std::string& name);

// Per-channel mean and standard deviation of pixel/255 over the given images.
void channel_stats(const ImageSet& set, const std::vector<std::size_t>& indices,
                   std::vector<float>* mean, std::vector<float>* std_dev);

// Deterministic split of [0, n) into training and validation indices. The split depends only on
// n, validation_count and split_seed (not on the training seed), so runs with different seeds
// validate on the same images.
struct Split {
  std::vector<std::size_t> train;
  std::vector<std::size_t> validation;
};
Split make_split(std::size_t n, std::size_t validation_count, std::uint64_t split_seed);

// splitmix64: small, well-mixed, used to derive independent seeds from (seed, epoch, step).
std::uint64_t mix_seed(std::uint64_t a, std::uint64_t b = 0, std::uint64_t c = 0,
                       std::uint64_t d = 0);

}  // namespace gnconvert
