// A plan: shapes inferred for one input size, one activation arena with offsets from tensor
// lifetimes, packed weights and a kernel per operator. Running a plan allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "gnrt/kernels.h"
#include "gnrt/qkernels.h"
#include "model.h"
#include "status.h"
#include "thread_pool.h"

namespace gnrt {

struct PlanConfig {
  int threads = 1;
  int height = 0;  // 0: the model's default
  int width = 0;
  std::size_t max_arena_bytes = std::size_t{512} << 20;
  // Work cap: dense-equivalent multiply-adds of every convolution and FC plus every pooling tap,
  // per run. GoogLeNet needs 1.6e9 at 224x224; the default (2^37, about 1.4e11) is a minute or
  // more on a phone core, so no file or input size can make one run loop for hours.
  std::uint64_t max_macs = std::uint64_t{1} << 37;
  bool force_reference = false;
  // Row-band fusion of a light convolution with its max pool (Plan::fuse_conv_pool): the band
  // buffer's size for all channels. Tests make it tiny to get many bands.
  std::size_t fusion_band_bytes = 384 * 1024;
};

// Where a tensor lives in the arena. Element (c, y, x) is at
// arena + offset + c * channel_stride + y * row_stride + x (in floats), with a zero border of
// `pad` around every plane (kept zero by the producer).
struct TensorLayout {
  int channels = 0;
  int height = 0;
  int width = 0;
  int pad = 0;
  std::ptrdiff_t row_stride = 0;
  std::ptrdiff_t channel_stride = 0;
  int lead = 0;               // floats before each padded plane (aligns the interior origin)
  int buffer = -1;            // index into Plan::buffers
  std::ptrdiff_t offset = 0;  // floats from the buffer start to element (0, 0, 0)
  bool contiguous() const {
    return pad == 0 && channel_stride == static_cast<std::ptrdiff_t>(height) * width;
  }
};

// A region of the arena with a lifetime in operator steps: written at step `first` (-1: before
// the run, by set_input) and last read at step `last`.
struct ArenaBuffer {
  std::size_t bytes = 0;
  int first = 0;
  int last = 0;
  std::size_t offset = 0;  // bytes from the arena start, 64-byte aligned
  std::string what;        // tensor or scratch name, for tests and messages
};

struct AlignedFree {
  void operator()(void* p) const;
};
using AlignedBlock = std::unique_ptr<void, AlignedFree>;

// Row-band fusion of a convolution with the max pool that is its output's only reader
// (Plan::fuse_conv_pool): the convolution computes `band_rows` pool rows' worth of its output
// rows at a time into a band in `band_buffer` (laid out as `band_layout`, in cache) and the pool
// reads them there, so the convolution's output never goes through memory.
struct ConvPoolFusion {
  int pool = -1;  // on the convolution: index of the fused pool op
  int conv = -1;  // on the pool: index of the convolution it runs inside
  int band_rows = 0;
  TensorLayout band_layout;
  int band_buffer = -1;  // the arena buffer holding the band (the convolution's output buffer)
};

// FullyConnected / Softmax: arena buffers (indices into Plan::buffers, -1: none) for a gathered
// input / an output to scatter, when the tensor's layout is not contiguous.
struct ContiguousScratch {
  int in = -1;
  int out = -1;
};

// One operator as planned. The common part first, then what each kind of operator uses; the
// other kinds' fields keep their defaults.
struct PlannedOp {
  // Every operator.
  const OpDesc* desc = nullptr;
  const char* kernel_name = "";
  // Whether a consumer of the output reads the rows above and below its planes' interiors
  // (Plan::mark_border_readers); when not, and the kernel zeroes the row gaps, the output's
  // border is not re-zeroed after the kernel.
  bool out_border_read = true;
  std::uint64_t nanoseconds = 0;  // of the last run, when profiling

  // Conv2D. Sparse and several threads: output-channel range bounds (threads + 1 entries) that
  // give every thread about the same number of nonzeros; empty: split by count.
  kernels::ConvProblem conv{};
  kernels::ConvKernel conv_kernel{};
  std::vector<int> range_bounds;
  // Conv2D and MaxPool: the fused pair's band (see ConvPoolFusion).
  ConvPoolFusion fusion;

  // MaxPool, AvgPool, GlobalAvgPool.
  kernels::PoolProblem pool{};
  kernels::PoolKernel pool_kernel{};

  // FullyConnected.
  kernels::FcProblem fc{};
  kernels::FcKernel fc_kernel{};

  // Conv2D and FullyConnected: the weights packed by the selected kernel.
  AlignedBlock packed;

  // FullyConnected and Softmax.
  ContiguousScratch scratch;

  // Concat: false when every input already writes into its slice of the output.
  bool concat_copies = false;

  // int8 operators (format 1.1, plan_int8.cc). Conv2D: the problem and kernel (weights in
  // `packed`, qconv_pack's form; range_bounds then count groups of 4 output channels). Pools:
  // the problem. FullyConnected: `packed` holds the int8 rows (qfc_features each), then the
  // corrected int32 biases and the float dequantization factors.
  kernels::QConvProblem qconv{};
  kernels::QConvKernel qconv_kernel{};
  kernels::QPoolProblem qpool{};
  kernels::QPoolKernel qpool_kernel{};
  int qfc_features = 0;
  std::size_t packed_bytes = 0;
  // A strided (or dilated) int8 convolution as patches + 1x1: its input gathered into C4
  // patches of in_channels * kernel_h * kernel_w "channels" (buffer qpatch_buffer, layout
  // qpatch_layout) at the output's row stride, then `qconv` is a stride-1 1x1 problem on them.
  int qpatch_buffer = -1;
  TensorLayout qpatch_layout;
};

class Plan {
 public:
  static Status create(const Model& model, const PlanConfig& config, std::unique_ptr<Plan>* plan);

  std::size_t arena_bytes() const { return arena_bytes_; }
  std::size_t weight_bytes() const { return weight_bytes_; }
  const TensorLayout& layout(int tensor) const { return layouts_[tensor]; }
  const std::vector<ArenaBuffer>& buffers() const { return buffers_; }
  const std::vector<PlannedOp>& ops() const { return ops_; }
  const Model& model() const { return *model_; }
  kernels::Isa isa() const { return isa_; }
  int input_tensor() const { return model_->input; }
  int output_tensor() const { return model_->outputs[0]; }
  int threads() const { return config_.threads; }

  Status set_input(const float* data, std::size_t count);
  // Direct access for image preprocessing: writes plane c, then call mark_input_set().
  float* tensor_data(int tensor);
  const float* tensor_data(int tensor) const;
  void zero_input_border();
  void mark_input_set() { input_set_ = true; }

  // Format 1.1 int8 plans: the graph input is a float staging plane (tensor_data, layout) that
  // run() quantizes; quantized tensors live in the arena in the C4 layout (qkernels.h) described
  // by qlayout(), in positions of 4 bytes.
  bool int8() const { return int8_; }
  const TensorLayout& qlayout(int tensor) const { return qlayouts_[tensor]; }
  std::uint8_t* qdata(int tensor);
  const std::uint8_t* qdata(int tensor) const;

  Status run();
  Status get_output(float* data, std::size_t count) const;
  void set_profiling(bool enabled) { profiling_ = enabled; }

 private:
  Plan() = default;
  // Phases of create(), in order: plan_layout.cc, plan_prepare.cc, plan_fusion.cc, then
  // allocate_arena (plan.cc, offsets from place_arena in arena.cc).
  Status infer_shapes();
  std::uint64_t row_stride_for(int width, int pad) const;
  Status assign_layouts();
  Status prepare_operators();
  void fuse_conv_pool();
  void mark_border_readers();
  Status allocate_arena();
  // Pieces of the phases.
  Status check_work(const OpDesc& d, std::int64_t h, std::int64_t w);
  Status add_tensor_buffers(const std::vector<int>& pads, const std::vector<int>& alias_parent,
                            const std::vector<int>& alias_channel);
  void set_lifetimes();
  void add_scratch_buffers(const std::vector<int>& alias_parent);
  Status prepare_conv(const OpDesc& d, PlannedOp* op);
  Status prepare_fc(const OpDesc& d, PlannedOp* op);
  void prepare_pool(const OpDesc& d, bool input_nonnegative, PlannedOp* op);
  bool fuse_pair(std::size_t k, std::size_t band_bytes);
  // Execution (plan_run.cc).
  void run_op(PlannedOp& op);
  void run_fused(PlannedOp& op);
  void run_concat(const PlannedOp& op);
  void run_contiguous(const PlannedOp& op);
  // int8 plans (plan_int8.cc).
  Status create_int8();
  Status assign_int8_layouts();
  Status prepare_int8_operators();
  Status prepare_qconv(const OpDesc& d, PlannedOp* op);
  Status prepare_qfc(const OpDesc& d, PlannedOp* op);
  // Both in parallel over rows (a group's row of 4 channels: quantize_rows / gather_rows).
  void quantize_input();
  void gather_patches(const PlannedOp& op);
  void quantize_rows(int begin, int end);
  void gather_rows(const PlannedOp& op, int begin, int end);
  void run_int8_op(PlannedOp& op);
  void fill_border(int tensor);
  void dequantize_output(float* data) const;

  const Model* model_ = nullptr;
  PlanConfig config_;
  kernels::Isa isa_ = kernels::Isa::kScalar;
  std::vector<int> heights_, widths_;
  std::uint64_t macs_ = 0;  // the work of one run, as counted against PlanConfig::max_macs
  std::vector<TensorLayout> layouts_;
  std::vector<ArenaBuffer> buffers_;
  std::vector<PlannedOp> ops_;
  AlignedBlock arena_;
  std::size_t arena_bytes_ = 0;
  std::size_t weight_bytes_ = 0;
  std::unique_ptr<ThreadPool> pool_;
  bool int8_ = false;
  std::vector<TensorLayout> qlayouts_;  // int8 plans: quantized tensors (positions, C4)
  AlignedBlock input_staging_;          // int8 plans: the float input, contiguous
  std::vector<std::uint8_t> fc_input_;  // int8 plans: a FullyConnected input, gathered
  bool input_set_ = false;
  bool ran_ = false;
  bool profiling_ = false;
};

// Zeroes the border of channels [c_begin, c_end) of a padded layout (data at element (0,0,0)).
// gaps_zeroed: the producing kernel left zeros in the row gaps and wrote nothing else outside
// the interior (kernels.h `zeroes_row_gaps`); then only the rows above and below the interior
// are written, and nothing when `ends_read` is false (no consumer reads them).
void zero_border(float* data, const TensorLayout& layout, int c_begin, int c_end,
                 bool gaps_zeroed = false, bool ends_read = true);

}  // namespace gnrt
