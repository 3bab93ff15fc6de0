// Execution: input, the operators in order (each split over output channels on the thread
// pool), output. Nothing here allocates.
#include <algorithm>
#include <cstring>
#include <ctime>

#include "plan.h"
#include "plan_internal.h"

namespace gnrt {

using plan_detail::BandRows;

namespace {

std::uint64_t now_ns() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

}  // namespace

void Plan::zero_input_border() {
  const int t = model_->input;
  zero_border(tensor_data(t), layouts_[t], 0, layouts_[t].channels);
}

Status Plan::set_input(const float* data, std::size_t count) {
  const TensorLayout& l = layouts_[model_->input];
  const std::size_t expected = static_cast<std::size_t>(l.channels) * l.height * l.width;
  if (!data) return make_error(GNRT_INVALID_ARGUMENT, "input data is NULL");
  if (count != expected)
    return make_error(GNRT_INVALID_ARGUMENT,
                      "input has " + std::to_string(count) + " floats, expected " +
                          std::to_string(expected) + " (" + std::to_string(l.channels) + "x" +
                          std::to_string(l.height) + "x" + std::to_string(l.width) + ")");
  float* dst = tensor_data(model_->input);
  for (int c = 0; c < l.channels; ++c)
    for (int y = 0; y < l.height; ++y)
      std::memcpy(dst + c * l.channel_stride + y * l.row_stride,
                  data + (static_cast<std::size_t>(c) * l.height + y) * l.width,
                  sizeof(float) * l.width);
  zero_input_border();
  input_set_ = true;
  return Status::Ok();
}

namespace {

// Copies between a planar layout and a contiguous CHW array.
void gather(const float* src, const TensorLayout& l, float* dst) {
  for (int c = 0; c < l.channels; ++c)
    for (int y = 0; y < l.height; ++y)
      std::memcpy(dst + (static_cast<std::size_t>(c) * l.height + y) * l.width,
                  src + c * l.channel_stride + y * l.row_stride, sizeof(float) * l.width);
}

void scatter(const float* src, const TensorLayout& l, float* dst) {
  for (int c = 0; c < l.channels; ++c)
    for (int y = 0; y < l.height; ++y)
      std::memcpy(dst + c * l.channel_stride + y * l.row_stride,
                  src + (static_cast<std::size_t>(c) * l.height + y) * l.width,
                  sizeof(float) * l.width);
  zero_border(dst, l, 0, l.channels);
}

struct ConvTask {
  const PlannedOp* op;
  const float* input;
  float* output;
  const TensorLayout* out_layout;
};

void conv_range(void* context, int begin, int end) {
  const ConvTask& t = *static_cast<const ConvTask*>(context);
  t.op->conv_kernel.run(t.op->conv, t.op->packed.get(), t.input, t.output, begin, end);
  zero_border(t.output, *t.out_layout, begin, end, t.op->conv_kernel.zeroes_row_gaps,
              t.op->out_border_read);
}

struct FcTask {
  const PlannedOp* op;
  const float* input;
  float* output;
};

void fc_range(void* context, int begin, int end) {
  const FcTask& t = *static_cast<const FcTask*>(context);
  t.op->fc_kernel.run(t.op->fc, t.op->packed.get(), t.input, t.output, begin, end);
}

struct PoolTask {
  const PlannedOp* op;
  const float* input;
  float* output;
  const TensorLayout* out_layout;
};

void pool_range(void* context, int begin, int end) {
  const PoolTask& t = *static_cast<const PoolTask*>(context);
  t.op->pool_kernel.run(t.op->pool, t.input, t.output, begin, end);
  zero_border(t.output, *t.out_layout, begin, end, t.op->pool_kernel.zeroes_row_gaps,
              t.op->out_border_read);
}

struct BandTask {
  const PlannedOp* conv;
  const PlannedOp* pool;
  const float* input;              // the convolution's input
  float* output;                   // the pool's output
  const TensorLayout* out_layout;  // the pool's output layout
  float* band;                     // the band buffer (in the arena)
};

// Channels [begin, end) of a fused convolution + max pool (Plan::fuse_conv_pool), band by band.
void band_range(void* context, int begin, int end) {
  const BandTask& t = *static_cast<const BandTask*>(context);
  const PlannedOp& c = *t.conv;
  const kernels::PoolGeometry& pg = t.pool->pool.geometry;
  const int conv_height = c.conv.geometry.out_height;
  const TensorLayout& band = c.fusion.band_layout;
  float* origin = t.band + band.offset;
  const std::ptrdiff_t rs = band.row_stride;
  const std::ptrdiff_t cs = band.channel_stride;
  int done_lo = 0, done_hi = 0;  // conv rows held in the band, row done_lo at the origin
  for (int r0 = 0; r0 < pg.out_height; r0 += c.fusion.band_rows) {
    const int r1 = std::min(pg.out_height, r0 + c.fusion.band_rows);
    const BandRows rows = plan_detail::conv_rows_for(pg, conv_height, r0, r1);
    // Carry the rows the previous band computed and this one needs to the band's start.
    int first_new = rows.lo;
    if (done_hi > rows.lo) {
      if (rows.lo > done_lo) {
        const std::ptrdiff_t shift = static_cast<std::ptrdiff_t>(rows.lo - done_lo) * rs;
        const std::size_t floats = static_cast<std::size_t>(done_hi - rows.lo) * rs;
        for (int ch = begin; ch < end; ++ch) {
          float* plane = origin + ch * cs;
          std::memmove(plane, plane + shift, floats * sizeof(float));
        }
      }
      first_new = done_hi;
    }
    if (rows.hi > first_new) {
      kernels::ConvProblem p = c.conv;
      p.geometry.out_height = rows.hi - first_new;
      p.out_row_stride = rs;
      p.out_channel_stride = cs;
      const float* in =
          t.input + static_cast<std::ptrdiff_t>(first_new) * p.geometry.stride_h * p.in_row_stride;
      float* out = origin + static_cast<std::ptrdiff_t>(first_new - rows.lo) * rs;
      c.conv_kernel.run(p, c.packed.get(), in, out, begin, end);
    }
    done_lo = rows.lo;
    done_hi = rows.hi;
    TensorLayout shape = band;
    shape.height = rows.hi - rows.lo;
    zero_border(origin, shape, begin, end, c.conv_kernel.zeroes_row_gaps,
                t.pool->pool_kernel.reads_border_rows);
    const kernels::PoolProblem bp =
        plan_detail::band_pool_problem(t.pool->pool, shape, r0, r1, rows);
    t.pool->pool_kernel.run(bp, origin,
                            t.output + static_cast<std::ptrdiff_t>(r0) * t.out_layout->row_stride,
                            begin, end);
  }
  zero_border(t.output, *t.out_layout, begin, end, t.pool->pool_kernel.zeroes_row_gaps,
              t.pool->out_border_read);
}

// Splits a loop over the thread pool (or runs it inline without one).
void parallel_loop(ThreadPool* pool, int count, int grain, ThreadPool::RangeFn fn, void* ctx) {
  if (pool)
    pool->parallel_for(count, grain, fn, ctx);
  else
    fn(ctx, 0, count);
}

// A convolution's output channels over the threads: balanced ranges when planned, else by count.
void parallel_channels(ThreadPool* pool, const PlannedOp& op, int channels, ThreadPool::RangeFn fn,
                       void* ctx) {
  if (pool && !op.range_bounds.empty()) {
    pool->parallel_ranges(op.range_bounds.data(), static_cast<int>(op.range_bounds.size()) - 1, fn,
                          ctx);
  } else {
    parallel_loop(pool, channels, 1, fn, ctx);
  }
}

}  // namespace

void Plan::run_op(PlannedOp& op) {
  const OpDesc& d = *op.desc;
  const TensorLayout& out = layouts_[d.output];
  if (op.fusion.conv >= 0) return;  // ran inside its convolution's bands
  if (op.fusion.pool >= 0) {
    run_fused(op);
    return;
  }
  switch (d.type) {
    case OpType::kConv2D: {
      ConvTask task{&op, tensor_data(d.inputs[0]), tensor_data(d.output), &out};
      parallel_channels(pool_.get(), op, out.channels, conv_range, &task);
      break;
    }
    case OpType::kMaxPool:
    case OpType::kAvgPool:
    case OpType::kGlobalAvgPool: {
      // A global pool writes output[c * channel_stride]: the interior element of each 1x1 plane.
      PoolTask task{&op, tensor_data(d.inputs[0]), tensor_data(d.output), &out};
      parallel_loop(pool_.get(), out.channels, d.type == OpType::kGlobalAvgPool ? 16 : 1,
                    pool_range, &task);
      break;
    }
    case OpType::kConcat:
      run_concat(op);
      break;
    case OpType::kFullyConnected:
    case OpType::kSoftmax:
      run_contiguous(op);
      break;
  }
}

// A convolution and the max pool fused with it (Plan::fuse_conv_pool), band by band.
void Plan::run_fused(PlannedOp& op) {
  const OpDesc& d = *op.desc;
  const PlannedOp& pool = ops_[op.fusion.pool];
  const OpDesc& pd = *pool.desc;
  float* arena = static_cast<float*>(arena_.get());
  BandTask task{&op,
                &pool,
                tensor_data(d.inputs[0]),
                tensor_data(pd.output),
                &layouts_[pd.output],
                arena + buffers_[op.fusion.band_buffer].offset / sizeof(float)};
  parallel_channels(pool_.get(), op, layouts_[d.output].channels, band_range, &task);
}

void Plan::run_concat(const PlannedOp& op) {
  if (!op.concat_copies) return;
  const OpDesc& d = *op.desc;
  const TensorLayout& out = layouts_[d.output];
  float* dst = tensor_data(d.output);
  int channel = 0;
  for (int t : d.inputs) {
    const TensorLayout& l = layouts_[t];
    const float* src = tensor_data(t);
    for (int c = 0; c < l.channels; ++c, ++channel)
      for (int y = 0; y < l.height; ++y)
        std::memcpy(dst + channel * out.channel_stride + y * out.row_stride,
                    src + c * l.channel_stride + y * l.row_stride, sizeof(float) * l.width);
  }
  zero_border(dst, out, 0, out.channels);
}

// FullyConnected and Softmax read and write contiguous vectors: a bordered input is gathered
// into scratch first, a bordered output is computed in scratch and scattered.
void Plan::run_contiguous(const PlannedOp& op) {
  const OpDesc& d = *op.desc;
  const TensorLayout& in = layouts_[d.inputs[0]];
  const TensorLayout& out = layouts_[d.output];
  float* arena = static_cast<float*>(arena_.get());
  auto scratch = [&](int buffer) { return arena + buffers_[buffer].offset / sizeof(float); };
  const float* src = tensor_data(d.inputs[0]);
  if (op.scratch.in >= 0) {
    gather(src, in, scratch(op.scratch.in));
    src = scratch(op.scratch.in);
  }
  float* dst = op.scratch.out >= 0 ? scratch(op.scratch.out) : tensor_data(d.output);
  if (d.type == OpType::kFullyConnected) {
    FcTask task{&op, src, dst};
    parallel_loop(pool_.get(), d.out_channels, 16, fc_range, &task);
  } else {
    kernels::f32_softmax__scalar(in.channels * in.height * in.width, src, dst, d.beta);
  }
  if (op.scratch.out >= 0) scatter(dst, out, tensor_data(d.output));
}

namespace {

// Asks the memory system for an operator's packed weights (into L2) while the operator before it
// runs. Weights are read once per run from wherever the last run left them; when other work ran
// in between (bench_sparse alternates with XNNPACK, whose 27 MB of weights flush the caches),
// that is memory, and each layer would otherwise start on cache misses (docs/design.md,
// "Prefetching weights"); with warm caches it changes nothing.
void prefetch_weights(const PlannedOp& op) {
  if (!op.packed) return;
  const std::size_t bytes = op.desc->type == OpType::kFullyConnected ? op.fc_kernel.packed_bytes
                                                                     : op.conv_kernel.packed_bytes;
  const char* w = static_cast<const char*>(op.packed.get());
  for (std::size_t i = 0; i < bytes; i += 64) __builtin_prefetch(w + i, 0, 2);
}

}  // namespace

Status Plan::run() {
  if (!input_set_) return make_error(GNRT_INVALID_STATE, "run: no input was set");
  if (int8_) {
    quantize_input();
    for (PlannedOp& op : ops_) {
      if (profiling_) {
        const std::uint64_t start = now_ns();
        run_int8_op(op);
        op.nanoseconds = now_ns() - start;
      } else {
        run_int8_op(op);
      }
    }
    ran_ = true;
    return Status::Ok();
  }
  for (std::size_t k = 0; k < ops_.size(); ++k) {
    PlannedOp& op = ops_[k];
    if (k + 1 < ops_.size()) prefetch_weights(ops_[k + 1]);
    if (profiling_) {
      const std::uint64_t start = now_ns();
      run_op(op);
      op.nanoseconds = now_ns() - start;
    } else {
      run_op(op);
    }
  }
  ran_ = true;
  return Status::Ok();
}

Status Plan::get_output(float* data, std::size_t count) const {
  const int t = model_->outputs[0];
  const TensorLayout& l = layouts_[t];
  const std::size_t expected = static_cast<std::size_t>(l.channels) * l.height * l.width;
  if (!data) return make_error(GNRT_INVALID_ARGUMENT, "output buffer is NULL");
  if (count != expected)
    return make_error(GNRT_INVALID_ARGUMENT, "output buffer has " + std::to_string(count) +
                                                 " floats, expected " + std::to_string(expected));
  if (!ran_) return make_error(GNRT_INVALID_STATE, "get_output: the plan has not run yet");
  if (int8_ && model_->tensors[t].quantized) {
    dequantize_output(data);
    return Status::Ok();
  }
  gather(tensor_data(t), l, data);
  return Status::Ok();
}

}  // namespace gnrt
