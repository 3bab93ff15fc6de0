#include "train/distill.h"

#include <chrono>
#include <stdexcept>

#include "train/checkpoint.h"
#include "train/session.h"

namespace gnconvert {

namespace F = torch::nn::functional;

void Distiller::load_teacher(Session& s) {
  path_ = settings_.teacher;
  if (path_ == "from") {
    if (!s.extra.contains("from") || !s.extra["from"].is_string())
      throw std::runtime_error(
          "distillation: teacher \"from\" but the run has no --from checkpoint");
    path_ = s.extra["from"].get<std::string>();
  }
  Session t;
  t.model.in_channels = s.model.in_channels;
  t.model.classes = s.model.classes;
  t.group = s.group;  // rank 0 reads the file for the group, like every checkpoint
  load_checkpoint(t, path_, /*weights_only=*/true);
  if (t.model.layout != s.model.layout)
    throw std::runtime_error("distillation: teacher " + path_ + " has layout " + t.model.layout +
                             ", the student " + s.model.layout);
  teacher_ = t.net;
  teacher_->eval();
  for (auto& p : teacher_->parameters()) p.set_requires_grad(false);
  log_line(s, "distillation: teacher " + path_ + ", temperature " +
                  std::to_string(settings_.temperature) + ", weight " +
                  std::to_string(settings_.weight));
}

torch::Tensor Distiller::loss(Session& s, const torch::Tensor& x,
                              const torch::Tensor& student_logits, const torch::Tensor& y) {
  if (!teacher_) load_teacher(s);
  const auto start = std::chrono::steady_clock::now();
  torch::Tensor teacher_logits;
  {
    torch::NoGradGuard no_grad;
    teacher_logits = teacher_->forward(x);
  }
  seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ++batches_;
  const double t = settings_.temperature, w = settings_.weight;
  torch::Tensor hard = F::cross_entropy(student_logits, y);
  if (w == 0.0) return hard;
  // KL(p_teacher || p_student) at temperature T, averaged over the batch.
  torch::Tensor soft = F::kl_div(F::log_softmax(student_logits / t, F::LogSoftmaxFuncOptions(1)),
                                 F::softmax(teacher_logits / t, F::SoftmaxFuncOptions(1)),
                                 F::KLDivFuncOptions().reduction(torch::kBatchMean));
  return hard * (1.0 - w) + soft * (w * t * t);
}

}  // namespace gnconvert
