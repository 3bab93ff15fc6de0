// gn-convert export-onnx: a .gnrt file (the deployed graph) as an ONNX opset-13 model, float32 or
// static QDQ int8 calibrated on training images (docs/onnx.md, "Export").
#include <chrono>
#include <cstdio>
#include <memory>
#include <stdexcept>

#include "cli/command.h"
#include "data/dataset.h"
#include "export/onnx_calibration.h"
#include "export/onnx_export.h"
#include "model.h"  // the runtime's decoder (gnrt_runtime_internals)
#include "train/session.h"
#include "util/files.h"

namespace gnconvert {
namespace {

struct ExportOnnxOptions {
  std::string model;
  std::string output;
  bool int8 = false;
  int calibration_images = 256;
  std::string dataset = "fashion-mnist";
  std::string data_dir;
  int threads = 2;
};

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// Calibration images: `count` training images spread evenly over the whole training set.
std::vector<std::size_t> calibration_indices(std::size_t available, int count) {
  if (available == 0) throw std::runtime_error("the calibration set has no images");
  const std::size_t n = std::min(available, static_cast<std::size_t>(count));
  std::vector<std::size_t> indices(n);
  for (std::size_t i = 0; i < n; ++i) indices[i] = i * available / n;
  return indices;
}

void calibrate(const ExportOnnxOptions& o, const gnrt::Model& model, OnnxExportSettings* s) {
  const Dataset data = load_dataset(o.dataset, o.data_dir);
  const auto indices = calibration_indices(data.train.size(), o.calibration_images);
  const torch::Tensor images = preprocess_images(model, data.train, indices);
  // The ranges are only right if the float graph is the one libgnrt runs.
  const double difference = compare_with_libgnrt(o.model, model, images, 4);
  std::printf("calibration graph vs libgnrt: largest relative output difference %.3g\n",
              difference);
  if (!(difference <= 1e-4))
    throw std::runtime_error("the calibration graph does not match libgnrt (difference " +
                             std::to_string(difference) + ")");
  s->ranges = calibrate_ranges(model, images);
  s->calibration = "min/max over " + std::to_string(indices.size()) + " " + o.dataset +
                   " training images (evenly spaced) at " + std::to_string(model.default_height) +
                   "x" + std::to_string(model.default_width) +
                   "; uint8 asymmetric per-tensor activations, one range per concat group and "
                   "per max pool; int8 symmetric per-channel weights [-127,127]; int32 bias";
}

int run_export_onnx(const ExportOnnxOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  set_threads(o.threads);
  gnrt::Model model;
  const gnrt::Status status = gnrt::load_model_file(o.model.c_str(), &model);
  if (!status.ok()) throw std::runtime_error("cannot load " + o.model + ": " + status.message);

  OnnxExportSettings settings;
  settings.source_name = base_name(o.model);
  settings.int8 = o.int8;
  if (o.int8) calibrate(o, model, &settings);
  const std::string bytes = export_onnx(model, settings);
  write_file_atomic(o.output, bytes);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("wrote %s: %zu bytes, %s, opset 13, %zu operators, %.2f s\n", o.output.c_str(),
              bytes.size(), o.int8 ? "int8-qdq" : "fp32", model.ops.size(), seconds);
  return 0;
}

}  // namespace

Command add_export_onnx_command(CLI::App& app) {
  auto o = std::make_shared<ExportOnnxOptions>();
  auto* cmd = app.add_subcommand("export-onnx", "write a .gnrt model as ONNX (fp32 or int8 QDQ)");
  cmd->add_option("--model", o->model, ".gnrt model")->required()->check(CLI::ExistingFile);
  cmd->add_option("-o,--output", o->output, "output .onnx file")->required();
  cmd->add_flag("--int8", o->int8, "static QDQ int8 (calibrated on training images)");
  auto* images = cmd->add_option("--calibration-images", o->calibration_images,
                                 "training images for the int8 calibration")
                     ->check(CLI::Range(1, 1000000))
                     ->capture_default_str();
  auto* dataset = cmd->add_option("--dataset", o->dataset, "fashion-mnist | mnist | cifar10")
                      ->check(CLI::IsMember({"fashion-mnist", "mnist", "cifar10"}))
                      ->capture_default_str();
  auto* data_dir =
      cmd->add_option("--data-dir", o->data_dir, "dataset directory (default: the dataset's own)");
  cmd->add_option("--threads", o->threads, "torch threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();

  Command c;
  c.app = cmd;
  c.check = [o, images, dataset, data_dir]() -> std::string {
    if (!o->int8 && (images->count() || dataset->count() || data_dir->count()))
      return "--calibration-images, --dataset and --data-dir need --int8";
    return "";
  };
  c.run = [o](const std::string&) { return run_export_onnx(*o); };
  return c;
}

}  // namespace gnconvert
