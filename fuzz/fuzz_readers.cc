// Fuzz target for the dataset and image readers (issue 7): IDX images and labels (raw or
// gzipped), PGM/PPM, and CIFAR-10 binary records when gn-convert's readers are built. The first
// byte picks the reader; the rest is the file. Readers must either decode or throw their one-line
// error type; anything else (a crash, a sanitizer report, another exception) is a finding.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

#include "idx.h"
#include "imageio.h"
#if defined(GNRT_FUZZ_WITH_CIFAR)
#include "data/dataset.h"
#endif

namespace {

void check_images(const gnrt::tools::IdxImages& images) {
  const std::size_t expected =
      static_cast<std::size_t>(images.count) * images.height * images.width;
  if (images.pixels.size() != expected) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::uint8_t selector = data[0] % 4;
  const std::uint8_t* body = data + 1;
  const std::size_t body_size = size - 1;
  try {
    switch (selector) {
      case 0:
        check_images(gnrt::tools::decode_idx_images(body, body_size, "fuzz-images"));
        break;
      case 1:
        (void)gnrt::tools::decode_idx_labels(body, body_size, "fuzz-labels");
        break;
      case 2: {
        const gnrt::tools::Image image = gnrt::tools::decode_pnm(body, body_size, "fuzz.pnm");
        if (image.pixels.size() !=
            static_cast<std::size_t>(image.width) * image.height * image.channels)
          std::abort();
        break;
      }
      case 3:
#if defined(GNRT_FUZZ_WITH_CIFAR)
        (void)gnconvert::parse_cifar10(std::vector<std::uint8_t>(body, body + body_size),
                                       "fuzz-cifar");
#endif
        break;
    }
  } catch (const gnrt::tools::InputError&) {
    // The documented failure: a one-line message naming the file.
#if defined(GNRT_FUZZ_WITH_CIFAR)
  } catch (const gnconvert::DataError&) {
    // gn-convert's readers report bad data as DataError.
#endif
  }
  return 0;
}
