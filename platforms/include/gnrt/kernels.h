// Microkernel signatures. Kernels are pure functions of pointers and sizes: they never allocate,
// never throw, and never read runtime headers. Operators in runtime/ own shapes, packing and
// memory; they pick a kernel once at plan time.
//
// Activation layout ("planar view"): one batch, channel-major (CHW). `data` points at element
// (c=0, y=0, x=0). Element (c, y, x) is data[c * channel_stride + y * row_stride + x]. Strides are
// in floats. Around each plane the producer may have written a zero border (see
// docs/design.md); reference kernels never rely on it and handle borders explicitly.
//
// Units: sizes are element counts, strides are in floats, all indices are zero-based.
#pragma once

#include <cstddef>
#include <cstdint>

namespace gnrt {
namespace kernels {

enum class Activation : int { kNone = 0, kRelu = 1 };

struct ConstPlanarView {
  const float* data;
  std::ptrdiff_t row_stride;
  std::ptrdiff_t channel_stride;
};

struct PlanarView {
  float* data;
  std::ptrdiff_t row_stride;
  std::ptrdiff_t channel_stride;
};

struct ConvGeometry {
  int in_channels;
  int in_height;
  int in_width;
  int out_channels;
  int out_height;
  int out_width;
  int kernel_h;
  int kernel_w;
  int stride_h;
  int stride_w;
  int pad_top;
  int pad_left;
  int dilation_h;
  int dilation_w;
  int groups;  // in_channels and out_channels are multiples of groups
};

// Sparse rows (CSR over output channels). Row o holds the nonzeros of output channel o:
// entries row_begin[o] .. row_begin[o + 1] - 1 of `indices` / `values`. An index is the
// flattened position in the row's (in_channel_within_group, ky, kx) space:
// index = (ic * kernel_h + ky) * kernel_w + kx. For fully connected layers the row space is
// just the input feature.
struct SparseRows {
  const std::uint32_t* row_begin;  // rows + 1 entries, row_begin[0] == 0
  const std::uint32_t* indices;
  const float* values;
};

struct PoolGeometry {
  int channels;
  int in_height;
  int in_width;
  int out_height;
  int out_width;
  int kernel_h;
  int kernel_w;
  int stride_h;
  int stride_w;
  int pad_top;
  int pad_left;
};

// ---------------------------------------------------------------------------------------------
// Scalar reference kernels (platforms/scalar). The oracle for every optimized kernel.
// Channel-range variants compute output channels [oc_begin, oc_end) only, so that an operator
// can split work across threads; the full-range call is oc_begin = 0, oc_end = out_channels.

// Dense convolution. weights: OIHW, [out_channels][in_channels / groups][kernel_h][kernel_w].
// bias: out_channels entries or nullptr.
void f32_conv2d_dense__scalar(const ConvGeometry& g, ConstPlanarView input, const float* weights,
                              const float* bias, PlanarView output, Activation activation,
                              int oc_begin, int oc_end);

// Sparse convolution over the same geometry; `weights` has out_channels rows.
void f32_conv2d_sparse__scalar(const ConvGeometry& g, ConstPlanarView input,
                               const SparseRows& weights, const float* bias, PlanarView output,
                               Activation activation, int oc_begin, int oc_end);

// Max pooling; taps outside the input are skipped (never treated as zero). A window with no tap
// inside the input yields 0 (cannot happen for valid geometries).
void f32_maxpool2d__scalar(const PoolGeometry& g, ConstPlanarView input, PlanarView output,
                           Activation activation, int c_begin, int c_end);

// Average pooling. count_include_pad: divide by kernel_h * kernel_w clipped to the padded input
// (PyTorch semantics) instead of by the number of taps inside the input.
void f32_avgpool2d__scalar(const PoolGeometry& g, ConstPlanarView input, PlanarView output,
                           bool count_include_pad, int pad_bottom, int pad_right,
                           Activation activation, int c_begin, int c_end);

// Global average pooling: output[c] = mean over the plane of channel c (contiguous output).
void f32_global_avgpool__scalar(int channels, int height, int width, ConstPlanarView input,
                                float* output, int c_begin, int c_end);

// Fully connected: output[o] = act(bias[o] + sum_i weights[o * in_features + i] * input[i]).
void f32_fc_dense__scalar(int in_features, int out_features, const float* input,
                          const float* weights, const float* bias, float* output,
                          Activation activation, int o_begin, int o_end);

void f32_fc_sparse__scalar(int in_features, int out_features, const float* input,
                           const SparseRows& weights, const float* bias, float* output,
                           Activation activation, int o_begin, int o_end);

// Numerically stable softmax of n values: exp(beta * (x - max)) / sum.
void f32_softmax__scalar(int n, const float* input, float* output, float beta);

// ---------------------------------------------------------------------------------------------
// Kernel selection. The runtime describes a layer once at plan time (a *Problem*), asks for a
// kernel, lets the kernel pack its weights into plan-owned memory, then calls `run` on channel
// ranges (one range per thread) for every inference. The selector is the one place that knows
// the kernel list of a family, the CPU's ISA and the sparse/dense density crossover.
//
// Activation layout contract between the planner and the kernels:
//  - input/output planes follow PlanarView; the `*_pad` fields give the width of the zero border
//    that surrounds every input plane (the producer guarantees zeros there) and of the border of
//    every output plane: `pad` rows above and below the interior, and every float of a row past
//    its `width` interior columns. Left and right borders may be shared: the row stride need
//    only be width + pad, the right border of row y then also serves as the left border of row
//    y + 1 (a tap pad columns left of column 0 reads the end of row y - 1). The padded plane
//    spans the pad * row_stride + pad floats before the interior origin and reaches at least
//    to the bottom-right tap of the last row (padded_plane_ok).
//  - a kernel may read anywhere in the padded input planes, up to kMaxOverreadFloats past the
//    end of the last padded input plane and up to kMaxUnderreadFloats before the first one (the
//    arena has that slack); values read there are arbitrary and must only affect discarded lanes.
//  - a kernel writes the interior of output channels [oc_begin, oc_end) and may also write
//    anything into the borders of those channels' padded planes: the runtime re-zeroes output
//    borders after each call. It never writes other channels (they belong to other threads or
//    to sibling branches of a concatenation).
//  - a kernel whose descriptor says `zeroes_row_gaps` writes nothing but the interior and zeros
//    into the output planes of the channels it computes, and leaves exact zeros in their row
//    gaps: the floats [width, row_stride) after every row (the right border of row y, which is
//    also the left border of row y + 1), the last row's too when out_pad >= 1. The runtime then
//    re-zeroes only the rest of the border (the rows above and below the interior), and only
//    when a consumer reads it. The gaps are scattered over every row of the plane, one write per
//    row that re-reads each line of the output from outer caches; a kernel zeroes them as it
//    stores the row (docs/kernels.md, "Measurement history").
//  - a pooling kernel whose descriptor says `reads_border_rows == false` for a problem reads no
//    input row above row 0 or below row in_height - 1 (padded windows take those rows as zeros,
//    which never win with a nonnegative input) and, within rows 0..in_height - 1, nothing left of
//    column 0 of row 0 and nothing but discarded lanes past column row_stride - 1 of the last
//    row. With its producer's row gaps zeroed, such a consumer needs no other border.

enum class Isa : int { kScalar = 0, kAvx2 = 1, kAvx512 = 2, kNeon = 3 };

// The best ISA this CPU supports among those compiled in. Cheap after the first call.
Isa detect_isa();
const char* isa_name(Isa isa);

constexpr std::ptrdiff_t kMaxOverreadFloats = 256;
constexpr std::ptrdiff_t kMaxUnderreadFloats = 16;

// Whether planes of height x width with a zero border of `pad` fit the row and channel strides:
// row_stride >= width + pad (shared left/right borders, see the layout contract above) and the
// channel stride reaches the position pad rows below and pad columns right of the last interior
// element, counted from the plane start pad * row_stride + pad floats before the interior.
inline bool padded_plane_ok(std::ptrdiff_t row_stride, std::ptrdiff_t channel_stride, int height,
                            int width, int pad) {
  if (row_stride < static_cast<std::ptrdiff_t>(width) + pad) return false;
  const std::ptrdiff_t last = (static_cast<std::ptrdiff_t>(height) + 2 * pad - 1) * row_stride +
                              width + 2 * pad;  // one past the bottom-right tap
  return channel_stride >= last;
}

struct ConvProblem {
  ConvGeometry geometry;
  std::ptrdiff_t in_row_stride;
  std::ptrdiff_t in_channel_stride;
  int in_pad;  // zero border width around input planes
  std::ptrdiff_t out_row_stride;
  std::ptrdiff_t out_channel_stride;
  int out_pad;
  Activation activation;
  // Weights, valid at plan time only (pack copies what run needs). Exactly one form is set:
  const float* dense_weights;  // OIHW, or nullptr when sparse
  SparseRows sparse;           // row_begin == nullptr when dense
  const float* bias;           // out_channels floats or nullptr
  std::uint64_t nonzeros;      // nonzero weights (equals the dense count for dense weights)
};

struct ConvKernel {
  const char* name;          // e.g. "f32_conv2d_sparse__scalar"
  bool sparse;               // true when run iterates over nonzeros
  std::size_t packed_bytes;  // plan-owned, 64-byte aligned memory needed by pack/run
  // Fills `packed` from the problem. Called once at plan time.
  void (*pack)(const ConvProblem& problem, void* packed);
  // Computes output channels [oc_begin, oc_end). `input`/`output` point at element (0, 0, 0)
  // of the planes described by the problem's strides. Never allocates.
  void (*run)(const ConvProblem& problem, const void* packed, const float* input, float* output,
              int oc_begin, int oc_end);
  bool zeroes_row_gaps;  // run leaves zeros in the output's row gaps (layout contract above)
};

// force_scalar: the reference kernels only (tests, --reference).
ConvKernel select_conv_kernel(const ConvProblem& problem, Isa isa, bool force_scalar);

struct FcProblem {
  int in_features;
  int out_features;
  Activation activation;
  const float* dense_weights;  // [out][in], or nullptr
  SparseRows sparse;
  const float* bias;
  std::uint64_t nonzeros;
};

struct FcKernel {
  const char* name;
  bool sparse;
  std::size_t packed_bytes;
  void (*pack)(const FcProblem& problem, void* packed);
  // input: in_features contiguous floats; output: out_features floats, rows [o_begin, o_end).
  void (*run)(const FcProblem& problem, const void* packed, const float* input, float* output,
              int o_begin, int o_end);
};

FcKernel select_fc_kernel(const FcProblem& problem, Isa isa, bool force_scalar);

// Pooling (max, average, global average) through the same selection scheme. No weights, so no
// packing. Border contract as for convolutions; additionally `input_nonnegative` tells the kernel
// that every input value is >= 0 (the producer ends in ReLU), so a max pool may read the zero
// border instead of skipping padded taps.
struct PoolProblem {
  PoolGeometry geometry;  // for global pooling: out_height = out_width = 1, kernel = input size
  bool max;               // false: average
  bool global;            // global average pooling (output: one value per channel)
  bool count_include_pad;
  int pad_bottom;
  int pad_right;
  bool input_nonnegative;
  std::ptrdiff_t in_row_stride;
  std::ptrdiff_t in_channel_stride;
  int in_pad;
  std::ptrdiff_t out_row_stride;      // global: ignored
  std::ptrdiff_t out_channel_stride;  // global: distance between outputs (1 when contiguous)
  int out_pad;
  Activation activation;
};

struct PoolKernel {
  const char* name;
  // Channels [c_begin, c_end). `input`/`output` point at element (0, 0, 0).
  void (*run)(const PoolProblem& problem, const float* input, float* output, int c_begin,
              int c_end);
  bool zeroes_row_gaps;  // as ConvKernel::zeroes_row_gaps
  // Whether run reads the input's border rows (layout contract above); set per problem.
  bool reads_border_rows = true;
};

PoolKernel select_pool_kernel(const PoolProblem& problem, Isa isa, bool force_scalar);

}  // namespace kernels
}  // namespace gnrt
