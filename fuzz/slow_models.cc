// Large adversarial models that libFuzzer cannot reach (megabytes, built with the raw FlatBuffers
// API), timed through load, plan and run. A manual tool for the "no file makes the runtime loop
// without end" goal of issue 7; the numbers are in docs/reliability.md.
//
//   fuzz_slow_models KIND N [WIDE]
//     concat   WIDE softmax ops on a 1x1x1 input, then N concats that all share one inputs vector
//              of those WIDE tensors (a few bytes per operator, WIDE inputs each)
//     chain    N single-input concats, each of the previous one (nested aliasing N deep)
//     softmax  N softmax ops in a chain (N arena buffers)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "gnrt/format_version.h"
#include "gnrt/gnrt.h"
#include "gnrt/gnrt_generated.h"

namespace {

namespace fb = gnrt::fb;

std::vector<std::uint8_t> build(const std::string& kind, int n, int wide) {
  flatbuffers::FlatBufferBuilder b(1 << 20);
  std::vector<flatbuffers::Offset<fb::Tensor>> tensors;
  std::vector<flatbuffers::Offset<fb::Operator>> ops;
  // Shared sub-objects keep the file small: that is the point of these models.
  const auto shape1 = b.CreateVector(std::vector<int>{1, 1, 1, 1});
  const auto softmax = fb::CreateSoftmaxOptions(b, 1.0f).Union();
  const auto concat = fb::CreateConcatOptions(b, 1).Union();
  auto add_op = [&](flatbuffers::Offset<flatbuffers::Vector<int>> inputs, int output,
                    bool is_concat) {
    ops.push_back(fb::CreateOperator(
        b, 0, inputs, b.CreateVector(std::vector<int>{output}),
        is_concat ? fb::OperatorOptions::ConcatOptions : fb::OperatorOptions::SoftmaxOptions,
        is_concat ? concat : softmax));
  };
  tensors.push_back(fb::CreateTensor(b, 0, shape1));  // the graph input
  int last = 0;
  if (kind == "concat") {
    std::vector<int> parts;
    for (int i = 0; i < wide; ++i) {
      tensors.push_back(fb::CreateTensor(b, 0, shape1));
      last = static_cast<int>(tensors.size()) - 1;
      add_op(b.CreateVector(std::vector<int>{0}), last, false);
      parts.push_back(last);
    }
    const auto shape_wide = b.CreateVector(std::vector<int>{1, wide, 1, 1});
    const auto inputs = b.CreateVector(parts);
    for (int i = 0; i < n; ++i) {
      tensors.push_back(fb::CreateTensor(b, 0, shape_wide));
      last = static_cast<int>(tensors.size()) - 1;
      add_op(inputs, last, true);
    }
  } else {
    const bool is_concat = kind == "chain";
    for (int i = 0; i < n; ++i) {
      tensors.push_back(fb::CreateTensor(b, 0, shape1));
      add_op(b.CreateVector(std::vector<int>{last}), last + 1, is_concat);
      ++last;
    }
  }
  const auto model =
      fb::CreateModel(b, gnrt::kFormatVersion, 0, b.CreateVector(tensors), b.CreateVector(ops),
                      b.CreateVector(std::vector<int>{0}), b.CreateVector(std::vector<int>{last}));
  fb::FinishModelBuffer(b, model);
  return std::vector<std::uint8_t>(b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize());
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3 || (std::string(argv[1]) != "concat" && std::string(argv[1]) != "chain" &&
                   std::string(argv[1]) != "softmax")) {
    std::fprintf(stderr, "usage: %s concat|chain|softmax N [WIDE]\n", argv[0]);
    return 2;
  }
  const int n = std::atoi(argv[2]);
  const int wide = argc > 3 ? std::atoi(argv[3]) : 1024;
  const std::vector<std::uint8_t> bytes = build(argv[1], n, wide);
  std::vector<std::uint64_t> aligned(bytes.size() / 8 + 1);
  std::memcpy(aligned.data(), bytes.data(), bytes.size());

  auto start = std::chrono::steady_clock::now();
  gnrt_model* model = nullptr;
  gnrt_status s = gnrt_model_load_buffer(aligned.data(), bytes.size(), &model);
  std::printf("%zu bytes: load %s in %.3f s\n", bytes.size(), gnrt_status_string(s),
              seconds_since(start));
  if (s != GNRT_OK) {
    std::printf("  %s\n", gnrt_last_error());
    return 0;
  }
  start = std::chrono::steady_clock::now();
  gnrt_plan* plan = nullptr;
  s = gnrt_plan_create(model, nullptr, &plan);
  std::printf("plan %s in %.3f s\n", gnrt_status_string(s), seconds_since(start));
  if (s == GNRT_OK) {
    const float x = 1.0f;
    start = std::chrono::steady_clock::now();
    if (gnrt_plan_set_input(plan, &x, 1) == GNRT_OK) s = gnrt_plan_run(plan);
    std::printf("run %s in %.3f s\n", gnrt_status_string(s), seconds_since(start));
    gnrt_plan_destroy(plan);
  } else {
    std::printf("  %s\n", gnrt_last_error());
  }
  gnrt_model_destroy(model);
  return 0;
}
