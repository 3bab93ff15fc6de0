// An imported ONNX model that is one of gn-convert's two GoogLeNet layouts (gnrt/googlenet.h:
// torchvision's or Inception-v1) becomes a gn-convert checkpoint, so that it can be pruned,
// retrained and exported by gn-convert. The exporter has already folded BatchNorm into the
// convolutions: the checkpoint's BatchNorms are identities (scale 1, mean 0, variance 1 - eps)
// that carry the folded bias, and the ONNX zeros become masks (docs/onnx.md, "Import").
#pragma once

#include <string>

#include "import/onnx_import.h"
#include "util/options.h"

namespace gnconvert {

// "torchvision" or "inception_v1" when the imported graph is that layout exactly (same layers in
// the same order with the same shapes, and gnrt::build_googlenet's graph with these weights
// gives the same outputs in libgnrt on a random input); "" otherwise, with the reason in *why.
std::string match_googlenet_layout(const OnnxImportResult& imported, std::string* why);

struct OnnxCheckpointResult {
  std::string layout;
  int masked_layers = 0;
  double max_abs_diff = 0;  // LibTorch (checkpoint network) vs libgnrt (the import), one input
  double max_abs_logit = 0;
};

// Writes the checkpoint to `path` (atomically). `data` names the dataset that later prune / train
// commands use (its classes and channels must match the model). Throws std::runtime_error.
OnnxCheckpointResult write_onnx_checkpoint(const OnnxImportResult& imported,
                                           const std::string& layout, const DataOptions& data,
                                           const std::string& source, const std::string& path,
                                           const std::string& command_line);

}  // namespace gnconvert
