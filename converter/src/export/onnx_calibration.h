// Calibration of the int8 ONNX export (docs/onnx.md, "Export"): the decoded .gnrt graph run in
// float32 with LibTorch's functional operators on images preprocessed as libgnrt does, recording
// every tensor's range; and a check that this float graph computes what libgnrt computes.
#pragma once

#include <torch/torch.h>

#include <string>
#include <vector>

#include "data/dataset.h"
#include "export/onnx_export.h"

namespace gnrt {
struct Model;
}

namespace gnconvert {

// Images [N, C, H, W] as libgnrt's gnrt_plan_set_input_image_u8 prepares them: bilinear resize
// with half-pixel centres to the model's default size, gray <-> RGB as the model needs (BT.601),
// then (pixel / 255 - mean[c]) / std[c].
torch::Tensor preprocess_images(const gnrt::Model& model, const ImageSet& set,
                                const std::vector<std::size_t>& indices);

// Every tensor of the graph (indexed like gnrt::Model::tensors) for a batch of inputs.
std::vector<torch::Tensor> run_float_graph(const gnrt::Model& model, const torch::Tensor& input);

// Min/max over `images` of every tensor, in batches.
std::vector<TensorRange> calibrate_ranges(const gnrt::Model& model, const torch::Tensor& images);

// Runs the first `count` of `images` through libgnrt (the C API on the file at `path`) and
// through run_float_graph; returns the largest |difference| of the outputs divided by
// max(1, largest |output|). Throws std::runtime_error on libgnrt errors.
double compare_with_libgnrt(const std::string& path, const gnrt::Model& model,
                            const torch::Tensor& images, int count);

}  // namespace gnconvert
