#include "train/data_parallel.h"

#include <cstdint>
#include <cstdio>
#include <cstring>

namespace gnconvert {

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

ProcessGroup* group_of(AutogradContext* ctx) {
  return reinterpret_cast<ProcessGroup*>(
      static_cast<std::intptr_t>(ctx->saved_data["group"].toInt()));
}

// y = (x - mean) * invstd * weight + bias with the global batch's mean and invstd; the backward
// pass needs the global sums of dy and dy * (x - mean), hence one all-reduce per layer.
struct SyncBatchNormFunction : torch::autograd::Function<SyncBatchNormFunction> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x,
                               const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& mean, const torch::Tensor& invstd,
                               double global_count, std::int64_t group) {
    ctx->save_for_backward({x, weight, mean, invstd});
    ctx->saved_data["count"] = global_count;
    ctx->saved_data["group"] = group;
    const std::int64_t c = x.size(1);
    auto scale = (invstd * weight).view({1, c, 1, 1});
    return (x - mean.view({1, c, 1, 1})) * scale + bias.view({1, c, 1, 1});
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    const auto& x = saved[0];
    const auto& weight = saved[1];
    const auto& mean = saved[2];
    const auto& invstd = saved[3];
    const double count = ctx->saved_data["count"].toDouble();
    ProcessGroup* group = group_of(ctx);
    const std::int64_t c = x.size(1);
    auto dy = grads[0].contiguous();
    auto xmu = x - mean.view({1, c, 1, 1});
    auto sum_dy = dy.sum({0, 2, 3}, false, torch::kDouble);
    auto sum_dy_xmu = (dy * xmu).sum({0, 2, 3}, false, torch::kDouble);
    auto both = torch::cat({sum_dy, sum_dy_xmu}).contiguous();
    group->allreduce_sum(both.data_ptr<double>(), static_cast<std::size_t>(2 * c),
                         "BatchNorm backward");
    auto invstd_d = invstd.to(torch::kDouble);
    auto mean_dy = (both.narrow(0, 0, c) / count).to(torch::kFloat);
    auto projection = (both.narrow(0, c, c) / count * invstd_d * invstd_d).to(torch::kFloat);
    auto dx = (dy - mean_dy.view({1, c, 1, 1}) - xmu * projection.view({1, c, 1, 1})) *
              (invstd * weight).view({1, c, 1, 1});
    // This rank's share of the parameter gradients; average_gradients combines them.
    auto dweight = (sum_dy_xmu * invstd_d).to(torch::kFloat);
    auto dbias = sum_dy.to(torch::kFloat);
    return {dx, dweight, dbias, torch::Tensor(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

torch::Tensor sync_batch_norm(ProcessGroup& group, torch::nn::BatchNorm2dImpl& bn,
                              const torch::Tensor& x) {
  const std::int64_t c = x.size(1);
  const int world = group.size();
  torch::Tensor mean, invstd;
  double global_count = 0;
  {
    torch::NoGradGuard no_grad;
    // Per rank: count, sum and squared deviations from the local mean, in double.
    auto xd = x.detach().to(torch::kDouble);
    const double local_count = static_cast<double>(x.numel() / c);
    auto sum = xd.sum({0, 2, 3});
    auto local_mean = sum / local_count;
    auto m2 = (xd - local_mean.view({1, c, 1, 1})).square().sum({0, 2, 3});
    std::vector<double> mine(static_cast<std::size_t>(1 + 2 * c));
    mine[0] = local_count;
    std::memcpy(&mine[1], sum.contiguous().data_ptr<double>(), sizeof(double) * c);
    std::memcpy(&mine[1 + c], m2.contiguous().data_ptr<double>(), sizeof(double) * c);
    std::vector<double> all(mine.size() * world);
    group.allgather(mine.data(), mine.size(), all.data(), "BatchNorm statistics");
    // Chan et al.: M2 = sum_r M2_r + n_r (mean_r - mean)^2.
    std::vector<double> total_sum(c, 0.0), total_m2(c, 0.0);
    for (int r = 0; r < world; ++r) {
      const double* part = &all[r * mine.size()];
      global_count += part[0];
      for (std::int64_t k = 0; k < c; ++k) total_sum[k] += part[1 + k];
    }
    std::vector<double> global_mean(c);
    for (std::int64_t k = 0; k < c; ++k) global_mean[k] = total_sum[k] / global_count;
    for (int r = 0; r < world; ++r) {
      const double* part = &all[r * mine.size()];
      for (std::int64_t k = 0; k < c; ++k) {
        const double d = part[1 + k] / part[0] - global_mean[k];
        total_m2[k] += part[1 + c + k] + part[0] * d * d;
      }
    }
    auto options = torch::TensorOptions().dtype(torch::kDouble);
    auto mean_d = torch::from_blob(global_mean.data(), {c}, options).clone();
    auto var_d = torch::from_blob(total_m2.data(), {c}, options).clone() / global_count;
    mean = mean_d.to(torch::kFloat);
    invstd = (var_d + bn.options.eps()).rsqrt().to(torch::kFloat);

    // Running statistics, as LibTorch's BatchNorm updates them (unbiased variance).
    if (bn.options.track_running_stats()) {
      double factor = bn.options.momentum().has_value() ? *bn.options.momentum() : 0.0;
      if (bn.num_batches_tracked.defined()) {
        bn.num_batches_tracked += 1;
        if (!bn.options.momentum().has_value()) {
          factor = 1.0 / bn.num_batches_tracked.item<double>();
        }
      }
      auto unbiased = (var_d * (global_count / std::max(1.0, global_count - 1))).to(torch::kFloat);
      bn.running_mean.mul_(1.0 - factor).add_(mean, factor);
      bn.running_var.mul_(1.0 - factor).add_(unbiased, factor);
    }
  }
  return SyncBatchNormFunction::apply(
      x, bn.weight, bn.bias, mean, invstd, global_count,
      static_cast<std::int64_t>(reinterpret_cast<std::intptr_t>(&group)));
}

// torch::dropout on the whole global batch (the same generator draws, in the same order, as one
// process makes), applied to this rank's rows.
torch::Tensor global_dropout(const torch::Tensor& x, double p, int rank, int world) {
  if (p <= 0) return x;
  if (p >= 1) return x * torch::zeros({}, x.options());
  const std::int64_t local = x.size(0);
  auto shape = x.sizes().vec();
  shape[0] = local * world;
  auto noise = torch::empty(shape, x.options());
  noise.bernoulli_(1 - p);
  noise.div_(1 - p);
  return x * noise.narrow(0, rank * local, local);
}

std::uint64_t digest(GoogLeNet& net) {
  std::uint64_t h = 1469598103934665603ull;
  auto eat = [&h](const torch::Tensor& t) {
    auto c = t.detach().contiguous();
    const auto* p = static_cast<const unsigned char*>(c.data_ptr());
    const std::size_t n = static_cast<std::size_t>(c.numel()) * c.element_size();
    // 8 bytes at a time: a consistency check, not a published digest.
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::uint64_t w;
      std::memcpy(&w, p + i, 8);
      h = (h ^ w) * 1099511628211ull;
    }
    for (; i < n; ++i) h = (h ^ p[i]) * 1099511628211ull;
  };
  for (const auto& p : net->parameters()) eat(p);
  for (const auto& b : net->buffers()) eat(b);
  return h;
}

}  // namespace

ForwardHooks data_parallel_hooks(ProcessGroup& group) {
  ForwardHooks hooks;
  hooks.batch_norm = [&group](torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& x) {
    return sync_batch_norm(group, bn, x);
  };
  hooks.dropout = [&group](const torch::Tensor& x, double p) {
    return global_dropout(x, p, group.rank(), group.size());
  };
  return hooks;
}

void average_gradients(ProcessGroup& group, GoogLeNet& net, std::vector<float>* extra) {
  auto params = net->parameters();
  std::int64_t total = 0;
  for (const auto& p : params) total += p.numel();
  const std::int64_t extras = extra ? static_cast<std::int64_t>(extra->size()) : 0;
  auto flat = torch::empty({total + extras}, torch::kFloat);
  std::int64_t offset = 0;
  for (auto& p : params) {
    auto slice = flat.narrow(0, offset, p.numel());
    if (p.grad().defined()) {
      slice.copy_(p.grad().reshape({-1}));
    } else {
      slice.zero_();
    }
    offset += p.numel();
  }
  if (extras) std::memcpy(flat.data_ptr<float>() + total, extra->data(), sizeof(float) * extras);
  group.allreduce_sum(flat.data_ptr<float>(), static_cast<std::size_t>(total + extras),
                      "gradient all-reduce");
  const float scale = 1.0f / static_cast<float>(group.size());
  offset = 0;
  for (auto& p : params) {
    auto slice = flat.narrow(0, offset, p.numel()).view(p.sizes());
    if (!p.grad().defined()) p.mutable_grad() = torch::zeros_like(p);
    p.mutable_grad().copy_(slice).mul_(scale);
    offset += p.numel();
  }
  if (extras) std::memcpy(extra->data(), flat.data_ptr<float>() + total, sizeof(float) * extras);
}

void broadcast_model(ProcessGroup& group, GoogLeNet& net) {
  torch::NoGradGuard no_grad;
  for (auto& t : net->parameters()) {
    group.broadcast(t.data_ptr(), t.numel() * t.element_size(), 0, "model broadcast");
  }
  for (auto& t : net->buffers()) {
    group.broadcast(t.data_ptr(), t.numel() * t.element_size(), 0, "model broadcast");
  }
}

void broadcast_masks(ProcessGroup& group, GoogLeNet& net, Masks* masks_inout) {
  std::string names;
  if (group.rank() == 0) {
    for (const auto& kv : *masks_inout) names += kv.first + "\n";
  }
  group.broadcast_string(&names, 0, "mask broadcast");
  Masks masks;
  auto layers = model_layers(net);
  std::size_t pos = 0;
  while (pos < names.size()) {
    auto end = names.find('\n', pos);
    std::string name = names.substr(pos, end - pos);
    pos = end + 1;
    torch::Tensor mask;
    if (group.rank() == 0) {
      mask = masks_inout->at(name).to(torch::kFloat).contiguous();
    } else {
      const Layer* layer = nullptr;
      for (const auto& l : layers) {
        if (l.name == name) layer = &l;
      }
      if (!layer) throw DistError("rank 0 sent a mask for unknown layer " + name);
      mask = torch::empty(layer->weight.sizes(), torch::kFloat);
    }
    group.broadcast(mask.data_ptr(), mask.numel() * sizeof(float), 0, "mask broadcast");
    masks[name] = mask;
  }
  *masks_inout = std::move(masks);
  apply_masks(net, *masks_inout);
}

namespace {

// Every rank's 64-bit value, as two exact 32-bit halves (a double holds those exactly). Returns
// the first rank whose value differs from rank 0's, or -1.
int first_different(ProcessGroup& group, std::uint64_t h, const char* what) {
  const double mine[2] = {static_cast<double>(h >> 32), static_cast<double>(h & 0xffffffffu)};
  std::vector<double> all(2 * group.size());
  group.allgather(mine, 2, all.data(), what);
  for (int r = 0; r < group.size(); ++r) {
    if (all[2 * r] != all[0] || all[2 * r + 1] != all[1]) return r;
  }
  return -1;
}

}  // namespace

void check_same_text(ProcessGroup& group, const std::string& text, const std::string& what) {
  if (group.size() == 1) return;
  std::uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : text) h = (h ^ ch) * 1099511628211ull;
  int r = first_different(group, h, "option check");
  if (r >= 0) {
    throw DistError("rank " + std::to_string(r) + " was started with other " + what +
                    " than rank 0; start every rank with the same command line except --rank");
  }
}

void check_replicas(ProcessGroup& group, GoogLeNet& net, const std::string& when) {
  if (group.size() == 1) return;
  const std::uint64_t h = digest(net);
  int r = first_different(group, h, "replica check");
  if (r >= 0) {
    throw DistError("the model of rank " + std::to_string(r) + " differs from rank 0's " + when +
                    " (the ranks diverged)");
  }
}

}  // namespace gnconvert
