// Export: fold BatchNorm into the convolutions, drop the auxiliary heads and dropout, and write
// the deployed GoogLeNet through gnrt::build_googlenet; then load the bytes with libgnrt and
// compare its logits with LibTorch's.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gnrt/googlenet.h"
#include "train/session.h"

namespace gnconvert {

// BN-folded weights of every deployed layer, by canonical name (conv: OIHW + bias; fc: [out, in]
// + bias), as gnrt::build_googlenet asks for them. Throws if a name or shape does not match.
gnrt::WeightProvider folded_weights(GoogLeNet& net);

struct ExportSettings {
  bool softmax = true;
  bool float16 = false;
  std::string encoding = "auto";
  float test_accuracy = -1.0f;
};

std::vector<std::uint8_t> export_model(Session& session, const ExportSettings& settings);

struct VerifyResult {
  int images = 0;
  double max_abs_diff = 0;  // largest |libgnrt - LibTorch| over all logits
  double max_abs_logit = 0;
  int argmax_agree = 0;
};

// Runs `bytes` (a model with logits output) in libgnrt on images set[indices] and compares with
// the session's network in eval mode. Throws std::runtime_error on libgnrt errors.
VerifyResult verify_export(Session& session, const std::vector<std::uint8_t>& bytes,
                           const ImageSet& set, const std::vector<std::size_t>& indices,
                           bool softmax_output);

}  // namespace gnconvert
