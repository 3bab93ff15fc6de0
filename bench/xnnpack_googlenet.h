// The XNNPACK dense baseline: a .gnrt model (GoogLeNet, or any graph of the same operator kinds)
// run through XNNPACK's NHWC float32 operators with the model's own weights, so that bench_sparse
// can compare libgnrt against XNNPACK on exactly the same function.
//
// How the graph maps onto XNNPACK (Debian's 2022-02 snapshot, operator API):
//  - Conv2D           xnn_create_convolution2d_nhwc_f32; sparse or float16 weights are expanded to
//                     dense float32 (runtime/src/dense_weights.h, OIHW -> OHWI); ReLU is fused through output
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
//
// Datatypes (XnnpackBaselineOptions::datatype): the same graph with XNNPACK's
//  - f32  (above);
//  - qs8  signed int8 activations, one scale/zero point per tensor from calibrated value ranges
//         (options.ranges; see collect_ranges), asymmetric over [min(lo,0), max(hi,0)]. Conv2D is
//         xnn_create_convolution2d_nhwc_qc8 (per output channel weight scales max|w|/127,
//         symmetric), FC xnn_create_fully_connected_nc_qs8 (one weight scale), max pooling
//         xnn_create_max_pooling2d_nhwc_s8, global average pooling
//         xnn_create_global_average_pooling_nwc_qs8. Tensors that must share quantization share
//         one range: a concatenation with all its inputs (they are written in place into its
//         channel slices, so no requantizing copy exists), and a max pooling's input and output
//         (the s8 max pooling does not requantize). Windowed average pooling has no qs8 operator
//         in this XNNPACK and is rejected.
//  - f16  IEEE half activations and weights: xnn_create_*_f16 (conv, max pooling, global average
//         pooling, FC). Returns "unsupported hardware" where XNNPACK has no f16 kernels for the
//         CPU (create() then sets *unsupported).
// For qs8/f16 the float input is converted by an XNNPACK operator at the start of run()
// (xnn_create_convert_nc_f32_qs8 / _f32_f16) and the output converted back to float at the end;
// XNNPACK has no qs8 or f16 softmax here, so a softmax runs as convert-to-f32 + f32 softmax. Both
// conversions are timed, as a deployed int8/f16 graph with a float interface would run them.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace gnrt_bench {

enum class XnnDatatype { kF32, kQS8, kF16 };

const char* datatype_name(XnnDatatype datatype);  // "f32", "qs8", "f16"

// Observed value range of one tensor (min > max: never observed).
struct TensorRange {
  float min = 1.0f, max = -1.0f;
  bool observed() const { return min <= max; }
  void add(float v) {
    if (!observed()) {
      min = max = v;
    } else {
      min = v < min ? v : min;
      max = v > max ? v : max;
    }
  }
};

struct XnnpackBaselineOptions {
  int num_threads = 1;   // >= 1
  int input_height = 0;  // 0: the model's default
  int input_width = 0;
  XnnDatatype datatype = XnnDatatype::kF32;
  // qs8 only: one entry per model tensor (gnrt::Model::tensors order), from collect_ranges.
  std::vector<TensorRange> ranges;
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
                                                 std::string* error, bool* unsupported = nullptr);
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

  // f32 only: runs the graph on the current input and widens `ranges` (resized to the model's
  // tensor count) with every computed tensor's values, the input's included. Concatenation
  // outputs get no entry of their own (their inputs cover them).
  bool collect_ranges(std::vector<TensorRange>* ranges);

  XnnDatatype datatype() const;

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
