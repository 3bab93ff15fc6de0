// Import of ONNX models (opset 7 and later, default domain) into sparse .gnrt files: the graph is
// read with Debian's libonnx protobuf classes and rebuilt with gnrt's ModelBuilder. Weights that
// are exactly zero become pruned (absent) entries, so models pruned by other tools (for example
// torch.nn.utils.prune, which exports dense tensors full of zeros) become sparse models.
// BatchNormalization is folded into the preceding Conv, Relu fused into the preceding Conv, Gemm,
// MatMul+Add or pooling, Identity and Dropout are dropped. Anything else is an error naming the
// node. No LibTorch (docs/onnx.md, "Import").
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace gnconvert {

struct OnnxImportSettings {
  int size = 0;                     // default H = W for a symbolic input (0: metadata, else 224)
  std::vector<float> mean, std;     // override gnrt.mean / gnrt.std
  std::vector<std::string> labels;  // override gnrt.labels
  std::string encoding = "auto";    // auto | sparse | dense
  bool float16 = false;
};

// One convolution or fully connected layer as written to the .gnrt (BatchNorm folded).
struct OnnxLayer {
  std::string name;  // the ONNX node's name (or "#<index>")
  bool is_fc = false;
  std::vector<int> shape;      // conv: O, I, kh, kw; fc: out, in
  std::vector<float> weights;  // OIHW / [out][in]
  std::vector<float> bias;     // out (zeros when the model has none)
  int stride = 1, pad = 0;     // conv, when square and symmetric (else -1)
};

struct OnnxImportResult {
  std::vector<std::uint8_t> bytes;  // the .gnrt file
  int channels = 0, height = 0, width = 0;
  std::string size_source;  // "graph", "metadata", "--size" or "default"
  int classes = 0;          // elements of the output
  bool softmax_output = false;
  std::vector<float> mean, std;
  std::string norm_source;  // "metadata", "options" or "none"
  std::vector<std::string> labels;
  int opset = 0;
  int nodes = 0;  // ONNX nodes read
  int folded_batchnorms = 0, fused_relus = 0, dropped = 0;
  std::uint64_t params = 0, nonzeros = 0;
  std::vector<OnnxLayer> layers;  // conv and fc layers in graph order
};

// Reads `bytes` (the contents of an .onnx file called `name` in messages) and builds the .gnrt.
// Throws std::runtime_error with a one-line message on malformed files, unsupported nodes or
// attributes (naming the node and its op_type) and shape mismatches.
OnnxImportResult import_onnx(const std::string& bytes, const std::string& name,
                             const OnnxImportSettings& settings);

}  // namespace gnconvert
