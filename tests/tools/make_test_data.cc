// gnrt_make_test_data OUTDIR MODEL FASHION_MNIST_DIR: writes the small files the CLI tests use.
// Images come from the real Fashion-MNIST test set when it is installed, else are synthetic
// (same shapes), so the tests run on machines without the dataset package.
#include <sys/stat.h>

#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "fileio.h"
#include "gnrt/model_builder.h"
#include "idx.h"

using namespace gnrt::tools;

namespace {

std::vector<float> ramp(std::size_t n, float scale) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = scale * float(int(i * 7 % 11) - 5);
  return v;
}

// A tiny model whose output is logits (no softmax), without labels or normalization, with one
// dense and one sparse layer: the paths the demo model does not take.
std::vector<std::uint8_t> logits_model() {
  gnrt::ModelBuilder b;
  const gnrt::TensorId in = b.input("image", 1, 8, 8);
  gnrt::ConvParams conv;
  conv.out_channels = 4;
  conv.kernel_h = conv.kernel_w = 3;
  conv.pad_top = conv.pad_left = conv.pad_bottom = conv.pad_right = 1;
  conv.relu = true;
  std::vector<float> w = ramp(4 * 9, 0.1f);
  w[3] = w[10] = 0.0f;  // dense storage still has zeros: nonzeros must not count them
  gnrt::WeightOptions dense;
  dense.encoding = gnrt::WeightEncoding::kDense;
  const gnrt::TensorId c = b.conv2d("conv", in, conv, w, {0.1f, 0.0f, -0.1f, 0.2f}, dense);
  gnrt::PoolParams gap;
  gap.global = true;
  const gnrt::TensorId p = b.avg_pool("gap", c, gap);
  std::vector<float> fc = ramp(4 * 4, 0.5f);
  for (std::size_t i = 0; i < fc.size(); i += 3) fc[i] = 0.0f;
  gnrt::WeightOptions sparse;
  sparse.encoding = gnrt::WeightEncoding::kSparse;
  const gnrt::TensorId out =
      b.fully_connected("fc", p, 4, fc, {0.0f, 0.1f, 0.2f, 0.3f}, false, sparse);
  gnrt::ModelMetadata meta;
  meta.name = "test logits model";  // a blank in the name on purpose
  b.set_metadata(meta);
  return b.finish({out});
}

// Valid, but its default input (1x12000x12000 floats, 549 MB) exceeds the runtime's default
// 512 MiB arena cap: loads, cannot be planned at its default size, runs at a small --size.
std::vector<std::uint8_t> unplannable_model() {
  gnrt::ModelBuilder b;
  const gnrt::TensorId in = b.input("image", 1, 12000, 12000);
  gnrt::PoolParams gap;
  gap.global = true;
  const gnrt::TensorId p = b.avg_pool("gap", in, gap);
  const gnrt::TensorId out = b.fully_connected("fc", p, 3, {1.0f, 2.0f, 3.0f}, {});
  gnrt::ModelMetadata meta;
  meta.name = "huge default size";
  meta.labels = {"a", "b", "c"};
  b.set_metadata(meta);
  return b.finish({out});
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: gnrt_make_test_data OUTDIR MODEL FASHION_MNIST_DIR\n");
    return 2;
  }
  const std::string out = argv[1], model_path = argv[2], fmnist = argv[3];
  try {
    mkdir(out.c_str(), 0755);
    constexpr int kCount = 64;
    IdxImages images;
    IdxLabels labels;
    struct stat st {};
    if (::stat((fmnist + "/t10k-images-idx3-ubyte.gz").c_str(), &st) == 0) {
      const IdxImages all = read_idx_images(fmnist + "/t10k-images-idx3-ubyte.gz");
      const IdxLabels all_labels = read_idx_labels(fmnist + "/t10k-labels-idx1-ubyte.gz");
      images.count = kCount;
      images.height = all.height;
      images.width = all.width;
      images.pixels.assign(all.pixels.begin(),
                           all.pixels.begin() + long(kCount) * all.height * all.width);
      labels.labels.assign(all_labels.labels.begin(), all_labels.labels.begin() + kCount);
    } else {
      images.count = kCount;
      images.height = 28;
      images.width = 28;
      for (int i = 0; i < kCount * 28 * 28; ++i) {
        images.pixels.push_back(static_cast<std::uint8_t>((i * 37 + i / 28 * 11) & 0xff));
      }
      for (int i = 0; i < kCount; ++i) labels.labels.push_back(static_cast<std::uint8_t>(i % 10));
    }
    const std::vector<std::uint8_t> raw_images = encode_idx_images(images);
    const std::vector<std::uint8_t> raw_labels = encode_idx_labels(labels);
    write_file(out + "/images.idx", raw_images);
    write_file(out + "/images.idx.gz", gzip_compress(raw_images));
    write_file(out + "/labels.idx", raw_labels);
    write_file(out + "/labels.idx.gz", gzip_compress(raw_labels));

    IdxLabels fewer = labels;
    fewer.labels.pop_back();
    write_file(out + "/labels-63.idx", encode_idx_labels(fewer));
    IdxLabels bad = labels;
    bad.labels[5] = 200;
    write_file(out + "/labels-out-of-range.idx", encode_idx_labels(bad));
    write_file(out + "/images-truncated.idx",
               std::vector<std::uint8_t>(raw_images.begin(), raw_images.end() - 100));
    std::vector<std::uint8_t> gz = gzip_compress(raw_images);
    gz.resize(gz.size() / 2);
    write_file(out + "/images-truncated.idx.gz", gz);

    // One image as PGM, a truncated PGM, raw float inputs of the wrong size.
    const std::string header = "P5\n28 28\n255\n";
    std::vector<std::uint8_t> pgm(header.begin(), header.end());
    pgm.insert(pgm.end(), images.pixels.begin(), images.pixels.begin() + 28 * 28);
    write_file(out + "/image.pgm", pgm);
    write_file(out + "/image-truncated.pgm",
               std::vector<std::uint8_t>(pgm.begin(), pgm.begin() + long(pgm.size() / 2)));
    write_file(out + "/wrong-size.f32", std::vector<std::uint8_t>(100, 0));
    write_file(out + "/empty.gnrt", {});

    const std::vector<std::uint8_t> model = read_file(model_path);
    write_file(out + "/model-half.gnrt",
               std::vector<std::uint8_t>(model.begin(), model.begin() + long(model.size() / 2)));
    std::vector<std::uint8_t> bad_id = model;
    if (bad_id.size() > 8) bad_id[4] = 'X';  // file identifier "GNRT" -> "XNRT"
    write_file(out + "/model-bad-identifier.gnrt", bad_id);
    write_file(out + "/logits.gnrt", logits_model());
    write_file(out + "/unplannable.gnrt", unplannable_model());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gnrt_make_test_data: %s\n", e.what());
    return 1;
  }
  return 0;
}
