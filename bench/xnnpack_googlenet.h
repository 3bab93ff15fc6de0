// The XNNPACK dense baseline: a .gnrt model (GoogLeNet, or any graph of the same operator kinds)
// run through XNNPACK's NHWC float32 operators with the model's own weights, so that bench_sparse
// can compare libgnrt against XNNPACK on exactly the same function.
//
// How the graph maps onto XNNPACK (Debian's 2022-02 snapshot, operator API):
//  - Conv2D           xnn_create_convolution2d_nhwc_f32; sparse or float16 weights are expanded to
//                     dense float32 (model_weights.h, OIHW -> OHWI); ReLU is fused through output
//                     min/max.
//  - Concat           no operator: every producer of a concatenated tensor writes straight into its
//                     channel slice (output pixel stride = the concatenated channel count), and
//                     consumers read with input pixel stride. No copies.
//  - MaxPool          xnn_create_max_pooling2d_nhwc_f32 (ceil mode through extra bottom/right
//                     padding; the window never starts in padding, so results are identical).
//  - AvgPool          global: xnn_create_global_average_pooling_nwc_f32; windowed without padding:
//                     xnn_create_average_pooling2d_nhwc_f32.
//  - FullyConnected   xnn_create_fully_connected_nc_f32 (columns permuted when the input is not
//                     1x1, since the model flattens NCHW and XNNPACK sees NHWC).
//  - Softmax          xnn_create_softmax_nc_f32 (beta != 1 is folded into the producing FC layer).
// Activations live in one arena; buffers whose lifetimes do not overlap share memory (first fit,
// largest first), as a planned XNNPACK runtime would. Operators are created and set up once;
// run() only calls xnn_run_operator, so it allocates nothing.
//
// Threads: the baseline owns a pthreadpool of `num_threads` threads that nothing else uses.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gnrt_bench {

struct XnnpackBaselineOptions {
  int num_threads = 1;   // >= 1
  int input_height = 0;  // 0: the model's default
  int input_width = 0;
};

class XnnpackBaseline {
 public:
  // Reads the model with the runtime's loader (gnrt::load_model; the bytes are only used during
  // create: XNNPACK packs its own copy of the weights), takes the tensor shapes at the requested
  // input size from a runtime plan, creates and sets up every operator. Returns nullptr with a
  // one-line message in `error` when the model cannot be expressed with XNNPACK's operators or
  // XNNPACK fails.
  static std::unique_ptr<XnnpackBaseline> create(const void* model_data, std::size_t model_size,
                                                 const XnnpackBaselineOptions& options,
                                                 std::string* error);
  ~XnnpackBaseline();
  XnnpackBaseline(const XnnpackBaseline&) = delete;
  XnnpackBaseline& operator=(const XnnpackBaseline&) = delete;

  // NCHW, batch 1.
  std::array<int, 4> input_shape() const;
  std::array<int, 4> output_shape() const;

  // Copies an NCHW input (count = C*H*W) into the NHWC input buffer. Not part of run().
  bool set_input(const float* nchw, std::size_t count);

  // Runs every operator once. When `operator_nanoseconds` is non-null it receives one entry per
  // XNNPACK operator (see operator_names()); timing each costs two clock reads per operator.
  bool run(std::vector<std::uint64_t>* operator_nanoseconds = nullptr);

  // Puts the pool's worker threads to sleep now instead of letting them spin-wait for more work
  // (pthreadpool spins for a while after each job; XNNPACK's runtime does the same with
  // XNN_FLAG_YIELD_WORKERS after its last operator). Call outside any timed region, between runs,
  // so that idle workers do not compete with another engine for the cores. No-op with one thread.
  void release_workers();

  // Copies the output in NCHW order (count = C*H*W) after run().
  bool get_output(float* nchw, std::size_t count) const;

  // The .gnrt operator each XNNPACK operator implements (concatenations have none).
  const std::vector<std::string>& operator_names() const;
  std::size_t arena_bytes() const;
  int num_threads() const;
  const std::string& last_error() const;

 private:
  struct Impl;
  explicit XnnpackBaseline(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace gnrt_bench
