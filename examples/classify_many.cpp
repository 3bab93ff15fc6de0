// classify_many: one model, one plan, many images. The C API from C++17: the model is loaded and
// planned once, every buffer is sized before the first image, and each image then costs one
// gnrt_plan_set_input_image_u8 + gnrt_plan_run + gnrt_plan_get_output, none of which allocates.
//
//   classify_many [--threads T] MODEL.gnrt IMAGE.pgm|IMAGE.ppm...
//   classify_many [--threads T] MODEL.gnrt --idx IMAGES.idx [--labels LABELS.idx] [--count N]
//
// Images: binary PGM/PPM (P5/P6, maxval <= 255), or uncompressed IDX (ubyte, N x rows x cols; the
// Fashion-MNIST/MNIST files, after `gunzip -k`). Output (stdout):
//
//   model: NAME, input CxHxW, K classes
//   plan: arena A bytes, packed weights W bytes, isa ISA, T thread(s)
//   SOURCE: CLASS LABEL SCORE | CLASS LABEL SCORE | ...     (one line per image, top-5 best first)
//   summary: images=N reallocations=0 arena_bytes=A[ top1=X/N top5=Y/N]
//
// SOURCE is the file's base name, or IDXFILE[i] (with " truth=CLASS" when labels are given). A label
// is "-" when the model has none. reallocations counts how often a buffer of this program or the
// plan's arena had to change after the first image: 0 is the point of the exercise.
#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <vector>

#include "gnrt/gnrt.h"

namespace {

constexpr long kMaxSide = 16384;

// RAII for the C handles: a plan must be destroyed before its model, which the declaration
// order in main() guarantees (locals are destroyed in reverse).
struct ModelDeleter {
  void operator()(gnrt_model* model) const { gnrt_model_destroy(model); }
};
struct PlanDeleter {
  void operator()(gnrt_plan* plan) const { gnrt_plan_destroy(plan); }
};
using ModelHandle = std::unique_ptr<gnrt_model, ModelDeleter>;
using PlanHandle = std::unique_ptr<gnrt_plan, PlanDeleter>;

struct FileCloser {
  void operator()(std::FILE* file) const { std::fclose(file); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

int fail(const char* what, gnrt_status status) {
  std::fprintf(stderr, "classify_many: %s: %s: %s\n", what, gnrt_status_string(status), gnrt_last_error());
  return 1;
}

// ---- PGM/PPM ----------------------------------------------------------------------------------

// One header number, skipping whitespace and '#' comments; consumes the single whitespace byte
// after it. -1 on error.
long read_header_number(std::FILE* f) {
  int c = std::fgetc(f);
  for (;;) {
    while (c == ' ' || c == '\t' || c == '\n' || c == '\r') c = std::fgetc(f);
    if (c != '#') break;
    while (c != '\n' && c != EOF) c = std::fgetc(f);
  }
  if (c < '0' || c > '9') return -1;
  long value = 0;
  while (c >= '0' && c <= '9') {
    value = value * 10 + (c - '0');
    if (value > 1000000) return -1;
    c = std::fgetc(f);
  }
  if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return -1;
  return value;
}

struct PnmHeader {
  int height = 0, width = 0, channels = 0, maxval = 0;
  std::size_t bytes() const { return static_cast<std::size_t>(height) * width * channels; }
};

// Opens `path` and reads its header; the file is left at the first pixel byte.
File open_pnm(const char* path, PnmHeader* header) {
  File f(std::fopen(path, "rb"));
  if (!f) {
    std::fprintf(stderr, "classify_many: cannot open %s: %s\n", path, std::strerror(errno));
    return nullptr;
  }
  const int c0 = std::fgetc(f.get()), c1 = std::fgetc(f.get());
  if (c0 != 'P' || (c1 != '5' && c1 != '6')) {
    std::fprintf(stderr, "classify_many: %s: not a binary PGM/PPM (P5/P6) image\n", path);
    return nullptr;
  }
  const long w = read_header_number(f.get()), h = read_header_number(f.get());
  const long maxval = read_header_number(f.get());
  if (w < 1 || h < 1 || w > kMaxSide || h > kMaxSide || maxval < 1 || maxval > 255) {
    std::fprintf(stderr, "classify_many: %s: unsupported or bad header (need 8-bit, sides 1..%ld)\n", path,
                 kMaxSide);
    return nullptr;
  }
  header->width = static_cast<int>(w);
  header->height = static_cast<int>(h);
  header->channels = c1 == '5' ? 1 : 3;
  header->maxval = static_cast<int>(maxval);
  return f;
}

// ---- IDX --------------------------------------------------------------------------------------

bool read_be32(std::FILE* f, std::uint32_t* value) {
  unsigned char b[4];
  if (std::fread(b, 1, 4, f) != 4) return false;
  *value = (std::uint32_t{b[0]} << 24) | (std::uint32_t{b[1]} << 16) | (std::uint32_t{b[2]} << 8) | b[3];
  return true;
}

// Reads an IDX header of unsigned bytes with `dims` dimensions (0x00000800 + dims); the file is
// left at the first element.
File open_idx(const char* path, std::uint32_t dims, std::uint32_t* sizes) {
  File f(std::fopen(path, "rb"));
  if (!f) {
    std::fprintf(stderr, "classify_many: cannot open %s: %s\n", path, std::strerror(errno));
    return nullptr;
  }
  std::uint32_t magic = 0;
  if (!read_be32(f.get(), &magic) || magic != 0x800u + dims) {
    std::fprintf(stderr, "classify_many: %s: not an uncompressed IDX ubyte file with %u dimensions\n", path,
                 static_cast<unsigned>(dims));
    return nullptr;
  }
  for (std::uint32_t d = 0; d < dims; ++d) {
    if (!read_be32(f.get(), &sizes[d])) {
      std::fprintf(stderr, "classify_many: %s: truncated IDX header\n", path);
      return nullptr;
    }
  }
  return f;
}

const char* base_name(const char* path) {
  const char* slash = std::strrchr(path, '/');
  return slash ? slash + 1 : path;
}

// ---- top-5 ------------------------------------------------------------------------------------

// Moves the indices of the `k` best scores to the front of `order`, best first (NaN last). `order`
// is the caller's buffer of output-count entries, filled here without resizing.
void top_k(const std::vector<float>& scores, std::vector<int>& order, int k) {
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  auto better = [&scores](int a, int b) {
    const float x = scores[static_cast<std::size_t>(a)], y = scores[static_cast<std::size_t>(b)];
    if (x != x) return false;  // NaN ranks last
    if (y != y) return true;
    return x > y || (x == y && a < b);
  };
  std::partial_sort(order.begin(), order.begin() + k, order.end(), better);
}

struct Args {
  int threads = 1;
  const char* model = nullptr;
  const char* idx_images = nullptr;
  const char* idx_labels = nullptr;
  long count = -1;  // -1: all
  std::vector<const char*> images;
};

bool parse_args(int argc, char** argv, Args* args) {
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    const bool has_value = i + 1 < argc;
    if (std::strcmp(a, "--threads") == 0 && has_value) {
      args->threads = std::atoi(argv[++i]);
      if (args->threads < 1) return false;
    } else if (std::strcmp(a, "--idx") == 0 && has_value) {
      args->idx_images = argv[++i];
    } else if (std::strcmp(a, "--labels") == 0 && has_value) {
      args->idx_labels = argv[++i];
    } else if (std::strcmp(a, "--count") == 0 && has_value) {
      args->count = std::atol(argv[++i]);
      if (args->count < 1) return false;
    } else if (a[0] == '-' && a[1] == '-') {
      return false;
    } else if (!args->model) {
      args->model = a;
    } else {
      args->images.push_back(a);
    }
  }
  if (!args->model) return false;
  if (args->idx_images) return args->images.empty();
  return !args->images.empty() && !args->idx_labels && args->count < 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (!parse_args(argc, argv, &args)) {
    std::fprintf(stderr,
                 "usage: classify_many [--threads T] MODEL.gnrt IMAGE.pgm|IMAGE.ppm...\n"
                 "       classify_many [--threads T] MODEL.gnrt --idx IMAGES.idx [--labels LABELS.idx] [--count N]\n");
    return 2;
  }

  // 1. Load and plan, once.
  gnrt_model* raw_model = nullptr;
  if (gnrt_status s = gnrt_model_load_file(args.model, &raw_model); s != GNRT_OK) return fail("loading the model", s);
  const ModelHandle model(raw_model);
  gnrt_model_info info;
  if (gnrt_status s = gnrt_model_get_info(model.get(), &info); s != GNRT_OK) return fail("reading the model", s);

  gnrt_options options;
  gnrt_options_init(&options);
  options.num_threads = args.threads;
  gnrt_plan* raw_plan = nullptr;
  if (gnrt_status s = gnrt_plan_create(model.get(), &options, &raw_plan); s != GNRT_OK) return fail("planning", s);
  const PlanHandle plan(raw_plan);
  int in_dims[4], out_dims[4];
  if (gnrt_status s = gnrt_plan_input_shape(plan.get(), in_dims); s != GNRT_OK) return fail("input shape", s);
  if (gnrt_status s = gnrt_plan_output_shape(plan.get(), out_dims); s != GNRT_OK) return fail("output shape", s);
  const std::size_t outputs = static_cast<std::size_t>(out_dims[0]) * out_dims[1] * out_dims[2] * out_dims[3];
  const std::size_t arena_bytes = gnrt_plan_arena_bytes(plan.get());
  std::printf("model: %s, input %dx%dx%d, %zu classes\n", info.name, in_dims[1], in_dims[2], in_dims[3], outputs);
  std::printf("plan: arena %zu bytes, packed weights %zu bytes, isa %s, %d thread(s)\n", arena_bytes,
              gnrt_plan_weight_bytes(plan.get()), gnrt_plan_isa(plan.get()), args.threads);

  // 2. Size every buffer before the first image: the pixels for the largest image (PGM/PPM
  //    headers are read up front, which also rejects a bad file before any work), the scores, and
  //    the ranking.
  std::uint32_t idx_sizes[3] = {0, 0, 0};
  File idx_file, label_file;
  std::size_t largest = 0;
  long total = 0;
  if (args.idx_images) {
    idx_file = open_idx(args.idx_images, 3, idx_sizes);
    if (!idx_file) return 1;
    if (idx_sizes[1] < 1 || idx_sizes[2] < 1 || idx_sizes[1] > kMaxSide || idx_sizes[2] > kMaxSide) {
      std::fprintf(stderr, "classify_many: %s: bad image size %ux%u\n", args.idx_images,
                   static_cast<unsigned>(idx_sizes[1]), static_cast<unsigned>(idx_sizes[2]));
      return 1;
    }
    largest = static_cast<std::size_t>(idx_sizes[1]) * idx_sizes[2];
    total = args.count < 0 ? static_cast<long>(idx_sizes[0]) : std::min<long>(args.count, idx_sizes[0]);
    if (args.idx_labels) {
      std::uint32_t label_count = 0;
      label_file = open_idx(args.idx_labels, 1, &label_count);
      if (!label_file) return 1;
      if (label_count < static_cast<std::uint32_t>(total)) {
        std::fprintf(stderr, "classify_many: %s: %u labels for %ld images\n", args.idx_labels,
                     static_cast<unsigned>(label_count), total);
        return 1;
      }
    }
  } else {
    for (const char* path : args.images) {
      PnmHeader header;
      if (!open_pnm(path, &header)) return 1;
      largest = std::max(largest, header.bytes());
    }
    total = static_cast<long>(args.images.size());
  }
  std::vector<std::uint8_t> pixels(largest);
  std::vector<float> scores(outputs);
  std::vector<int> order(outputs);
  const int k = static_cast<int>(std::min<std::size_t>(5, outputs));
  const void* const buffers_before[3] = {pixels.data(), scores.data(), order.data()};

  // 3. Classify: the same plan and the same buffers for every image.
  long top1 = 0, top5 = 0;
  for (long n = 0; n < total; ++n) {
    int height = 0, width = 0, channels = 0;
    char source[1024];
    if (args.idx_images) {
      height = static_cast<int>(idx_sizes[1]);
      width = static_cast<int>(idx_sizes[2]);
      channels = 1;
      if (std::fread(pixels.data(), 1, largest, idx_file.get()) != largest) {
        std::fprintf(stderr, "classify_many: %s: truncated at image %ld\n", args.idx_images, n);
        return 1;
      }
      std::snprintf(source, sizeof source, "%s[%ld]", base_name(args.idx_images), n);
    } else {
      const char* path = args.images[static_cast<std::size_t>(n)];
      PnmHeader header;
      const File f = open_pnm(path, &header);
      if (!f) return 1;
      height = header.height;
      width = header.width;
      channels = header.channels;
      const std::size_t bytes = header.bytes();
      if (std::fread(pixels.data(), 1, bytes, f.get()) != bytes) {
        std::fprintf(stderr, "classify_many: %s: truncated pixel data\n", path);
        return 1;
      }
      if (header.maxval != 255) {
        for (std::size_t i = 0; i < bytes; ++i) {
          const int v = std::min<int>(pixels[i], header.maxval);
          pixels[i] = static_cast<std::uint8_t>(v * 255 / header.maxval);
        }
      }
      std::snprintf(source, sizeof source, "%s", base_name(path));
    }

    if (gnrt_status s = gnrt_plan_set_input_image_u8(plan.get(), pixels.data(), height, width, channels);
        s != GNRT_OK)
      return fail("setting the input", s);
    if (gnrt_status s = gnrt_plan_run(plan.get()); s != GNRT_OK) return fail("running", s);
    if (gnrt_status s = gnrt_plan_get_output(plan.get(), scores.data(), scores.size()); s != GNRT_OK)
      return fail("reading the output", s);
    top_k(scores, order, k);

    if (label_file) {
      const int truth = std::fgetc(label_file.get());
      if (truth == EOF) {
        std::fprintf(stderr, "classify_many: %s: truncated at label %ld\n", args.idx_labels, n);
        return 1;
      }
      const std::size_t tail = std::strlen(source);
      std::snprintf(source + tail, sizeof source - tail, " truth=%d", truth);
      top1 += order[0] == truth;
      top5 += std::find(order.begin(), order.begin() + k, truth) != order.begin() + k;
    }
    std::printf("%s:", source);
    for (int r = 0; r < k; ++r) {
      const int c = order[static_cast<std::size_t>(r)];
      const char* label = gnrt_model_label(model.get(), c);
      std::printf("%s %d %s %.4f", r ? " |" : "", c, label ? label : "-", scores[static_cast<std::size_t>(c)]);
    }
    std::printf("\n");
  }

  // 4. Nothing moved: the same buffers and the same arena served every image.
  const void* const buffers_after[3] = {pixels.data(), scores.data(), order.data()};
  int reallocations = gnrt_plan_arena_bytes(plan.get()) != arena_bytes;
  for (int i = 0; i < 3; ++i) reallocations += buffers_before[i] != buffers_after[i];
  std::printf("summary: images=%ld reallocations=%d arena_bytes=%zu", total, reallocations,
              gnrt_plan_arena_bytes(plan.get()));
  if (label_file) std::printf(" top1=%ld/%ld top5=%ld/%ld", top1, total, top5, total);
  std::printf("\n");
  return reallocations == 0 ? 0 : 1;
}
