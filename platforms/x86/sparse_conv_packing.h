// Packed form shared by the x86 direct sparse convolutions (any ISA; the packing code is
// compiled without ISA flags). Each region starts on a 64-byte boundary:
//
//   float        bias[out_channels]          zeros when the layer has no bias
//   uint32_t     row_begin[out_channels + 1] nonzeros of output channel o: entries
//                                            row_begin[o] .. row_begin[o + 1] - 1
//   SparseEntry  entries[nonzeros]           (input offset in floats, weight)
//
// The offset of nonzero (ic, ky, kx) of output channel o (ic within o's group) is
//   (group_base + ic) * in_channel_stride + (ky * dilation_h - pad_top) * in_row_stride
//   + (kx * dilation_w - pad_left)
// i.e. relative to input element (oy * stride_h, ox * stride_w) for output pixel (oy, ox). The
// kernels add it to a pointer, so every tap is one constant offset into the zero-padded planes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "gnrt/kernels.h"
#include "select_internal.h"

namespace gnrt {
namespace kernels {
namespace x86 {

struct SparseEntry {
  std::int32_t offset;  // floats
  float value;
};
static_assert(sizeof(SparseEntry) == 8, "entries are 8 bytes, read as one pair");

struct SparseConvPacked {
  const float* bias;
  const std::uint32_t* row_begin;
  const SparseEntry* entries;
};

inline SparseConvPacked sparse_conv_regions(int out_channels, const void* packed) {
  const auto* base = static_cast<const char*>(packed);
  const std::size_t out = static_cast<std::size_t>(out_channels);
  const std::size_t row_begin = internal::align64(out * sizeof(float));
  const std::size_t entries = row_begin + internal::align64((out + 1) * sizeof(std::uint32_t));
  return {reinterpret_cast<const float*>(base),
          reinterpret_cast<const std::uint32_t*>(base + row_begin),
          reinterpret_cast<const SparseEntry*>(base + entries)};
}

std::size_t sparse_conv_packed_bytes(const ConvProblem& problem);
void sparse_conv_pack(const ConvProblem& problem, void* packed);

// Shift groups (sparse_conv_shift_impl.h): the same regions, but row_begin holds kShiftGroups
// ranges per output channel, for the taps of column shift kx * dilation_w - pad_left = -2, -1,
// 0, 1, 2 (out_channels * kShiftGroups + 1 bounds), and each entry's offset is the tap's offset
// minus its shift.
constexpr int kShiftGroups = 5;
inline SparseConvPacked sparse_conv_shift_regions(int out_channels, const void* packed) {
  const auto* base = static_cast<const char*>(packed);
  const std::size_t out = static_cast<std::size_t>(out_channels);
  const std::size_t row_begin = internal::align64(out * sizeof(float));
  const std::size_t entries =
      row_begin + internal::align64((out * kShiftGroups + 1) * sizeof(std::uint32_t));
  return {reinterpret_cast<const float*>(base),
          reinterpret_cast<const std::uint32_t*>(base + row_begin),
          reinterpret_cast<const SparseEntry*>(base + entries)};
}
std::size_t sparse_conv_shift_packed_bytes(const ConvProblem& problem);
void sparse_conv_pack_shift(const ConvProblem& problem, void* packed);
// Stride 1, every column shift in -2..2, the flat run (equal input and output row strides),
// row and channel strides multiples of 16 floats, and sparse_conv_border_ok.
bool sparse_conv_shift_supported(const ConvProblem& problem);

// The input border covers every tap of every output pixel (so no bounds checks are needed) and
// offsets fit in int32.
bool sparse_conv_border_ok(const ConvProblem& problem);

// Rows of input that the last output row's taps reach below the plane, etc. are covered by
// in_pad; this is the number of zero-border pixels a convolution needs on each side.
struct ConvReach {
  int top, left, bottom, right;
};
ConvReach conv_reach(const ConvGeometry& g);

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
