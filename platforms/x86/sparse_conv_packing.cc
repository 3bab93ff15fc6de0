// Packing for the x86 direct sparse convolutions (no ISA flags: runs at plan time on any CPU).
#include "x86/sparse_conv_packing.h"
#include "x86/sparse_conv_phase.h"

#include <cstring>
#include <limits>

namespace gnrt {
namespace kernels {
namespace x86 {

ConvReach conv_reach(const ConvGeometry& g) {
  ConvReach reach;
  reach.top = g.pad_top;
  reach.left = g.pad_left;
  reach.bottom = (g.out_height - 1) * g.stride_h - g.pad_top + (g.kernel_h - 1) * g.dilation_h -
                 (g.in_height - 1);
  reach.right = (g.out_width - 1) * g.stride_w - g.pad_left + (g.kernel_w - 1) * g.dilation_w -
                (g.in_width - 1);
  return reach;
}

bool sparse_conv_border_ok(const ConvProblem& p) {
  const ConvGeometry& g = p.geometry;
  if (g.groups <= 0 || g.in_channels % g.groups != 0 || g.out_channels % g.groups != 0) {
    return false;
  }
  const ConvReach reach = conv_reach(g);
  if (reach.top > p.in_pad || reach.left > p.in_pad || reach.bottom > p.in_pad ||
      reach.right > p.in_pad) {
    return false;
  }
  if (!padded_plane_ok(p.in_row_stride, p.in_channel_stride, g.in_height, g.in_width, p.in_pad))
    return false;
  // Largest offset magnitude: the last input channel, last tap; the first tap's negative offset.
  const double largest =
      static_cast<double>(g.in_channels) * static_cast<double>(p.in_channel_stride) +
      static_cast<double>(g.kernel_h) * g.dilation_h * static_cast<double>(p.in_row_stride) +
      static_cast<double>(g.kernel_w) * g.dilation_w;
  return largest < static_cast<double>(std::numeric_limits<std::int32_t>::max() / 2);
}

namespace {

std::size_t count_nonzeros(const ConvProblem& p) {
  const ConvGeometry& g = p.geometry;
  if (p.sparse.row_begin != nullptr) {
    std::size_t count = 0;
    for (std::uint32_t n = 0; n < p.sparse.row_begin[g.out_channels]; ++n) {
      if (p.sparse.values[n] != 0.0f) ++count;
    }
    return count;
  }
  const std::size_t total = static_cast<std::size_t>(g.out_channels) * (g.in_channels / g.groups) *
                            g.kernel_h * g.kernel_w;
  std::size_t count = 0;
  for (std::size_t i = 0; i < total; ++i) {
    if (p.dense_weights[i] != 0.0f) ++count;
  }
  return count;
}

// Calls fn(index, value) for the nonzero weights of output channel o, in tap order; index =
// (ic within the group) * kernel_h * kernel_w + ky * kernel_w + kx.
template <typename Fn>
void for_each_nonzero(const ConvProblem& p, int o, Fn&& fn) {
  const ConvGeometry& g = p.geometry;
  if (p.sparse.row_begin != nullptr) {
    for (std::uint32_t n = p.sparse.row_begin[o]; n < p.sparse.row_begin[o + 1]; ++n) {
      if (p.sparse.values[n] != 0.0f) fn(p.sparse.indices[n], p.sparse.values[n]);
    }
    return;
  }
  const std::uint32_t row_size =
      static_cast<std::uint32_t>((g.in_channels / g.groups) * g.kernel_h * g.kernel_w);
  const float* row = p.dense_weights + static_cast<std::size_t>(o) * row_size;
  for (std::uint32_t i = 0; i < row_size; ++i) {
    if (row[i] != 0.0f) fn(i, row[i]);
  }
}

}  // namespace

std::size_t sparse_conv_packed_bytes(const ConvProblem& p) {
  const std::size_t out = static_cast<std::size_t>(p.geometry.out_channels);
  return internal::align64(out * sizeof(float)) +
         internal::align64((out + 1) * sizeof(std::uint32_t)) +
         internal::align64(count_nonzeros(p) * sizeof(SparseEntry));
}

bool sparse_conv_phase_supported(const ConvProblem& p) {
  const ConvGeometry& g = p.geometry;
  return g.stride_h == 2 && g.stride_w == 2 && g.dilation_h == 1 && g.dilation_w == 1 &&
         g.groups == 1 && sparse_conv_border_ok(p) &&
         phase_buffer_floats(g) <= kMaxPhaseBufferFloats;
}

namespace {

// Offset and column shift of tap (ic, ky, kx) in the stride-1 layout (ic counted from the first
// input channel of the output channel's group).
struct TapPlace {
  std::ptrdiff_t offset;  // without the shift
  int shift;
  int block = 0;  // input-channel block (shift form)
};
TapPlace plain_place(const ConvProblem& p, int ic, int ky, int kx) {
  const ConvGeometry& g = p.geometry;
  return {ic * p.in_channel_stride +
              static_cast<std::ptrdiff_t>(ky * g.dilation_h - g.pad_top) * p.in_row_stride,
          kx * g.dilation_w - g.pad_left};
}

// Fills the regions of either packed form: `groups` ranges per output channel (1: the plain
// form, offset plus shift; kShiftGroups * blocks: one range per input-channel block and column
// shift -2..2, offsets without the shift). `place` maps a tap to its offset, shift and block.
template <typename Place>
void pack_entries(const ConvProblem& p, const SparseConvPacked& regions, int groups,
                  Place&& place) {
  const ConvGeometry& g = p.geometry;
  auto* bias = const_cast<float*>(regions.bias);
  auto* row_begin = const_cast<std::uint32_t*>(regions.row_begin);
  auto* entries = const_cast<SparseEntry*>(regions.entries);
  for (int o = 0; o < g.out_channels; ++o) bias[o] = p.bias != nullptr ? p.bias[o] : 0.0f;

  const int in_per_group = g.in_channels / g.groups;
  const int out_per_group = g.out_channels / g.groups;
  const int taps = g.kernel_h * g.kernel_w;
  std::uint32_t count = 0;
  row_begin[0] = 0;
  for (int o = 0; o < g.out_channels; ++o) {
    const int ic_base = (o / out_per_group) * in_per_group;
    // One pass over the channel's nonzeros per range, so each range stays in tap order.
    for (int range = 0; range < groups; ++range) {
      for_each_nonzero(p, o, [&](std::uint32_t index, float value) {
        const int ic = static_cast<int>(index) / taps;
        const int ky = (static_cast<int>(index) % taps) / g.kernel_w;
        const int kx = static_cast<int>(index) % g.kernel_w;
        const TapPlace at = place(ic_base + ic, ky, kx);
        if (groups > 1 && at.block * kShiftGroups + at.shift + 2 != range) return;
        const std::ptrdiff_t offset = at.offset + (groups > 1 ? 0 : at.shift);
        entries[count++] = {static_cast<std::int32_t>(offset), value};
      });
      row_begin[o * groups + range + 1] = count;
    }
  }
}

}  // namespace

void sparse_conv_pack(const ConvProblem& p, void* packed) {
  pack_entries(p, sparse_conv_regions(p.geometry.out_channels, packed), 1,
               [&](int ic, int ky, int kx) { return plain_place(p, ic, ky, kx); });
}

std::size_t sparse_conv_shift_packed_bytes(const ConvProblem& p) {
  const std::size_t out = static_cast<std::size_t>(p.geometry.out_channels);
  const std::size_t blocks = static_cast<std::size_t>(shift_channel_blocks(p));
  return internal::align64(out * sizeof(float)) +
         internal::align64((out * kShiftGroups * blocks + 1) * sizeof(std::uint32_t)) +
         internal::align64(count_nonzeros(p) * sizeof(SparseEntry));
}

bool sparse_conv_shift_supported(const ConvProblem& p) {
  const ConvGeometry& g = p.geometry;
  if (g.stride_h != 1 || g.stride_w != 1) return false;
  const int lowest = -g.pad_left;
  const int highest = (g.kernel_w - 1) * g.dilation_w - g.pad_left;
  if (lowest < -2 || highest > 2) return false;
  if (p.in_row_stride != p.out_row_stride || p.in_row_stride % 16 != 0) return false;
  if (p.in_channel_stride % 16 != 0 || p.out_channel_stride % 16 != 0) return false;
  return sparse_conv_border_ok(p);
}

void sparse_conv_pack_shift(const ConvProblem& p, void* packed) {
  const ConvGeometry& g = p.geometry;
  const int blocks = shift_channel_blocks(p);
  const int in_per_group = g.in_channels / g.groups;
  pack_entries(p, sparse_conv_shift_regions(g.out_channels, packed, blocks), kShiftGroups * blocks,
               [&](int ic, int ky, int kx) {
                 TapPlace at = plain_place(p, ic, ky, kx);
                 at.block = shift_block_of(ic % in_per_group, in_per_group, blocks);
                 return at;
               });
}

void sparse_conv_pack_phase(const ConvProblem& p, void* packed) {
  // The regions of sparse_conv_pack with phase-buffer offsets (sparse_conv_phase.h).
  const ConvGeometry& g = p.geometry;
  const std::ptrdiff_t row = phase_row_floats(g);
  pack_entries(p, sparse_conv_regions(g.out_channels, packed), 1, [&](int ic, int ky, int kx) {
    return TapPlace{((ic * g.kernel_h + ky) * 2 + (kx & 1)) * row, kx >> 1};
  });
}

bool sparse_conv_phase_shift_supported(const ConvProblem& p) {
  const ConvGeometry& g = p.geometry;
  return g.stride_h == 2 && g.stride_w == 2 && g.dilation_h == 1 && g.dilation_w == 1 &&
         g.groups == 1 && g.kernel_w <= 9 && sparse_conv_border_ok(p) &&
         phase_shift_buffer_floats(g) <= kMaxPhaseBufferFloats;
}

void sparse_conv_pack_phase_shift(const ConvProblem& p, void* packed) {
  const ConvGeometry& g = p.geometry;
  const std::ptrdiff_t row = phase_shift_row_floats(g);
  const int center = phase_shift_center(g);
  const int blocks = shift_channel_blocks(p);  // 1: all taps in one block
  pack_entries(p, sparse_conv_shift_regions(g.out_channels, packed, blocks), kShiftGroups * blocks,
               [&](int ic, int ky, int kx) {
                 return TapPlace{((ic * g.kernel_h + ky) * 2 + (kx & 1)) * row, kx / 2 - center};
               });
}

}  // namespace x86
}  // namespace kernels
}  // namespace gnrt
