// gnrt run MODEL --input FILE: classify one PGM/PPM image or raw float32 NCHW tensor.
#include <algorithm>
#include <chrono>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_commands.h"
#include "cli_common.h"
#include "fileio.h"
#include "imageio.h"
#include "model_inspect.h"

namespace gnrt::cli {
namespace {

bool ends_with_f32(const std::string& path) {
  if (path.size() < 4) return false;
  std::string tail = path.substr(path.size() - 4);
  for (char& c : tail) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return tail == ".f32";
}

constexpr int kMaxSide = 16384;

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Per-operator medians over `runs` profiled runs (after two unprofiled warm-ups), and the median
// of the whole runs' wall time. The input stays what the classification used.
struct Profile {
  std::vector<std::string> names, kernels;
  std::vector<double> op_ms;
  double total_ms = 0.0;
};

Profile profile_plan(gnrt_plan* plan, int runs) {
  for (int i = 0; i < 2; ++i) check_status(gnrt_plan_run(plan), "inference failed");
  check_status(gnrt_plan_set_profiling(plan, 1), "cannot enable profiling");
  const int ops = gnrt_plan_num_operators(plan);
  std::vector<std::vector<double>> samples(static_cast<std::size_t>(std::max(ops, 0)));
  std::vector<double> totals;
  for (int r = 0; r < runs; ++r) {
    const auto start = std::chrono::steady_clock::now();
    check_status(gnrt_plan_run(plan), "inference failed");
    const auto stop = std::chrono::steady_clock::now();
    totals.push_back(std::chrono::duration<double, std::milli>(stop - start).count());
    for (int k = 0; k < ops; ++k)
      samples[static_cast<std::size_t>(k)].push_back(
          static_cast<double>(gnrt_plan_operator_nanoseconds(plan, k)) * 1e-6);
  }
  check_status(gnrt_plan_set_profiling(plan, 0), "cannot disable profiling");
  Profile p;
  for (int k = 0; k < ops; ++k) {
    const char* name = gnrt_plan_operator_name(plan, k);
    const char* kernel = gnrt_plan_operator_kernel(plan, k);
    p.names.push_back(name ? name : "");
    p.kernels.push_back(kernel ? kernel : "");
    p.op_ms.push_back(median(samples[static_cast<std::size_t>(k)]));
  }
  p.total_ms = median(totals);
  return p;
}

}  // namespace

int cmd_run(const RunArgs& args) {
  Model model(args.model);
  const ModelDetails details = inspect_model(tools::read_file(args.model), args.model);
  const bool raw = args.raw || ends_with_f32(args.input);
  const std::vector<std::uint8_t> input_bytes = tools::read_file(args.input);
  const std::string input_name = tools::printable(args.input);

  int height = args.size, width = args.size;
  if (raw && !args.raw_shape.empty()) {
    if (args.raw_shape.size() != 3) {
      throw CliError("--raw-shape needs three values C,H,W", kExitUsage);
    }
    const int c = args.raw_shape[0], h = args.raw_shape[1], w = args.raw_shape[2];
    if (c < 1 || h < 1 || w < 1 || h > kMaxSide || w > kMaxSide) {
      throw CliError(
          "--raw-shape values out of range (C >= 1, 1 <= H, W <= " + std::to_string(kMaxSide) + ")",
          kExitUsage);
    }
    if (c != model.info().input_channels) {
      throw CliError("--raw-shape has " + std::to_string(c) + " channels, the model takes " +
                         std::to_string(model.info().input_channels),
                     kExitUsage);
    }
    if (args.size != 0 && (h != args.size || w != args.size)) {
      throw CliError("--size " + std::to_string(args.size) + " conflicts with --raw-shape " +
                         std::to_string(c) + "," + std::to_string(h) + "," + std::to_string(w),
                     kExitUsage);
    }
    height = h;
    width = w;
  } else if (!raw && !args.raw_shape.empty()) {
    throw CliError("--raw-shape applies to raw float32 input only (use --raw or a .f32 file)",
                   kExitUsage);
  }

  // Decode before planning so a bad input file fails fast.
  tools::Image image;
  if (!raw) image = tools::decode_pnm(input_bytes.data(), input_bytes.size(), args.input);

  Plan plan(model, height, width, args.threads);
  if (raw) {
    const std::size_t count = plan.input_count();
    const int* d = plan.input_dims();
    if (input_bytes.size() != count * sizeof(float)) {
      throw CliError(input_name + ": raw input has " + std::to_string(input_bytes.size()) +
                     " bytes; shape " + std::to_string(d[1]) + "," + std::to_string(d[2]) + "," +
                     std::to_string(d[3]) + " needs " + std::to_string(count * sizeof(float)) +
                     " (float32, native byte order)");
    }
    std::vector<float> values(count);
    std::memcpy(values.data(), input_bytes.data(), input_bytes.size());
    check_status(gnrt_plan_set_input(plan.get(), values.data(), values.size()),
                 "cannot set the input");
  } else {
    check_status(gnrt_plan_set_input_image_u8(plan.get(), image.pixels.data(), image.height,
                                              image.width, image.channels),
                 "cannot set the input image");
  }
  check_status(gnrt_plan_run(plan.get()), "inference failed");
  std::vector<float> output(plan.output_count());
  check_status(gnrt_plan_get_output(plan.get(), output.data(), output.size()),
               "cannot read the output");
  const std::vector<float> probabilities = details.output_is_softmax ? output : softmax(output);
  const std::vector<int> top = top_k(probabilities, args.top);
  Profile profile;
  if (args.profile_runs > 0) profile = profile_plan(plan.get(), args.profile_runs);
  double op_sum = 0.0;
  for (double ms : profile.op_ms) op_sum += ms;

  if (args.json) {
    using nlohmann::json;
    json out;
    out["model"] = args.model;
    out["input"] = args.input;
    const int* d = plan.input_dims();
    out["input_shape"] = {d[0], d[1], d[2], d[3]};
    out["softmax_applied"] = !details.output_is_softmax;
    json entries = json::array();
    for (std::size_t r = 0; r < top.size(); ++r) {
      entries.push_back({{"rank", r + 1},
                         {"class", top[r]},
                         {"label", model.label(top[r])},
                         {"probability", probabilities[top[r]]}});
    }
    out["top"] = std::move(entries);
    if (args.profile_runs > 0) {
      json ops = json::array();
      for (std::size_t k = 0; k < profile.op_ms.size(); ++k) {
        ops.push_back({{"index", k},
                       {"name", profile.names[k]},
                       {"kernel", profile.kernels[k]},
                       {"median_ms", profile.op_ms[k]}});
      }
      out["profile"] = {{"runs", args.profile_runs},        {"threads", args.threads},
                        {"isa", gnrt_plan_isa(plan.get())}, {"run_median_ms", profile.total_ms},
                        {"operators_sum_ms", op_sum},       {"operators", std::move(ops)}};
    }
    std::printf("%s\n", out.dump(2, ' ', false, json::error_handler_t::replace).c_str());
    return kExitOk;
  }
  for (std::size_t r = 0; r < top.size(); ++r) {
    std::string label = tools::printable(model.label(top[r]));
    if (label.empty()) label = "-";
    std::printf("%zu %.4f %d %s\n", r + 1, double(probabilities[top[r]]), top[r], label.c_str());
  }
  if (args.profile_runs > 0) {
    std::printf("\nprofile: %d runs, %d thread(s), isa %s; median run %.3f ms, operators %.3f ms\n",
                args.profile_runs, args.threads, gnrt_plan_isa(plan.get()), profile.total_ms,
                op_sum);
    std::printf("%4s %-28s %-44s %9s %7s\n", "#", "operator", "kernel", "ms", "share%");
    for (std::size_t k = 0; k < profile.op_ms.size(); ++k) {
      std::printf("%4zu %-28s %-44s %9.4f %7.1f\n", k, tools::printable(profile.names[k]).c_str(),
                  profile.kernels[k].c_str(), profile.op_ms[k],
                  op_sum > 0 ? 100.0 * profile.op_ms[k] / op_sum : 0.0);
    }
  }
  return kExitOk;
}

}  // namespace gnrt::cli
