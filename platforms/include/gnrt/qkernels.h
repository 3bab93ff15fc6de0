// int8 microkernels (format 1.1 models): uint8 activations, int8 weights, int32 accumulators.
//
// Activation layout "C4": channels in groups of 4, each group a plane of 4-byte positions with the
// 4 channels' bytes interleaved. Element (c, y, x) is at
//   data[((c / 4) * group_stride + y * row_stride + x) * 4 + c % 4]
// where `data` points at element (0, 0, 0) and strides count positions (4 bytes each). Around
// every plane the producer keeps a border of the tensor's zero point (the quantized 0.0), so a
// convolution reads padding as real zero without bounds checks; channels past the last real one
// (up to the next multiple of 4) hold the zero point too.
//
// Requantization, defined once (docs/format.md, "int8"): for output channel o,
//   acc = bias[o] + sum over stored weights of q_w * q_in        (int32, exact)
//   y   = clamp(round_half_even(clamp(float(acc) * m[o], -512, 512)) + z_out, lo, 255)
// where bias[o] = bias_i32[o] - z_in * sum(q_w of row o) (the zero-point correction, folded at
// packing), m[o] = float(double(s_in) * double(s_w[o]) / double(s_out)), float(acc) rounds to
// nearest even, and lo = z_out with ReLU, else 0. The clamp to +-512 changes no result (the output
// range is 0..255) and keeps the conversion in range on every ISA.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>

#include "gnrt/kernels.h"

namespace gnrt {
namespace kernels {

struct QConvProblem {
  int in_channels = 0;
  int out_channels = 0;
  int in_height = 0, in_width = 0;
  int out_height = 0, out_width = 0;
  int kernel_h = 1, kernel_w = 1;
  int stride_h = 1, stride_w = 1;
  int pad_top = 0, pad_left = 0;
  int dilation_h = 1, dilation_w = 1;
  // C4 strides in positions.
  std::ptrdiff_t in_row_stride = 0, in_group_stride = 0;
  std::ptrdiff_t out_row_stride = 0, out_group_stride = 0;
  int in_zero_point = 0;
  int out_zero_point = 0;
  int out_min = 0;  // z_out with ReLU, else 0
};

// The weights of one int8 layer as the packer reads them: per output channel, `row_count[o]`
// entries of 4 int8 weights (input channels 4g..4g+3 at tap t = ky * kernel_w + kx), entry
// (group g, tap t) given as `group[k]`, `tap[k]`, `w4[k]` (little-endian bytes, channel 4g in the
// low byte). Rows follow one another.
struct QConvWeights {
  const std::uint32_t* row_begin;  // out_channels + 1
  const std::uint32_t* group;
  const std::uint32_t* tap;
  const std::int32_t* w4;
  const std::int32_t* bias_i32;  // out_channels, or nullptr (zero)
  const float* multiplier;       // out_channels: m[o] above
};

// Packed form shared by every int8 convolution kernel (platforms/scalar/qconv.cc):
// row_begin[oc_pad + 1], bias[oc_pad], multiplier[oc_pad], then per entry {offset, w4}, with
// oc_pad = out_channels rounded up to 4 (the extra rows empty, multiplier 0). `offset` is in
// bytes, from the input position that the output position's window starts at (top-left tap
// before padding) to the entry's 4 bytes.
struct QPackedHeader {
  int out_channels_padded;
  int entries;
};
struct QEntry {
  std::int32_t offset;
  std::int32_t w4;
};
// The packed form's parts, as every kernel reads them.
struct QPackedView {
  const QPackedHeader* header;
  const std::uint32_t* row_begin;
  const std::int32_t* bias;
  const float* multiplier;
  const QEntry* entries;
};
inline std::size_t qpacked_entries_offset(int oc_pad) {
  const std::size_t bytes = sizeof(QPackedHeader) + sizeof(std::uint32_t) * (oc_pad + 1) +
                            sizeof(std::int32_t) * oc_pad + sizeof(float) * oc_pad;
  return (bytes + 63) / 64 * 64;
}
inline QPackedView qpacked_view(const void* packed) {
  const auto* base = static_cast<const std::uint8_t*>(packed);
  QPackedView v;
  v.header = reinterpret_cast<const QPackedHeader*>(base);
  const int oc_pad = v.header->out_channels_padded;
  v.row_begin = reinterpret_cast<const std::uint32_t*>(base + sizeof(QPackedHeader));
  v.bias = reinterpret_cast<const std::int32_t*>(v.row_begin + oc_pad + 1);
  v.multiplier = reinterpret_cast<const float*>(v.bias + oc_pad);
  v.entries = reinterpret_cast<const QEntry*>(base + qpacked_entries_offset(oc_pad));
  return v;
}

// The stride-1 "flat" kernels (every ISA): output position (y, x) reads input
// (y + ky - pad_top, x + kx - pad_left) at the same flat index plus the entry's offset, so input
// and output must share a row stride.
inline bool qconv_s1_flat_fits(const QConvProblem& p) {
  return p.stride_h == 1 && p.stride_w == 1 && p.in_row_stride == p.out_row_stride &&
         p.out_width <= p.out_row_stride;
}

// What a flat kernel wrote into the row gaps of one output group's plane (`out` at its (0, 0)),
// restored to the zero point: the right border of row y, the left border of row y + 1.
inline void qconv_restore_row_gaps(const QConvProblem& p, std::uint8_t* out) {
  const std::ptrdiff_t rs = p.out_row_stride;
  const std::uint32_t fill = 0x01010101u * static_cast<std::uint32_t>(p.out_zero_point);
  for (int y = 0; y + 1 < p.out_height; ++y)
    for (std::ptrdiff_t x = p.out_width; x < rs; ++x) std::memcpy(out + (y * rs + x) * 4, &fill, 4);
}

std::size_t qconv_packed_bytes(const QConvProblem& problem, const QConvWeights& weights);
void qconv_pack(const QConvProblem& problem, const QConvWeights& weights, void* packed);

// Output channels [oc_begin, oc_end): oc_begin a multiple of 4, oc_end a multiple of 4 or
// out_channels. Writes every output position of those channels' groups' interior and leaves the
// border untouched (the runtime fills borders once; kernels that write into the row gaps restore
// them to z_out before returning).
using QConvRunFn = void (*)(const QConvProblem& problem, const void* packed,
                            const std::uint8_t* input, std::uint8_t* output, int oc_begin,
                            int oc_end);

struct QConvKernel {
  const char* name = "";
  QConvRunFn run = nullptr;
};

// The reference (platforms/scalar/qconv.cc): any stride, dilation and padding.
void qs8_conv2d_ref(const QConvProblem& problem, const void* packed, const std::uint8_t* input,
                    std::uint8_t* output, int oc_begin, int oc_end);

// The requantization of one accumulator, as every kernel computes it.
inline int requantize(std::int32_t acc, float multiplier, int zero_point, int lo) {
  float x = static_cast<float>(acc) * multiplier;
  x = x < -512.0f ? -512.0f : (x > 512.0f ? 512.0f : x);
  int y = static_cast<int>(std::nearbyint(x)) + zero_point;
  return y < lo ? lo : (y > 255 ? 255 : y);
}

// uint8 pooling on C4 tensors whose input and output share one quantization (format 1.1): max
// pooling takes the largest q of the taps inside the plane; average pooling and global average
// pooling give z + round_half_even(S / n), S the sum of (q - z) over the taps inside the plane and
// n the divisor of the float operator (the taps inside the plane, or with count_include_pad the
// window clipped to the padded extent); a window with no tap inside the plane gives z (0.0). ReLU
// then raises values below z to z. Windows are clipped to the plane, so borders are never read.
struct QPoolProblem {
  PoolGeometry geometry{};
  bool max = true;
  bool global = false;
  bool count_include_pad = false;
  int pad_bottom = 0, pad_right = 0;
  bool relu = false;
  int zero_point = 0;
  std::ptrdiff_t in_row_stride = 0, in_group_stride = 0;    // positions
  std::ptrdiff_t out_row_stride = 0, out_group_stride = 0;  // positions
  // Every input value is at least the zero point (its producers end in ReLU) and the input keeps
  // a border of `in_pad` positions holding the zero point: then a tap in the border never wins.
  bool input_at_least_zero = false;
  int in_pad = 0;
};

// Channel groups [g_begin, g_end) (4 channels each; geometry.channels counts channels).
void qu8_pool_ref(const QPoolProblem& problem, const std::uint8_t* input, std::uint8_t* output,
                  int g_begin, int g_end);

// Max pooling as qu8_pool_ref computes it, row by row: the window's rows reduced with byte-wise
// maxima over whole rows (vectorized by the compiler), then each output's columns. Inputs up to
// kQMaxPoolRowsWidth positions wide (qu8_maxpool_rows_fits).
constexpr int kQMaxPoolRowsWidth = 4096;
inline bool qu8_maxpool_rows_fits(const QPoolProblem& p) {
  return p.max && !p.global && p.geometry.in_width <= kQMaxPoolRowsWidth;
}
void qu8_maxpool_rows(const QPoolProblem& problem, const std::uint8_t* input,
                      std::uint8_t* output, int g_begin, int g_end);

// Stride-1 max pooling that keeps the plane's size and layout (GoogLeNet's 3x3/1 pad-1 branch
// pools): each group's plane, from its first to its last interior position, as one flat run of
// bytes, out[i] = max over the taps of in[i + offset]; border taps read the zero point, which never
// wins (input_at_least_zero). Writes the row gaps too: the caller restores the output's border.
inline bool qu8_maxpool_s1_flat_fits(const QPoolProblem& p) {
  const PoolGeometry& g = p.geometry;
  return p.max && !p.global && p.input_at_least_zero && g.stride_h == 1 && g.stride_w == 1 &&
         g.out_height == g.in_height && g.out_width == g.in_width &&
         p.in_row_stride == p.out_row_stride && p.in_group_stride == p.out_group_stride &&
         g.pad_top >= 0 && g.pad_left >= 0 && g.pad_top <= p.in_pad && g.pad_left <= p.in_pad &&
         g.kernel_h - 1 - g.pad_top <= p.in_pad && g.kernel_w - 1 - g.pad_left <= p.in_pad &&
         g.pad_top < g.kernel_h && g.pad_left < g.kernel_w && g.kernel_h * g.kernel_w <= 64;
}
void qu8_maxpool_s1_flat(const QPoolProblem& problem, const std::uint8_t* input,
                         std::uint8_t* output, int g_begin, int g_end);

// Max pooling that reads its window's taps in the input's border instead of clipping them: valid
// when every input value is at least the zero point (a border tap never wins) and every window
// lies within the border (qu8_maxpool_border_fits). The x86 rows of the registry's qpool table
// (x86/qu8-*.cc) work this way, at any stride_h and stride_w 1 or 2; they write only the output's
// interior.
inline bool qu8_maxpool_border_fits(const QPoolProblem& p) {
  const PoolGeometry& g = p.geometry;
  if (!p.max || p.global || !p.input_at_least_zero) return false;
  if (g.stride_w != 1 && g.stride_w != 2) return false;
  if (g.kernel_h * g.kernel_w > 64 || g.out_height < 1 || g.out_width < 1) return false;
  if (g.pad_top < 0 || g.pad_left < 0 || g.pad_top > p.in_pad || g.pad_left > p.in_pad)
    return false;
  const long long last_y = static_cast<long long>(g.out_height - 1) * g.stride_h - g.pad_top +
                           g.kernel_h - 1;
  const long long last_x = static_cast<long long>(g.out_width - 1) * g.stride_w - g.pad_left +
                           g.kernel_w - 1;
  return last_y < g.in_height + p.in_pad && last_x < g.in_width + p.in_pad;
}

using QPoolRunFn = void (*)(const QPoolProblem& problem, const std::uint8_t* input,
                            std::uint8_t* output, int g_begin, int g_end);
struct QPoolKernel {
  const char* name = "";
  QPoolRunFn run = nullptr;
  // Writes the row gaps (and may write other border bytes) of the output: the caller restores the
  // output's border after it.
  bool writes_gaps = false;
};

// round_half_even(s / n) for n > 0, exactly, in integers.
inline std::int64_t divide_round_half_even(std::int64_t s, std::int64_t n) {
  const bool negative = s < 0;
  const std::int64_t a = negative ? -s : s;
  std::int64_t q = a / n;
  const std::int64_t r2 = 2 * (a % n);
  if (r2 > n || (r2 == n && (q & 1) != 0)) ++q;
  return negative ? -q : q;
}

// The fastest registered kernel for the problem at ISA level `isa` (the reference when no other
// fits). Never fails.
QConvKernel select_qconv(const QConvProblem& problem, Isa isa);
// The same for uint8 pooling (the registry's qpool tables; qu8_pool_ref when no other fits).
QPoolKernel select_qpool(const QPoolProblem& problem, Isa isa);

}  // namespace kernels
}  // namespace gnrt
