// Fuzz target for the model loader, planner and executor: arbitrary bytes go through the public C
// API exactly as an app would use it (load from a buffer, inspect, plan, set an input, run, read
// the output), with a small arena cap and small input sizes so that one input stays cheap.
//
// Besides "no crash, no leak, no sanitizer report", the target checks the API's promises and
// aborts when one is broken:
//  - a failing call returns a known status, sets a non-empty gnrt_last_error and leaves the
//    output handle NULL;
//  - model info is consistent (at least one channel, class, operator);
//  - a plan reports the input size it was asked for, the model's channel count, an arena and
//    packed weights within max_arena_bytes, and at the default size as many outputs as
//    num_classes;
//  - run before set_input and get_output before run fail with GNRT_INVALID_STATE; a wrong element
//    count fails with GNRT_INVALID_ARGUMENT; with the right count every step succeeds;
//  - two runs on the same input give bitwise identical outputs (catches reads of memory that
//    nobody wrote, which AddressSanitizer cannot see inside the arena).
//
// Build: see fuzz/CMakeLists.txt and docs/reliability.md.
#include "fuzz_model.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace gnrt_fuzz {
namespace {

constexpr std::size_t kArenaCap = std::size_t{32} << 20;  // 32 MiB for activations and weights
constexpr int kMaxSide = 64;                              // largest input height/width planned
constexpr int kMaxAltSide = 48;

// What the target is doing, printed with a violation.
char g_context[160] = "loading";

[[noreturn]] void violated(const char* file, int line, const char* what) {
  std::fprintf(stderr,
               "fuzz_model: invariant violated at %s:%d: %s\n  while %s\n  last error: \"%s\"\n",
               file, line, what, g_context, gnrt_last_error());
  std::fflush(stderr);
  std::abort();
}

#define FUZZ_CHECK(cond)                              \
  do {                                                \
    if (!(cond)) violated(__FILE__, __LINE__, #cond); \
  } while (0)

bool known_status(gnrt_status s) { return s >= GNRT_OK && s <= GNRT_INTERNAL; }

// A failing call: known code, non-empty message.
void check_failure(gnrt_status s) {
  FUZZ_CHECK(s != GNRT_OK);
  FUZZ_CHECK(known_status(s));
  FUZZ_CHECK(gnrt_last_error() != nullptr && gnrt_last_error()[0] != '\0');
}

std::uint64_t fnv1a(const std::uint8_t* data, std::size_t size) {
  std::uint64_t h = 1469598103934665603ull;
  for (std::size_t i = 0; i < size; ++i) {
    h ^= data[i];
    h *= 1099511628211ull;
  }
  return h;
}

struct Model {
  gnrt_model* handle = nullptr;
  Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
  ~Model() { gnrt_model_destroy(handle); }
};

struct Plan {
  gnrt_plan* handle = nullptr;
  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() { gnrt_plan_destroy(handle); }
};

// Plans `model` at height x width and, if that works, drives it through the whole run protocol.
// Returns the status of gnrt_plan_create.
int plan_and_run(const gnrt_model* model, const gnrt_model_info& info, const std::uint8_t* data,
                 std::size_t size, int height, int width, int threads, bool reference,
                 bool image_input, bool profile, int* runs, std::vector<float>* result = nullptr) {
  gnrt_options options;
  gnrt_options_init(&options);
  FUZZ_CHECK(options.struct_size == sizeof(gnrt_options));
  options.num_threads = threads;
  options.input_height = height;
  options.input_width = width;
  options.max_arena_bytes = kArenaCap;
  options.force_reference = reference ? 1 : 0;
  std::snprintf(g_context, sizeof g_context,
                "planning/running at %dx%d, %d thread(s), %s kernels, %s input%s", height, width,
                threads, reference ? "reference" : "optimized", image_input ? "image" : "float",
                profile ? ", profiling" : "");
  Plan plan;
  const gnrt_status s = gnrt_plan_create(model, &options, &plan.handle);
  if (s != GNRT_OK) {
    check_failure(s);
    FUZZ_CHECK(plan.handle == nullptr);
    // The only legitimate reasons a verified model cannot be planned.
    FUZZ_CHECK(s == GNRT_INVALID_ARGUMENT || s == GNRT_RESOURCE_LIMIT || s == GNRT_UNSUPPORTED ||
               s == GNRT_OUT_OF_MEMORY);
    return s;
  }
  FUZZ_CHECK(plan.handle != nullptr);
  gnrt_plan* p = plan.handle;
  FUZZ_CHECK(gnrt_plan_arena_bytes(p) > 0);
  FUZZ_CHECK(gnrt_plan_arena_bytes(p) <= kArenaCap + 4096);  // + the documented over-read slack
  FUZZ_CHECK(gnrt_plan_weight_bytes(p) <= kArenaCap);
  FUZZ_CHECK(gnrt_plan_isa(p) != nullptr);

  int in_dims[4] = {0, 0, 0, 0}, out_dims[4] = {0, 0, 0, 0};
  FUZZ_CHECK(gnrt_plan_input_shape(p, in_dims) == GNRT_OK);
  FUZZ_CHECK(gnrt_plan_output_shape(p, out_dims) == GNRT_OK);
  FUZZ_CHECK(in_dims[0] == 1 && in_dims[1] == info.input_channels);
  FUZZ_CHECK(in_dims[2] == (height ? height : info.default_height));
  FUZZ_CHECK(in_dims[3] == (width ? width : info.default_width));
  FUZZ_CHECK(out_dims[0] == 1 && out_dims[1] >= 1 && out_dims[2] >= 1 && out_dims[3] >= 1);
  const std::size_t in_count = static_cast<std::size_t>(in_dims[1]) * in_dims[2] * in_dims[3];
  const std::size_t out_count = static_cast<std::size_t>(out_dims[1]) * out_dims[2] * out_dims[3];
  FUZZ_CHECK(in_count * sizeof(float) <= kArenaCap && out_count * sizeof(float) <= kArenaCap);
  if (in_dims[2] == info.default_height && in_dims[3] == info.default_width)
    FUZZ_CHECK(out_count == static_cast<std::size_t>(info.num_classes));

  const int num_ops = gnrt_plan_num_operators(p);
  FUZZ_CHECK(num_ops == info.num_operators);

  std::vector<float> input(in_count), output(out_count), again(out_count);
  for (std::size_t i = 0; i < in_count; ++i)
    input[i] = (static_cast<int>(data[(i * 7919) % size]) - 128) * (1.0f / 64.0f);

  // Protocol errors first: nothing set yet.
  check_failure(gnrt_plan_run(p));
  check_failure(gnrt_plan_get_output(p, output.data(), out_count));
  check_failure(gnrt_plan_set_input(p, input.data(), in_count + 1));
  check_failure(gnrt_plan_set_input(p, nullptr, in_count));

  if (image_input) {
    // A small 8-bit image resized to the plan's input; only 1- and 3-channel models accept it.
    const int ih = 1 + data[0] % 9, iw = 1 + data[size - 1] % 11, ic = (data[size / 2] & 1) ? 3 : 1;
    std::vector<std::uint8_t> pixels(static_cast<std::size_t>(ih) * iw * ic);
    for (std::size_t i = 0; i < pixels.size(); ++i) pixels[i] = data[(i * 31) % size];
    const gnrt_status si = gnrt_plan_set_input_image_u8(p, pixels.data(), ih, iw, ic);
    if (info.input_channels == 1 || info.input_channels == 3) {
      FUZZ_CHECK(si == GNRT_OK);
    } else {
      check_failure(si);
      FUZZ_CHECK(gnrt_plan_set_input(p, input.data(), in_count) == GNRT_OK);
    }
  } else {
    FUZZ_CHECK(gnrt_plan_set_input(p, input.data(), in_count) == GNRT_OK);
  }
  if (profile) FUZZ_CHECK(gnrt_plan_set_profiling(p, 1) == GNRT_OK);

  FUZZ_CHECK(gnrt_plan_run(p) == GNRT_OK);
  ++*runs;
  check_failure(gnrt_plan_get_output(p, output.data(), out_count + 1));
  FUZZ_CHECK(gnrt_plan_get_output(p, output.data(), out_count) == GNRT_OK);
  FUZZ_CHECK(gnrt_plan_run(p) == GNRT_OK);
  ++*runs;
  FUZZ_CHECK(gnrt_plan_get_output(p, again.data(), out_count) == GNRT_OK);
  FUZZ_CHECK(std::memcmp(output.data(), again.data(), out_count * sizeof(float)) == 0);

  if (result) *result = output;
  if (profile) {
    for (int k = 0; k < num_ops; ++k) {
      FUZZ_CHECK(gnrt_plan_operator_name(p, k) != nullptr);
      FUZZ_CHECK(gnrt_plan_operator_kernel(p, k) != nullptr);
      (void)gnrt_plan_operator_nanoseconds(p, k);
    }
    FUZZ_CHECK(gnrt_plan_operator_name(p, num_ops) == nullptr);
    FUZZ_CHECK(gnrt_plan_operator_kernel(p, -1) == nullptr);
  }
  return GNRT_OK;
}

// Differential mode (GNRT_FUZZ_DIFF=1 in the environment): the optimized kernels must agree with
// the scalar reference kernels on the same plan size and input. Off by default: fuzzed weights
// reach magnitudes where summation order alone changes results, so this mode skips outputs with
// non-finite values or values above 1e4 and allows a relative error of 1e-3; a report still needs
// a look before it is called a bug.
bool differential_mode() {
  static const bool on = [] {
    const char* v = std::getenv("GNRT_FUZZ_DIFF");
    return v && v[0] == '1';
  }();
  return on;
}

void compare_with_reference(const std::vector<float>& reference,
                            const std::vector<float>& optimized) {
  FUZZ_CHECK(reference.size() == optimized.size());
  float scale = 0.0f;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    if (!std::isfinite(reference[i]) || !std::isfinite(optimized[i])) return;
    scale = std::max(scale, std::fabs(reference[i]));
  }
  if (scale > 1e4f) return;
  const float tolerance = 1e-3f * (1.0f + scale);
  for (std::size_t i = 0; i < reference.size(); ++i) {
    if (std::fabs(reference[i] - optimized[i]) > tolerance) {
      std::fprintf(stderr,
                   "fuzz_model: output %zu: reference %.9g, optimized %.9g (tolerance %.3g)\n", i,
                   static_cast<double>(reference[i]), static_cast<double>(optimized[i]),
                   static_cast<double>(tolerance));
      FUZZ_CHECK(!"optimized kernels disagree with the reference kernels");
    }
  }
}

}  // namespace

const char* status_name(int status) {
  if (status == kNotReached) return "-";
  return gnrt_status_string(static_cast<gnrt_status>(status));
}

Outcome exercise(const std::uint8_t* data, std::size_t size) {
  Outcome outcome;
  std::snprintf(g_context, sizeof g_context, "loading %zu bytes", size);
  // An exactly sized heap copy: malloc's alignment satisfies the loader's 8-byte rule, and
  // AddressSanitizer sees any read past the last byte.
  void* copy = std::malloc(size ? size : 1);
  FUZZ_CHECK(copy != nullptr);
  FUZZ_CHECK(reinterpret_cast<std::uintptr_t>(copy) % 8 == 0);
  if (size) std::memcpy(copy, data, size);

  Model model;
  const gnrt_status s = gnrt_model_load_buffer(copy, size, &model.handle);
  outcome.load = s;
  if (s != GNRT_OK) {
    check_failure(s);
    FUZZ_CHECK(model.handle == nullptr);
    FUZZ_CHECK(s == GNRT_INVALID_MODEL || s == GNRT_UNSUPPORTED || s == GNRT_INVALID_ARGUMENT ||
               s == GNRT_OUT_OF_MEMORY);
    std::free(copy);
    return outcome;
  }
  FUZZ_CHECK(model.handle != nullptr);
  FUZZ_CHECK(size >= 8);

  gnrt_model_info info;
  std::memset(&info, 0, sizeof info);
  FUZZ_CHECK(gnrt_model_get_info(model.handle, &info) == GNRT_OK);
  FUZZ_CHECK(info.name != nullptr);
  (void)std::strlen(info.name);
  FUZZ_CHECK(info.input_channels >= 1 && info.default_height >= 1 && info.default_width >= 1);
  FUZZ_CHECK(info.num_classes >= 1 && info.num_operators >= 1 && info.num_tensors >= 1);
  FUZZ_CHECK(info.nonzeros <= info.params_dense);
  const int labels_to_check = std::min(info.num_classes, 4096);
  for (int i = 0; i < labels_to_check; ++i) {
    const char* label = gnrt_model_label(model.handle, i);
    if (label) (void)std::strlen(label);
  }
  FUZZ_CHECK(gnrt_model_label(model.handle, -1) == nullptr);
  FUZZ_CHECK(gnrt_model_label(model.handle, info.num_classes) == nullptr);
  for (int c = 0; c < std::min(info.input_channels, 64); ++c) {
    float mean = 0.0f, std_dev = 0.0f;
    FUZZ_CHECK(gnrt_model_normalization(model.handle, c, &mean, &std_dev) == GNRT_OK);
    FUZZ_CHECK(std_dev != 0.0f);
  }
  float mean = 0.0f, std_dev = 0.0f;
  check_failure(gnrt_model_normalization(model.handle, info.input_channels, &mean, &std_dev));

  // Choices that vary with the input but are reproducible from it.
  const std::uint64_t h = fnv1a(data, size);
  const bool reference = (h >> 40) & 1;

  // Plan 1: the default size, each side capped.
  const int height = std::min(info.default_height, kMaxSide);
  const int width = std::min(info.default_width, kMaxSide);
  std::vector<float> first;
  outcome.plan =
      plan_and_run(model.handle, info, data, size, height, width, /*threads=*/1, reference,
                   /*image_input=*/false, /*profile=*/false, &outcome.runs, &first);
  if (differential_mode() && outcome.plan == GNRT_OK) {
    std::vector<float> other;
    int runs = 0;
    FUZZ_CHECK(plan_and_run(model.handle, info, data, size, height, width, 1, !reference, false,
                            false, &runs, &other) == GNRT_OK);
    std::snprintf(g_context, sizeof g_context, "comparing kernels at %dx%d", height, width);
    compare_with_reference(reference ? first : other, reference ? other : first);
  }

  // Plan 2: another size (re-inferred shapes are where plan-time checks matter), the other kernel
  // family, sometimes two threads, the image input path and profiling.
  int alt_h = 0, alt_w = 0;
  switch ((h >> 8) & 3) {
    case 0:  // anything small
      alt_h = 1 + static_cast<int>((h >> 12) % kMaxAltSide);
      alt_w = 1 + static_cast<int>((h >> 20) % kMaxAltSide);
      break;
    case 1:  // square
      alt_h = alt_w = 1 + static_cast<int>((h >> 12) % kMaxAltSide);
      break;
    default:  // near the (capped) default
      alt_h = std::max(1, height + static_cast<int>((h >> 12) % 5) - 2);
      alt_w = std::max(1, width + static_cast<int>((h >> 20) % 5) - 2);
      break;
  }
  const int threads = ((h >> 28) & 3) == 0 ? 2 : 1;
  outcome.plan_alt =
      plan_and_run(model.handle, info, data, size, alt_h, alt_w, threads, !reference,
                   /*image_input=*/(h >> 32) & 1, /*profile=*/(h >> 33) & 1, &outcome.runs);
  // The model must outlive its plans; both plans are gone here.
  gnrt_model_destroy(model.handle);
  model.handle = nullptr;
  std::free(copy);
  return outcome;
}

}  // namespace gnrt_fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  gnrt_fuzz::exercise(data, size);
  return 0;
}
