// Replays files through the readers' fuzz entry point (any compiler), and writes the seed corpus.
//   fuzz_readers_replay DIR...          feed every regular file; exit 1 if a directory is empty
//   fuzz_readers_replay --write-seeds DIR
#include <dirent.h>
#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "idx.h"
#include "imageio.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void write(const std::string& path, std::uint8_t selector, const std::vector<std::uint8_t>& body) {
  std::ofstream out(path, std::ios::binary);
  out.put(static_cast<char>(selector));
  out.write(reinterpret_cast<const char*>(body.data()), static_cast<std::streamsize>(body.size()));
}

int write_seeds(const std::string& dir) {
  gnrt::tools::IdxImages images;
  images.count = 3;
  images.height = 4;
  images.width = 5;
  for (int i = 0; i < 60; ++i) images.pixels.push_back(static_cast<std::uint8_t>(i * 4));
  gnrt::tools::IdxLabels labels;
  labels.labels = {1, 7, 9};
  const auto raw_images = gnrt::tools::encode_idx_images(images);
  const auto raw_labels = gnrt::tools::encode_idx_labels(labels);
  write(dir + "/idx-images-raw", 0, raw_images);
  write(dir + "/idx-images-gz", 0, gnrt::tools::gzip_compress(raw_images));
  write(dir + "/idx-labels-raw", 1, raw_labels);
  write(dir + "/idx-labels-gz", 1, gnrt::tools::gzip_compress(raw_labels));
  gnrt::tools::Image gray;
  gray.width = 3;
  gray.height = 2;
  gray.channels = 1;
  gray.maxval = 255;
  gray.pixels = {0, 50, 100, 150, 200, 250};
  write(dir + "/pgm-binary", 2, gnrt::tools::encode_pnm(gray));
  const std::string ascii = "P3\n2 1\n255\n255 0 0  0 0 255\n";
  write(dir + "/ppm-ascii", 2, std::vector<std::uint8_t>(ascii.begin(), ascii.end()));
  std::vector<std::uint8_t> cifar(2 * 3073);
  for (std::size_t i = 0; i < cifar.size(); ++i) cifar[i] = static_cast<std::uint8_t>(i % 10);
  write(dir + "/cifar-two-records", 3, cifar);
  return 0;
}

bool replay_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::strcmp(argv[1], "--write-seeds") == 0) return write_seeds(argv[2]);
  if (argc < 2) {
    std::fprintf(stderr, "usage: fuzz_readers_replay DIR... | --write-seeds DIR\n");
    return 2;
  }
  for (int a = 1; a < argc; ++a) {
    DIR* dir = ::opendir(argv[a]);
    if (!dir) {
      std::fprintf(stderr, "fuzz_readers_replay: cannot open %s\n", argv[a]);
      return 1;
    }
    int replayed = 0;
    while (const dirent* e = ::readdir(dir)) {
      const std::string full = std::string(argv[a]) + "/" + e->d_name;
      struct stat st;
      if (::stat(full.c_str(), &st) == 0 && S_ISREG(st.st_mode) && replay_file(full)) ++replayed;
    }
    ::closedir(dir);
    if (replayed == 0) {
      std::fprintf(stderr, "fuzz_readers_replay: %s holds no inputs\n", argv[a]);
      return 1;
    }
    std::printf("%s: %d inputs replayed\n", argv[a], replayed);
  }
  return 0;
}
