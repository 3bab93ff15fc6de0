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

// Input-channel blocks of the stride-1 shift form (sparse_conv_shift_impl.h): a tile of output
// pixels is computed block by block, each block's input rows (input channels x kernel rows x
// tile vectors) small enough for the 32 KB L1, where every output channel then finds them;
// partial sums go through the output tile. Measured on this machine (Zen 4) at density 1/16,
// one kernel call each, configurations alternating in one process (min of 200 calls):
//  - 56x56, 64 -> 192 channels (conv3, 4-vector tiles): 796 us unblocked, 738-743 with blocks
//    of 32 channels, 784 with 24, 841 with 16;
//  - 28x28, 128 -> 256 (8-vector tiles): 585 us unblocked, 513-517 with blocks of 64 or 80, 563
//    with 40; 96 -> 128: 205 -> 190 with 64;
//  - 14x14, 144 -> 288: 163 us unblocked, 162 with blocks of 64 (3 blocks), 153-155 with 80 or
//    96 (2 blocks); 160 -> 320: 208 -> 191-193 with 80 or 96.
// So at most 32 channels per block at row stride 64 or more, 64 at 32, 96 below. The stride-2
// phase form (sparse_conv_phase_shift) keeps one block: its phase buffer is already L1-sized.
inline int shift_channel_blocks(const ConvProblem& p) {
  if (p.geometry.stride_h != 1 || p.geometry.stride_w != 1) return 1;
  const int most = p.in_row_stride >= 64 ? 32 : p.in_row_stride >= 32 ? 64 : 96;
  const int in = p.geometry.in_channels / (p.geometry.groups > 0 ? p.geometry.groups : 1);
  return in > most ? (in + most - 1) / most : 1;
}
// The block of input channel ic (0-based within its group) of `in` channels split in `blocks`.
inline int shift_block_of(int ic, int in, int blocks) {
  return static_cast<int>(static_cast<long long>(ic) * blocks / in);
}

// The shift form's regions: kShiftGroups * blocks ranges per output channel (block-major).
inline SparseConvPacked sparse_conv_shift_regions(int out_channels, const void* packed,
                                                  int blocks) {
  const auto* base = static_cast<const char*>(packed);
  const std::size_t out = static_cast<std::size_t>(out_channels);
  const std::size_t row_begin = internal::align64(out * sizeof(float));
  const std::size_t entries =
      row_begin + internal::align64((out * kShiftGroups * static_cast<std::size_t>(blocks) + 1) *
                                    sizeof(std::uint32_t));
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
