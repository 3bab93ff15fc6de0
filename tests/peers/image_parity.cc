// image_parity: checks that bench/ort/ort.js eval preprocesses an image exactly as libgnrt's
// gnrt_plan_set_input_image_u8 does (runtime/src/image.cc), through libgnrt itself: the model's
// output from set_input_image_u8(pixels) must equal, bit for bit, its output from
// set_input(tensor) where the tensor is what `ort.js eval --dump-input` wrote.
//
//   image_parity --normalization MODEL.gnrt       prints "MEAN STD" of channel 0 (%.9g)
//   image_parity MODEL.gnrt SIZE PIXELS.u8 HEIGHT WIDTH TENSOR.f32
//                                                 exit 0 when the outputs are identical
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "gnrt/gnrt.h"

namespace {

int fail(const std::string& message) {
  std::fprintf(stderr, "image_parity: %s\n", message.c_str());
  return 1;
}

bool read_bytes(const char* path, std::vector<char>* out) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  out->assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  return true;
}

std::string gnrt_error(const char* what, gnrt_status status) {
  return std::string(what) + ": " + gnrt_status_string(status) + ": " + gnrt_last_error();
}

// Runs the plan on its current input and returns the output.
bool run(gnrt_plan* plan, std::vector<float>* output, std::string* error) {
  gnrt_status status = gnrt_plan_run(plan);
  if (status == GNRT_OK) status = gnrt_plan_get_output(plan, output->data(), output->size());
  if (status != GNRT_OK) *error = gnrt_error("run", status);
  return status == GNRT_OK;
}

int compare(gnrt_model* model, char** argv) {
  const int size = std::atoi(argv[2]);
  const int height = std::atoi(argv[4]);
  const int width = std::atoi(argv[5]);
  std::vector<char> pixels, tensor;
  if (!read_bytes(argv[3], &pixels)) return fail(std::string("cannot read ") + argv[3]);
  if (!read_bytes(argv[6], &tensor)) return fail(std::string("cannot read ") + argv[6]);
  if (height < 1 || width < 1 || pixels.size() != std::size_t(height) * width)
    return fail("the pixel file does not hold HEIGHT x WIDTH bytes");
  gnrt_options options;
  gnrt_options_init(&options);
  options.input_height = options.input_width = size;
  gnrt_plan* plan = nullptr;
  gnrt_status status = gnrt_plan_create(model, &options, &plan);
  if (status != GNRT_OK) return fail(gnrt_error("plan", status));
  int in_dims[4], out_dims[4];
  gnrt_plan_input_shape(plan, in_dims);
  gnrt_plan_output_shape(plan, out_dims);
  const std::size_t in_count = std::size_t(in_dims[1]) * in_dims[2] * in_dims[3];
  std::vector<float> input(in_count),
      from_image(std::size_t(out_dims[1]) * out_dims[2] * out_dims[3]);
  std::vector<float> from_tensor(from_image.size());
  std::string error;
  int result = 0;
  if (tensor.size() != 4 * in_count) {
    result = fail("the tensor file holds " + std::to_string(tensor.size()) +
                  " bytes, the plan's input needs " + std::to_string(4 * in_count));
  } else {
    std::memcpy(input.data(), tensor.data(), tensor.size());  // little-endian hosts only
    status = gnrt_plan_set_input_image_u8(
        plan, reinterpret_cast<const std::uint8_t*>(pixels.data()), height, width, 1);
    if (status != GNRT_OK || !run(plan, &from_image, &error)) {
      result = fail(status != GNRT_OK ? gnrt_error("set_input_image_u8", status) : error);
    } else if ((status = gnrt_plan_set_input(plan, input.data(), input.size())) != GNRT_OK ||
               !run(plan, &from_tensor, &error)) {
      result = fail(status != GNRT_OK ? gnrt_error("set_input", status) : error);
    } else if (std::memcmp(from_image.data(), from_tensor.data(), 4 * from_image.size()) != 0) {
      for (std::size_t i = 0; i < from_image.size(); ++i) {
        std::fprintf(stderr, "output %zu: image %.9g, tensor %.9g\n", i, from_image[i],
                     from_tensor[i]);
      }
      result = fail("the outputs differ: ort.js eval's preprocessing is not image.cc's");
    } else {
      std::printf("identical outputs (%zu values) at %dx%d\n", from_image.size(), size, size);
    }
  }
  gnrt_plan_destroy(plan);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  const bool normalization = argc == 3 && std::strcmp(argv[1], "--normalization") == 0;
  if (!normalization && argc != 7) {
    return fail(
        "usage: image_parity --normalization MODEL | image_parity MODEL SIZE PIXELS H W TENSOR");
  }
  gnrt_model* model = nullptr;
  const gnrt_status status = gnrt_model_load_file(argv[normalization ? 2 : 1], &model);
  if (status != GNRT_OK) return fail(gnrt_error("load", status));
  int result = 0;
  if (normalization) {
    float mean = 0, std_dev = 1;
    gnrt_model_normalization(model, 0, &mean, &std_dev);
    std::printf("%.9g %.9g\n", mean, std_dev);
  } else {
    result = compare(model, argv);
  }
  gnrt_model_destroy(model);
  return result;
}
