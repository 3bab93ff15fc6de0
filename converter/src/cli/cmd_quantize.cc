// gn-convert quantize: post-training int8 quantization of a float .gnrt model into a format 1.1
// int8 .gnrt file (docs/converter.md, "quantize"): min/max calibration on Fashion-MNIST training
// images, the int8 graph re-emitted with ModelBuilder, fp32 and int8 accuracies on test images
// (the int8 one computed by run_int8_graph from the written file's own values), a JSON report.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "cli/command.h"
#include "data/dataset.h"
#include "export/int8_graph.h"
#include "export/onnx_calibration.h"
#include "export/quantize.h"
#include "model.h"  // the runtime's decoder (gnrt_runtime_internals)
#include "train/session.h"
#include "util/files.h"

namespace gnconvert {
namespace {

using json = nlohmann::json;

struct QuantizeOptions {
  std::string model;
  std::string data_dir;
  std::string output;
  std::string report;
  int calibration_images = 1000;
  int eval_images = 10000;
  // One: the graphs are many small LibTorch operators, and with two OpenMP threads on a loaded
  // 2-core machine the waiting at every operator's barrier made them 11x slower (measured).
  int threads = 1;
};

// `count` training images spread evenly over the whole training set.
std::vector<std::size_t> spread_indices(std::size_t available, int count) {
  if (available == 0) throw std::runtime_error("the calibration set has no images");
  const std::size_t n = std::min(available, static_cast<std::size_t>(count));
  std::vector<std::size_t> indices(n);
  for (std::size_t i = 0; i < n; ++i) indices[i] = i * available / n;
  return indices;
}

std::string base_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

void load(const std::string& path, const std::vector<std::uint8_t>* bytes, gnrt::Model* model) {
  const gnrt::Status status = bytes ? gnrt::load_model(bytes->data(), bytes->size(), model)
                                    : gnrt::load_model_file(path.c_str(), model);
  if (!status.ok()) throw std::runtime_error("cannot load " + path + ": " + status.message);
}

struct Accuracy {
  std::size_t images = 0;
  std::size_t fp32_correct = 0, int8_correct = 0, agree = 0;
  double largest_logit_difference = 0;  // |int8 - fp32| over all logits
  double largest_logit = 0;             // |fp32|
};

Accuracy evaluate(const gnrt::Model& float_model, const gnrt::Model& int8_model,
                  const ImageSet& test, int count) {
  Accuracy a;
  const std::size_t n = std::min(test.size(), static_cast<std::size_t>(count));
  constexpr std::size_t kBatch = 100;
  for (std::size_t start = 0; start < n; start += kBatch) {
    std::vector<std::size_t> indices;
    for (std::size_t i = start; i < std::min(n, start + kBatch); ++i) indices.push_back(i);
    const torch::Tensor x = preprocess_images(float_model, test, indices);
    const torch::Tensor f = graph_logits(float_model, run_float_graph(float_model, x));
    const torch::Tensor q = run_int8_graph(int8_model, x);
    const torch::Tensor fp = f.argmax(1), qp = q.argmax(1);
    for (std::size_t i = 0; i < indices.size(); ++i) {
      const int label = test.labels[indices[i]];
      const int64_t fi = fp[static_cast<int64_t>(i)].item<int64_t>();
      const int64_t qi = qp[static_cast<int64_t>(i)].item<int64_t>();
      a.fp32_correct += fi == label;
      a.int8_correct += qi == label;
      a.agree += fi == qi;
    }
    a.largest_logit_difference =
        std::max(a.largest_logit_difference, (q - f).abs().max().item<double>());
    a.largest_logit = std::max(a.largest_logit, f.abs().max().item<double>());
    a.images += indices.size();
  }
  return a;
}

const char* precision(const gnrt::Model& m, const gnrt::OpDesc& op) {
  if (op.type == gnrt::OpType::kConv2D || op.type == gnrt::OpType::kFullyConnected)
    return op.weights.int8 ? "int8" : (op.weights.float16 ? "fp16" : "fp32");
  return m.tensors[static_cast<std::size_t>(op.output)].quantized ? "uint8" : "fp32";
}

json tensor_json(const gnrt::TensorDesc& t) {
  json j = {{"name", t.name}, {"quantized", t.quantized}};
  if (t.quantized) {
    j["scale"] = t.scale;
    j["zero_point"] = t.zero_point;
  }
  return j;
}

json layers_json(const gnrt::Model& float_model, const gnrt::Model& m) {
  json layers = json::array();
  for (std::size_t i = 0; i < m.ops.size(); ++i) {
    const gnrt::OpDesc& op = m.ops[i];
    json l = {{"name", op.name},
              {"type", gnrt::op_type_name(op.type)},
              {"precision", precision(m, op)},
              {"input", tensor_json(m.tensors[static_cast<std::size_t>(op.inputs.at(0))])},
              {"output", tensor_json(m.tensors[static_cast<std::size_t>(op.output)])}};
    if (op.type == gnrt::OpType::kConv2D || op.type == gnrt::OpType::kFullyConnected) {
      const gnrt::WeightRef& w = op.weights;
      float lo = w.scales[0], hi = w.scales[0];
      for (int o = 0; o < w.rows; ++o) {
        lo = std::min(lo, w.scales[o]);
        hi = std::max(hi, w.scales[o]);
      }
      l["weight_scale_min"] = lo;
      l["weight_scale_max"] = hi;
      l["encoding"] = w.sparse ? "sparse" : "dense";
      l["block_size"] = w.block_size;
      l["stored_weights"] = w.nonzeros;
      l["stored_bytes"] = w.stored_bytes;
      l["float_stored_bytes"] = float_model.ops.at(i).weights.stored_bytes;
    }
    layers.push_back(l);
  }
  return layers;
}

double percent(std::size_t part, std::size_t whole) {
  return whole ? 100.0 * static_cast<double>(part) / static_cast<double>(whole) : 0.0;
}

int run_quantize(const QuantizeOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  set_threads(o.threads);
  gnrt::Model float_model;
  load(o.model, nullptr, &float_model);
  if (float_model.int8)
    throw std::runtime_error(o.model + " is already an int8 model (format 1.1); quantize takes a "
                             "float (fp32/fp16) .gnrt model");
  const Dataset data = load_dataset("fashion-mnist", o.data_dir);

  // Calibration: min/max of every tensor of the float graph over training images.
  const auto indices = spread_indices(data.train.size(), o.calibration_images);
  const torch::Tensor images = preprocess_images(float_model, data.train, indices);
  // The ranges are only right if the float graph is the one libgnrt runs.
  const double difference = compare_with_libgnrt(o.model, float_model, images, 4);
  if (!(difference <= 1e-4))
    throw std::runtime_error("the calibration graph does not match libgnrt (difference " +
                             std::to_string(difference) + ")");
  const std::vector<ActivationQuant> quant =
      int8_activation_quantization(float_model, calibrate_ranges(float_model, images));
  std::printf("calibrated on %zu training images (float graph vs libgnrt: %.3g)\n",
              indices.size(), difference);

  QuantizeSettings settings;
  settings.description =
      "int8 post-training quantization (gn-convert quantize) of " + base_name(o.model) +
      ": min/max over " +
      std::to_string(indices.size()) +
      " Fashion-MNIST training images (evenly spaced); uint8 asymmetric per-tensor activations, "
      "int8 symmetric per-channel weights, int32 bias";
  if (const gnrt::fb::Metadata* md = float_model.root->metadata(); md && md->description())
    settings.description += ". Float model: " + md->description()->str();
  std::vector<std::uint8_t> bytes = build_int8_model(float_model, quant, settings);
  auto int8_model = std::make_unique<gnrt::Model>();
  load(o.output + " (int8, in memory)", &bytes, int8_model.get());

  Accuracy acc;
  if (o.eval_images > 0) {
    acc = evaluate(float_model, *int8_model, data.test, o.eval_images);
    std::printf("accuracy on %zu test images: fp32 %.2f%%, int8 %.2f%% (top-1 agreement %.2f%%)\n",
                acc.images, percent(acc.fp32_correct, acc.images),
                percent(acc.int8_correct, acc.images), percent(acc.agree, acc.images));
    if (acc.images == data.test.size()) {
      // The file records the int8 test accuracy it was measured to have (whole test set only).
      settings.test_accuracy =
          static_cast<float>(static_cast<double>(acc.int8_correct) / acc.images);
      std::vector<std::uint8_t> final_bytes = build_int8_model(float_model, quant, settings);
      auto final_model = std::make_unique<gnrt::Model>();
      load(o.output + " (int8, in memory)", &final_bytes, final_model.get());
      bytes.swap(final_bytes);
      int8_model = std::move(final_model);
    }
  }
  write_file_atomic(o.output, std::string(bytes.begin(), bytes.end()));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("wrote %s: %zu bytes (float %zu bytes, %.2fx smaller), %zu operators, %.1f s\n",
              o.output.c_str(), bytes.size(), float_model.size,
              static_cast<double>(float_model.size) / static_cast<double>(bytes.size()),
              int8_model->ops.size(), seconds);

  if (!o.report.empty()) {
    json r = {{"input", o.model},
              {"output", o.output},
              {"dataset", "fashion-mnist"},
              {"data_dir", o.data_dir},
              {"calibration_images", indices.size()},
              {"calibration", "min/max over evenly spaced training images; concat inputs/output "
                              "and pool input/output share one range; ranges include 0"},
              {"calibration_graph_vs_libgnrt", difference},
              {"input_bytes", float_model.size},
              {"output_bytes", bytes.size()},
              {"seconds", seconds},
              {"eval_images", acc.images},
              {"layers", layers_json(float_model, *int8_model)}};
    if (acc.images > 0) {
      r["fp32_accuracy"] = static_cast<double>(acc.fp32_correct) / acc.images;
      r["int8_accuracy"] = static_cast<double>(acc.int8_correct) / acc.images;
      r["top1_agreement"] = static_cast<double>(acc.agree) / acc.images;
      r["largest_logit_difference"] = acc.largest_logit_difference;
      r["largest_fp32_logit"] = acc.largest_logit;
    } else {
      r["fp32_accuracy"] = nullptr;
      r["int8_accuracy"] = nullptr;
    }
    write_file_atomic(o.report, r.dump(2) + "\n");
    std::printf("wrote %s\n", o.report.c_str());
  }
  return 0;
}

}  // namespace

Command add_quantize_command(CLI::App& app) {
  auto o = std::make_shared<QuantizeOptions>();
  auto* cmd = app.add_subcommand(
      "quantize", "post-training int8 quantization of a float .gnrt model (format 1.1 output)");
  cmd->add_option("model", o->model, "float .gnrt model")->required()->check(CLI::ExistingFile);
  cmd->add_option("--fashion-mnist", o->data_dir,
                  "Fashion-MNIST directory (calibration: training set; accuracy: test set)")
      ->required();
  cmd->add_option("-o,--output", o->output, "output int8 .gnrt file")->required();
  cmd->add_option("--calibration-images", o->calibration_images,
                  "training images (evenly spaced) for the min/max calibration")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  cmd->add_option("--eval-images", o->eval_images,
                  "test images for the fp32 and int8 accuracies (0: skip)")
      ->check(CLI::Range(0, 1000000))
      ->capture_default_str();
  cmd->add_option("--report", o->report, "JSON report (accuracies, sizes, per-layer parameters)");
  cmd->add_option("--threads", o->threads, "torch threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  Command c;
  c.app = cmd;
  c.check = [o]() -> std::string {
    if (o->output == o->model) return "-o must not be the input model";
    return "";
  };
  c.run = [o](const std::string&) { return run_quantize(*o); };
  return c;
}

}  // namespace gnconvert
