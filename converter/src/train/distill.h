// Knowledge distillation in retraining (recipe key "distillation", docs/converter.md): a frozen
// teacher (the dense model, or any gn-convert checkpoint of the same GoogLeNet) sees the same
// augmented batch as the student, in eval mode and without gradients, and the main head's loss
// becomes
//   (1 - weight) * CE(student, labels) + weight * T^2 * KL(softmax(teacher / T) || softmax(student / T))
// (Hinton et al. 2015); the auxiliary heads keep their hard-label loss. The teacher is loaded on
// first use, so a resumed run loads it again; its forward time is counted for the report.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>

#include "model/googlenet.h"

namespace gnconvert {

struct Session;

struct DistillSettings {
  std::string teacher;  // checkpoint path; "from": the run's --from checkpoint
  double temperature = 4.0;
  double weight = 0.5;
};

class Distiller {
 public:
  explicit Distiller(DistillSettings settings) : settings_(std::move(settings)) {}

  // The main head's loss for `student_logits` on the batch `x` with labels `y`.
  torch::Tensor loss(Session& s, const torch::Tensor& x, const torch::Tensor& student_logits,
                     const torch::Tensor& y);

  const DistillSettings& settings() const { return settings_; }
  const std::string& teacher_path() const { return path_; }
  double teacher_seconds() const { return seconds_; }  // in this process
  long long teacher_batches() const { return batches_; }

 private:
  void load_teacher(Session& s);

  DistillSettings settings_;
  std::string path_;
  GoogLeNet teacher_{nullptr};
  double seconds_ = 0.0;
  long long batches_ = 0;
};

}  // namespace gnconvert
