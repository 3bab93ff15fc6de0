// gnrt_idx_to_pgm: writes image INDEX of an IDX image file (gzipped or raw) as a binary PGM, and
// prints its label when a label file is given. Used once to make the sample image in examples/.
#include <cstdio>
#include <exception>
#include <string>

#include <CLI/CLI.hpp>

#include "idx.h"
#include "imageio.h"

int main(int argc, char** argv) {
  CLI::App app{"Extract one image of an IDX file as PGM", "gnrt_idx_to_pgm"};
  std::string images_path, labels_path, output;
  int index = 0;
  app.add_option("IMAGES", images_path, "IDX image file")->required()->check(CLI::ExistingFile);
  app.add_option("INDEX", index, "Image index (0-based)")
      ->required()
      ->check(CLI::NonNegativeNumber);
  app.add_option("OUTPUT", output, "PGM file to write")->required();
  app.add_option("--labels", labels_path, "IDX label file; prints the image's label")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);
  try {
    const gnrt::tools::IdxImages images = gnrt::tools::read_idx_images(images_path);
    if (index >= images.count) {
      std::fprintf(stderr, "gnrt_idx_to_pgm: error: index %d out of range (%d images)\n", index,
                   images.count);
      return 1;
    }
    gnrt::tools::Image image;
    image.width = images.width;
    image.height = images.height;
    image.channels = 1;
    image.maxval = 255;
    const std::uint8_t* first = images.image(index);
    image.pixels.assign(first, first + std::size_t(images.width) * std::size_t(images.height));
    gnrt::tools::write_pnm(output, image);
    if (!labels_path.empty()) {
      const gnrt::tools::IdxLabels labels = gnrt::tools::read_idx_labels(labels_path);
      if (std::size_t(index) < labels.labels.size()) {
        std::printf("label=%d\n", labels.labels[std::size_t(index)]);
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gnrt_idx_to_pgm: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
