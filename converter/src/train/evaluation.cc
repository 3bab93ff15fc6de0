#include "train/evaluation.h"

#include <cmath>

#include "dist/process_group.h"

namespace gnconvert {

namespace F = torch::nn::functional;

EvalResult evaluate(Session& s, const ImageSet& set, const std::vector<std::size_t>& indices) {
  torch::NoGradGuard no_grad;
  bool was_training = s.net->is_training();
  s.net->eval();
  EvalResult r;
  double loss_sum = 0;
  std::int64_t correct = 0;
  const std::size_t batch = static_cast<std::size_t>(std::max(1, s.run.eval_batch));
  // A rank's share: a contiguous slice (all of it without a group).
  const std::size_t world = static_cast<std::size_t>(s.world_size());
  const std::size_t rank = static_cast<std::size_t>(s.rank());
  const std::size_t first = indices.size() * rank / world;
  const std::size_t last = indices.size() * (rank + 1) / world;
  for (std::size_t begin = first; begin < last; begin += batch) {
    std::size_t end = std::min(last, begin + batch);
    auto x = make_batch(set, indices, begin, end, s.norm, s.data.height, s.data.width, nullptr, 0);
    auto y = make_labels(set, indices, begin, end);
    auto logits = s.net->forward(x);
    loss_sum += F::cross_entropy(logits, y, F::CrossEntropyFuncOptions().reduction(torch::kSum))
                    .item<double>();
    correct += logits.argmax(1).eq(y).sum().item<int64_t>();
  }
  s.net->train(was_training);
  if (s.group) {
    double sums[2] = {loss_sum, static_cast<double>(correct)};
    s.group->allreduce_sum(sums, 2, "evaluation");
    loss_sum = sums[0];
    correct = static_cast<std::int64_t>(std::llround(sums[1]));
  }
  r.count = static_cast<std::int64_t>(indices.size());
  if (r.count > 0) {
    r.loss = loss_sum / r.count;
    r.accuracy = static_cast<double>(correct) / r.count;
  }
  return r;
}

EvalResult evaluate_validation(Session& s) {
  return evaluate(s, s.dataset.train, s.split.validation);
}

EvalResult evaluate_test(Session& s) { return evaluate(s, s.dataset.test, s.test_indices); }

void recalibrate_batchnorm(Session& s, int batches) {
  torch::NoGradGuard no_grad;
  std::vector<torch::nn::BatchNorm2dImpl*> bns;
  for (auto& module : s.net->modules(/*include_self=*/false)) {
    if (auto* bn = module->as<torch::nn::BatchNorm2d>()) bns.push_back(bn);
  }
  std::vector<c10::optional<double>> momentum;
  for (auto* bn : bns) {
    momentum.push_back(bn->options.momentum());
    bn->options.momentum(c10::nullopt);  // cumulative average over the batches below
    bn->reset_running_stats();
  }
  bool was_training = s.net->is_training();
  s.net->train();
  const auto& indices = s.split.train;
  const std::size_t batch = static_cast<std::size_t>(std::max(1, s.optim.batch));
  // A fixed, seeded sample of the training split.
  auto order = epoch_order(indices, mix_seed(s.run.seed, 0xB4));
  std::size_t end_all = std::min(order.size(), batch * static_cast<std::size_t>(batches));
  for (std::size_t begin = 0; begin < end_all; begin += batch) {
    std::size_t end = std::min(end_all, begin + batch);
    if (end - begin < 2) break;
    auto x = make_batch(s.dataset.train, order, begin, end, s.norm, s.data.height, s.data.width,
                        nullptr, 0);
    s.net->forward_all(x, true);
  }
  s.net->train(was_training);
  for (std::size_t i = 0; i < bns.size(); ++i) bns[i]->options.momentum(momentum[i]);
}

}  // namespace gnconvert
