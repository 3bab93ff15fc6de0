// int8 convolution: the packed form every int8 kernel reads, and the scalar reference (the oracle:
// exact integer equality with every optimized kernel).
#include <cstring>

#include "gnrt/qkernels.h"

namespace gnrt {
namespace kernels {

namespace {

int padded_channels(int out_channels) { return (out_channels + 3) / 4 * 4; }

}  // namespace

std::size_t qconv_packed_bytes(const QConvProblem& p, const QConvWeights& w) {
  return qpacked_entries_offset(padded_channels(p.out_channels)) +
         sizeof(QEntry) * w.row_begin[p.out_channels];
}

void qconv_pack(const QConvProblem& p, const QConvWeights& w, void* packed) {
  const int oc_pad = padded_channels(p.out_channels);
  auto* base = static_cast<std::uint8_t*>(packed);
  auto* header = reinterpret_cast<QPackedHeader*>(base);
  header->out_channels_padded = oc_pad;
  header->entries = static_cast<int>(w.row_begin[p.out_channels]);
  auto* row_begin = reinterpret_cast<std::uint32_t*>(base + sizeof(QPackedHeader));
  auto* bias = reinterpret_cast<std::int32_t*>(row_begin + oc_pad + 1);
  auto* multiplier = reinterpret_cast<float*>(bias + oc_pad);
  auto* entries = reinterpret_cast<QEntry*>(base + qpacked_entries_offset(oc_pad));
  for (int o = 0; o <= oc_pad; ++o)
    row_begin[o] = w.row_begin[o < p.out_channels ? o : p.out_channels];
  for (int o = 0; o < oc_pad; ++o) {
    if (o >= p.out_channels) {
      bias[o] = 0;
      multiplier[o] = 0.0f;
      continue;
    }
    // Zero-point correction: sum q_w * (q_in - z_in) = sum q_w * q_in - z_in * sum q_w.
    std::int64_t sum_w = 0;
    for (std::uint32_t k = w.row_begin[o]; k < w.row_begin[o + 1]; ++k) {
      const std::uint32_t v = static_cast<std::uint32_t>(w.w4[k]);
      for (int b = 0; b < 4; ++b) sum_w += static_cast<std::int8_t>((v >> (8 * b)) & 0xff);
    }
    const std::int64_t b = (w.bias_i32 ? w.bias_i32[o] : 0) - p.in_zero_point * sum_w;
    bias[o] = static_cast<std::int32_t>(b);
    multiplier[o] = w.multiplier[o];
  }
  for (std::uint32_t k = 0; k < w.row_begin[p.out_channels]; ++k) {
    const int ky = static_cast<int>(w.tap[k]) / p.kernel_w;
    const int kx = static_cast<int>(w.tap[k]) % p.kernel_w;
    const std::ptrdiff_t positions =
        static_cast<std::ptrdiff_t>(w.group[k]) * p.in_group_stride +
        static_cast<std::ptrdiff_t>(ky * p.dilation_h - p.pad_top) * p.in_row_stride +
        (kx * p.dilation_w - p.pad_left);
    entries[k].offset = static_cast<std::int32_t>(positions * 4);
    entries[k].w4 = w.w4[k];
  }
}

void qs8_conv2d_ref(const QConvProblem& p, const void* packed, const std::uint8_t* input,
                    std::uint8_t* output, int oc_begin, int oc_end) {
  const QPackedView v = qpacked_view(packed);
  for (int o = oc_begin; o < oc_end; ++o) {
    std::uint8_t* out_plane = output + ((o / 4) * p.out_group_stride * 4 + o % 4);
    for (int y = 0; y < p.out_height; ++y) {
      for (int x = 0; x < p.out_width; ++x) {
        const std::uint8_t* anchor =
            input + (static_cast<std::ptrdiff_t>(y) * p.stride_h * p.in_row_stride +
                     static_cast<std::ptrdiff_t>(x) * p.stride_w) *
                        4;
        std::int32_t acc = v.bias[o];
        for (std::uint32_t k = v.row_begin[o]; k < v.row_begin[o + 1]; ++k) {
          const std::uint8_t* a = anchor + v.entries[k].offset;
          const std::uint32_t w4 = static_cast<std::uint32_t>(v.entries[k].w4);
          for (int b = 0; b < 4; ++b)
            acc += static_cast<std::int32_t>(a[b]) *
                   static_cast<std::int8_t>((w4 >> (8 * b)) & 0xff);
        }
        out_plane[(static_cast<std::ptrdiff_t>(y) * p.out_row_stride + x) * 4] =
            static_cast<std::uint8_t>(
                requantize(acc, v.multiplier[o], p.out_zero_point, p.out_min));
      }
    }
  }
}

}  // namespace kernels
}  // namespace gnrt
