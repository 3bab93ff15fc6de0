// Import of torchvision GoogLeNets saved as TorchScript (torch.jit.script or torch.jit.trace)
// into a gn-convert session: the parameters and BatchNorm buffers are mapped onto a GoogLeNet in
// the "torchvision" layout (gnrt/googlenet.h), every shape is checked, and the module's own
// outputs are compared with the imported network's before anything is written.
#pragma once

#include <string>

#include "train/session.h"
#include "util/options.h"

namespace gnconvert {

// gn-convert's name of a torchvision GoogLeNet parameter or buffer:
//   inception3a.branch1.*   -> inception3a.b1.*
//   inception3a.branch2.0.* -> inception3a.b2_reduce.*,  .branch2.1.* -> .b2.*
//   inception3a.branch3.0.* -> inception3a.b3_reduce.*,  .branch3.1.* -> .b3.*
//   inception3a.branch4.1.* -> inception3a.b4.*
// and every other name (conv1.conv.weight, conv1.bn.running_var, aux1.fc1.weight, fc.bias, ...)
// unchanged. The inverse maps gn-convert's names back.
std::string from_torchvision_name(const std::string& name);
std::string to_torchvision_name(const std::string& name);

// torchvision's transform_input, x_c -> x_c * scale_c + shift_c on ImageNet-normalized input,
// folded into a normalization (mean, std): mean_c - shift_c * std_c / scale_c, std_c / scale_c.
// Exact, because normalization happens before the first convolution's zero padding.
Normalization fold_transform_input(const Normalization& norm);

struct ImportResult {
  int in_channels = 0;
  int classes = 0;
  bool aux_heads = false;
  bool transform_input = false;  // folded into session.norm
  Normalization dataset_norm;    // before folding (the dataset's, or --mean / --std)
  std::string transform_source;  // "module" (scripted constant), "outputs" (detected), "option"
  int tensors = 0;               // parameters and buffers copied
  int images = 0;                // images compared with the TorchScript module
  double max_abs_diff = 0;       // largest |module - imported| logit difference over them
  double max_abs_logit = 0;
};

// Loads options.model, checks it against options (classes, channels) and the dataset in
// session.data (loaded here: split and normalization as `train` computes them, or options.mean /
// options.std), and leaves the imported network in session.net and the normalization in
// session.norm. Throws std::runtime_error / DataError with one-line messages.
ImportResult import_torchscript(Session& session, const ImportOptions& options);

}  // namespace gnconvert
