// Packed weights shared by the NEON sparse kernels (platforms/arm/). Plain C++, no intrinsics:
// pack() runs once at plan time, the microkernels only read the result.
//
// Convolution. The output of one channel is computed over *segments*: runs of consecutive
// output positions whose input taps sit at one constant offset from a per-position base.
//  - stride 1 with equal input/output row strides (the planner's layout: tensors of one spatial
//    size share the pad): one segment covering rows 0..out_height-1 over the padded width,
//    (out_height - 1) * row_stride + out_width positions; the positions between rows fall in the
//    output's border, which the runtime re-zeroes.
//  - otherwise one segment per output row, out_width positions, input base stride_h rows apart.
// Within a segment, output position x reads input base + x * stride_w + offset(nonzero), with
// offset = ic * in_channel_stride + (ky - pad_top) * in_row_stride + (kx - pad_left) floats.
// Offsets are stored as byte deltas from the previous nonzero of the same output channel (the
// first one from the base), so the inner loop is "advance the pointer, load, multiply-add".
#pragma once

#include <cstddef>
#include <cstdint>

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {
namespace arm {

struct PackedConvHeader {
  std::int32_t out_channels;
  std::int32_t nonzeros;
  std::int32_t stride_w;        // 1 or 2
  std::int32_t segments;        // >= 1
  std::int32_t segment_length;  // output positions per segment
  std::int32_t reserved;
  std::int64_t in_segment_step;   // floats between the input bases of consecutive segments
  std::int64_t out_segment_step;  // floats between the output bases of consecutive segments
  // Byte offsets from the start of the packed block, each 16-byte aligned.
  std::uint32_t bias_offset;       // float[out_channels] (zeros when the layer has no bias)
  std::uint32_t row_begin_offset;  // uint32[out_channels + 1], nonzero ranges per channel
  std::uint32_t weights_offset;    // float[nonzeros]
  std::uint32_t deltas_offset;     // int32[nonzeros], bytes
};

// The segment plan of a convolution (above). The run function computes it from the problem it
// is given, not from the header (whose segment fields record the problem at pack time): the
// planner may run a packed convolution on a band of its output rows (Plan::fuse_conv_pool),
// with another out_height and output strides.
struct Segments {
  bool merged;
  std::int64_t count;
  std::int64_t length;
  std::int64_t in_step;
  std::int64_t out_step;
};
Segments plan_segments(const ConvProblem& problem);

// Read-only view of a packed block, as the microkernels use it.
struct PackedConv {
  const PackedConvHeader* header;
  const float* bias;
  const std::uint32_t* row_begin;
  const float* weights;
  const std::int32_t* deltas;
};

// Preconditions the NEON convolution kernels need: groups 1, dilation 1, stride_w 1 or 2, every
// tap of every output inside the input's zero border (in_pad covers pad_top/left and the implied
// bottom/right padding), offsets representable in 32-bit byte deltas, sparse or dense weights.
bool conv_sparse_supported(const ConvProblem& problem);

// Nonzeros the packed form will hold (row_begin for sparse weights, nonzero entries for dense).
std::uint64_t conv_sparse_count_nonzeros(const ConvProblem& problem);
std::size_t conv_sparse_packed_bytes(const ConvProblem& problem);
// Fills `packed` (conv_sparse_packed_bytes(problem) bytes, 16-byte aligned). Exact zeros of
// dense weights are skipped; zeros stored explicitly in sparse rows are kept.
void conv_sparse_pack(const ConvProblem& problem, void* packed);
PackedConv conv_sparse_view(const void* packed);

// Fully connected: per output row, bias, the nonzero range, weights and input indices.
struct PackedFcHeader {
  std::int32_t in_features;
  std::int32_t out_features;
  std::int32_t nonzeros;
  std::int32_t reserved;
  std::uint32_t bias_offset;       // float[out_features]
  std::uint32_t row_begin_offset;  // uint32[out_features + 1]
  std::uint32_t weights_offset;    // float[nonzeros]
  std::uint32_t indices_offset;    // uint32[nonzeros], input feature index
};

struct PackedFc {
  const PackedFcHeader* header;
  const float* bias;
  const std::uint32_t* row_begin;
  const float* weights;
  const std::uint32_t* indices;
};

bool fc_sparse_supported(const FcProblem& problem);
std::uint64_t fc_sparse_count_nonzeros(const FcProblem& problem);
std::size_t fc_sparse_packed_bytes(const FcProblem& problem);
void fc_sparse_pack(const FcProblem& problem, void* packed);
PackedFc fc_sparse_view(const void* packed);

}  // namespace arm
}  // namespace kernels
}  // namespace gnrt
