// Plan::create: the planning phases in order, and the arena they size.
#include "plan.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <new>
#include <utility>

#include "arena.h"
#include "plan_internal.h"

namespace gnrt {

using plan_detail::kAlignment;
using plan_detail::round_up;

void AlignedFree::operator()(void* p) const { std::free(p); }

namespace plan_detail {

AlignedBlock aligned_block(std::size_t bytes) {
  // posix_memalign rather than aligned_alloc: Android's libc has the latter only from API 28.
  void* p = nullptr;
  if (posix_memalign(&p, kAlignment, round_up(std::max<std::size_t>(bytes, 1), kAlignment)) != 0)
    return AlignedBlock();
  return AlignedBlock(p);
}

}  // namespace plan_detail

Status Plan::create(const Model& model, const PlanConfig& config, std::unique_ptr<Plan>* out) {
  std::unique_ptr<Plan> plan(new (std::nothrow) Plan());
  if (!plan) return make_error(GNRT_OUT_OF_MEMORY, "out of memory creating a plan");
  plan->model_ = &model;
  plan->config_ = config;
  if (plan->config_.height == 0) plan->config_.height = model.default_height;
  if (plan->config_.width == 0) plan->config_.width = model.default_width;
  if (config.threads < 1 || config.threads > 256)
    return make_error(GNRT_INVALID_ARGUMENT,
                      "num_threads must be in [1, 256], got " + std::to_string(config.threads));
  if (plan->config_.height < 1 || plan->config_.height > kMaxSpatial || plan->config_.width < 1 ||
      plan->config_.width > kMaxSpatial)
    return make_error(GNRT_INVALID_ARGUMENT, "input size " + std::to_string(plan->config_.height) +
                                                 "x" + std::to_string(plan->config_.width) +
                                                 " out of range [1, " +
                                                 std::to_string(kMaxSpatial) + "]");
  plan->isa_ = config.force_reference ? kernels::Isa::kScalar : kernels::detect_isa();
  if (Status s = plan->infer_shapes(); !s.ok()) return s;
  if (model.int8) {
    // Format 1.1 int8 models (plan_int8.cc).
    if (Status s = plan->create_int8(); !s.ok()) return s;
  } else {
    if (Status s = plan->assign_layouts(); !s.ok()) return s;
    if (Status s = plan->prepare_operators(); !s.ok()) return s;
    // Before the arena is placed: a fused convolution's output buffer shrinks to its band.
    if (!config.force_reference) plan->fuse_conv_pool();
    plan->mark_border_readers();
    if (Status s = plan->allocate_arena(); !s.ok()) return s;
  }
  if (config.threads > 1) {
    plan->pool_.reset(new (std::nothrow) ThreadPool(config.threads));
    if (!plan->pool_)
      return make_error(GNRT_OUT_OF_MEMORY, "out of memory creating the thread pool");
  }
  *out = std::move(plan);
  return Status::Ok();
}

Status Plan::allocate_arena() {
  // Slack before the first buffer for kernels that read before their input (kernels.h).
  constexpr std::size_t kFrontSlack =
      round_up(kernels::kMaxUnderreadFloats * sizeof(float), kAlignment);
  std::vector<ArenaRequest> requests(buffers_.size());
  for (std::size_t i = 0; i < buffers_.size(); ++i)
    requests[i] = {buffers_[i].bytes, buffers_[i].first, buffers_[i].last};
  const ArenaPlacement placement =
      place_arena(requests, kAlignment, kFrontSlack, config_.max_arena_bytes);
  if (!placement.fits)
    return make_error(GNRT_RESOURCE_LIMIT,
                      "the plan needs more than max_arena_bytes (" +
                          std::to_string(config_.max_arena_bytes) + ") of activations at " +
                          std::to_string(config_.height) + "x" + std::to_string(config_.width));
  for (std::size_t i = 0; i < buffers_.size(); ++i) buffers_[i].offset = placement.offsets[i];
  // Slack after the last buffer for kernels that over-read (see kernels.h).
  arena_bytes_ =
      placement.total + round_up(kernels::kMaxOverreadFloats * sizeof(float), kAlignment);
  arena_ = plan_detail::aligned_block(arena_bytes_);
  if (!arena_)
    return make_error(GNRT_OUT_OF_MEMORY,
                      "cannot allocate a " + std::to_string(arena_bytes_) + "-byte arena");
  // Deterministic contents (the border rule makes this unnecessary for correctness, but it keeps
  // over-reads of never-written slack finite).
  std::memset(arena_.get(), 0, arena_bytes_);
  return Status::Ok();
}

float* Plan::tensor_data(int tensor) {
  if (int8_ && tensor == model_->input) return static_cast<float*>(input_staging_.get());
  const TensorLayout& l = layouts_[tensor];
  return static_cast<float*>(arena_.get()) + buffers_[l.buffer].offset / sizeof(float) + l.offset;
}

const float* Plan::tensor_data(int tensor) const {
  if (int8_ && tensor == model_->input) return static_cast<const float*>(input_staging_.get());
  const TensorLayout& l = layouts_[tensor];
  return static_cast<const float*>(arena_.get()) + buffers_[l.buffer].offset / sizeof(float) +
         l.offset;
}

}  // namespace gnrt
