// The C API end to end: loading from buffer and file, metadata, plans, errors for misuse.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "aligned_bytes.h"
#include "gnrt/gnrt.h"
#include "small_models.h"

using gnrt::testing::AlignedBytes;

namespace {

std::vector<std::uint8_t> api_model() {
  gnrt::testing::SmallGoogLeNet spec;
  spec.in_channels = 1;
  spec.seed = 9;
  spec.density = 0.05;
  gnrt::ModelMetadata& meta = spec.metadata;
  meta.name = "api-test";
  meta.labels = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"};
  meta.mean = {0.25f};
  meta.std = {0.5f};
  meta.pruning.params_dense_training = 10400000;
  meta.pruning.nonzeros_training = 650000;
  meta.test_accuracy = 0.93f;
  spec.weights.storage = gnrt::ValueStorage::kFloat16;
  return gnrt::testing::small_googlenet(spec);
}

}  // namespace

TEST_CASE("version and status strings") {
  CHECK(std::string(gnrt_version()) == "0.1.0");
  CHECK(std::string(gnrt_status_string(GNRT_INVALID_MODEL)) == "GNRT_INVALID_MODEL");
  CHECK(std::string(gnrt_status_string(static_cast<gnrt_status>(999))) == "GNRT_UNKNOWN_STATUS");
}

TEST_CASE("load from buffer and from file give the same model and results") {
  const std::vector<std::uint8_t> bytes = api_model();
  AlignedBytes aligned(bytes);
  char path[] = "/tmp/gnrt_api_XXXXXX";
  const int fd = mkstemp(path);
  REQUIRE(fd >= 0);
  REQUIRE(write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  close(fd);

  gnrt_model* from_buffer = nullptr;
  gnrt_model* from_file = nullptr;
  REQUIRE_MESSAGE(gnrt_model_load_buffer(aligned.data(), aligned.size(), &from_buffer) == GNRT_OK,
                  std::string(gnrt_last_error()));
  REQUIRE_MESSAGE(gnrt_model_load_file(path, &from_file) == GNRT_OK,
                  std::string(gnrt_last_error()));
  unlink(path);

  gnrt_model_info info;
  REQUIRE(gnrt_model_get_info(from_file, &info) == GNRT_OK);
  CHECK(std::string(info.name) == "api-test");
  CHECK(info.input_channels == 1);
  CHECK(info.default_height == 48);
  CHECK(info.num_classes == 10);
  CHECK(info.params_dense_training == 10400000);
  CHECK(info.nonzeros_training == 650000);
  CHECK(info.test_accuracy == doctest::Approx(0.93f));
  CHECK(std::string(gnrt_model_label(from_file, 3)) == "three");
  CHECK(gnrt_model_label(from_file, 10) == nullptr);
  CHECK(gnrt_model_label(from_file, -1) == nullptr);
  float mean = 0, std_dev = 0;
  CHECK(gnrt_model_normalization(from_file, 0, &mean, &std_dev) == GNRT_OK);
  CHECK(mean == 0.25f);
  CHECK(std_dev == 0.5f);
  CHECK(gnrt_model_normalization(from_file, 1, &mean, &std_dev) == GNRT_INVALID_ARGUMENT);

  std::vector<std::uint8_t> pixels(28 * 28);
  for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<std::uint8_t>(i * 7);
  std::vector<float> out_a(10), out_b(10);
  for (int k = 0; k < 2; ++k) {
    gnrt_plan* plan = nullptr;
    REQUIRE(gnrt_plan_create(k ? from_file : from_buffer, nullptr, &plan) == GNRT_OK);
    CHECK(gnrt_plan_arena_bytes(plan) > 0);
    CHECK(gnrt_plan_weight_bytes(plan) > 0);
    CHECK(gnrt_plan_run(plan) == GNRT_INVALID_STATE);  // no input yet
    CHECK(gnrt_plan_get_output(plan, out_a.data(), 10) == GNRT_INVALID_STATE);
    REQUIRE(gnrt_plan_set_input_image_u8(plan, pixels.data(), 28, 28, 1) == GNRT_OK);
    REQUIRE(gnrt_plan_run(plan) == GNRT_OK);
    CHECK(gnrt_plan_get_output(plan, (k ? out_b : out_a).data(), 9) == GNRT_INVALID_ARGUMENT);
    REQUIRE(gnrt_plan_get_output(plan, (k ? out_b : out_a).data(), 10) == GNRT_OK);
    gnrt_plan_destroy(plan);
  }
  CHECK(out_a == out_b);
  gnrt_model_destroy(from_buffer);
  gnrt_model_destroy(from_file);
}

TEST_CASE("image input: resize, gray from RGB and normalization") {
  AlignedBytes aligned(api_model());
  gnrt_model* model = nullptr;
  REQUIRE(gnrt_model_load_buffer(aligned.data(), aligned.size(), &model) == GNRT_OK);
  gnrt_plan* a = nullptr;
  gnrt_plan* b = nullptr;
  REQUIRE(gnrt_plan_create(model, nullptr, &a) == GNRT_OK);
  REQUIRE(gnrt_plan_create(model, nullptr, &b) == GNRT_OK);
  // A uniform gray RGB image equals the same gray as a 1-channel image, and equals the float
  // input (v/255 - mean)/std everywhere.
  std::vector<std::uint8_t> rgb(5 * 7 * 3, 128), gray(5 * 7, 128);
  REQUIRE(gnrt_plan_set_input_image_u8(a, rgb.data(), 5, 7, 3) == GNRT_OK);
  std::vector<float> plain(48 * 48, (128.0f / 255.0f - 0.25f) / 0.5f);
  REQUIRE(gnrt_plan_set_input(b, plain.data(), plain.size()) == GNRT_OK);
  REQUIRE(gnrt_plan_run(a) == GNRT_OK);
  REQUIRE(gnrt_plan_run(b) == GNRT_OK);
  std::vector<float> oa(10), ob(10);
  gnrt_plan_get_output(a, oa.data(), 10);
  gnrt_plan_get_output(b, ob.data(), 10);
  for (int i = 0; i < 10; ++i) CHECK(oa[i] == doctest::Approx(ob[i]).epsilon(1e-5));
  REQUIRE(gnrt_plan_set_input_image_u8(a, gray.data(), 5, 7, 1) == GNRT_OK);
  CHECK(gnrt_plan_set_input_image_u8(a, gray.data(), 5, 7, 2) == GNRT_INVALID_ARGUMENT);
  CHECK(gnrt_plan_set_input_image_u8(a, nullptr, 5, 7, 1) == GNRT_INVALID_ARGUMENT);
  CHECK(gnrt_plan_set_input_image_u8(a, gray.data(), 0, 7, 1) == GNRT_INVALID_ARGUMENT);
  gnrt_plan_destroy(a);
  gnrt_plan_destroy(b);
  gnrt_model_destroy(model);
}

TEST_CASE("misuse returns errors with messages, never crashes") {
  gnrt_model* model = reinterpret_cast<gnrt_model*>(0x1);
  CHECK(gnrt_model_load_buffer(nullptr, 100, &model) == GNRT_INVALID_ARGUMENT);
  CHECK(model == nullptr);
  CHECK(gnrt_model_load_buffer("x", 1, nullptr) == GNRT_INVALID_ARGUMENT);
  CHECK(gnrt_model_load_file("/nonexistent/model.gnrt", &model) == GNRT_IO_ERROR);
  CHECK(std::string(gnrt_last_error()).find("/nonexistent/model.gnrt") != std::string::npos);
  CHECK(gnrt_model_load_file("/tmp", &model) == GNRT_IO_ERROR);
  CHECK(gnrt_model_load_file(nullptr, &model) == GNRT_INVALID_ARGUMENT);
  alignas(8) char text[64] = "P5\n28 28\n255\n this is an image, not a model";
  CHECK(gnrt_model_load_buffer(text, sizeof text, &model) == GNRT_INVALID_MODEL);
  CHECK(std::string(gnrt_last_error()).find("GNRT") != std::string::npos);
  CHECK(gnrt_plan_create(nullptr, nullptr, nullptr) == GNRT_INVALID_ARGUMENT);
  CHECK(gnrt_plan_run(nullptr) == GNRT_INVALID_ARGUMENT);
  CHECK(gnrt_model_get_info(nullptr, nullptr) == GNRT_INVALID_ARGUMENT);
  gnrt_model_destroy(nullptr);
  gnrt_plan_destroy(nullptr);

  AlignedBytes aligned(api_model());
  REQUIRE(gnrt_model_load_buffer(aligned.data(), aligned.size(), &model) == GNRT_OK);
  gnrt_options options;
  gnrt_options_init(&options);
  gnrt_plan* plan = nullptr;
  options.num_threads = 0;
  CHECK(gnrt_plan_create(model, &options, &plan) == GNRT_INVALID_ARGUMENT);
  options.num_threads = 1;
  options.input_height = 100000;
  CHECK(gnrt_plan_create(model, &options, &plan) == GNRT_INVALID_ARGUMENT);
  options.input_height = -3;
  CHECK(gnrt_plan_create(model, &options, &plan) == GNRT_INVALID_ARGUMENT);
  options.input_height = 0;
  options.struct_size = 3;
  CHECK(gnrt_plan_create(model, &options, &plan) == GNRT_INVALID_ARGUMENT);
  CHECK(plan == nullptr);
  gnrt_options_init(&options);
  REQUIRE(gnrt_plan_create(model, &options, &plan) == GNRT_OK);
  std::vector<float> input(48 * 48);
  CHECK(gnrt_plan_set_input(plan, input.data(), input.size() - 1) == GNRT_INVALID_ARGUMENT);
  CHECK(gnrt_plan_set_input(plan, nullptr, input.size()) == GNRT_INVALID_ARGUMENT);
  int dims[4];
  CHECK(gnrt_plan_input_shape(plan, dims) == GNRT_OK);
  CHECK(dims[1] == 1);
  CHECK(dims[2] == 48);
  CHECK(gnrt_plan_num_operators(plan) > 60);
  CHECK(std::string(gnrt_plan_operator_name(plan, 0)) == "conv1");
  CHECK(gnrt_plan_operator_name(plan, 1000) == nullptr);
  CHECK(std::string(gnrt_plan_isa(plan)).size() > 0);
  gnrt_plan_destroy(plan);
  gnrt_model_destroy(model);
}

TEST_CASE("profiling reports a time per operator") {
  AlignedBytes aligned(api_model());
  gnrt_model* model = nullptr;
  REQUIRE(gnrt_model_load_buffer(aligned.data(), aligned.size(), &model) == GNRT_OK);
  gnrt_plan* plan = nullptr;
  REQUIRE(gnrt_plan_create(model, nullptr, &plan) == GNRT_OK);
  std::vector<float> input(48 * 48, 0.5f);
  REQUIRE(gnrt_plan_set_profiling(plan, 1) == GNRT_OK);
  REQUIRE(gnrt_plan_set_input(plan, input.data(), input.size()) == GNRT_OK);
  REQUIRE(gnrt_plan_run(plan) == GNRT_OK);
  std::uint64_t total = 0;
  for (int i = 0; i < gnrt_plan_num_operators(plan); ++i)
    total += gnrt_plan_operator_nanoseconds(plan, i);
  CHECK(total > 0);
  gnrt_plan_destroy(plan);
  gnrt_model_destroy(model);
}
