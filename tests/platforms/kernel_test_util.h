// Shared helpers for the kernel tests: random shapes, planar buffers with borders and strides,
// CSR construction, and naive references written independently of platforms/scalar.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <vector>

#include "gnrt/kernels.h"

namespace gnrt_test {

using gnrt::kernels::ConvGeometry;
using gnrt::kernels::PoolGeometry;
using gnrt::kernels::SparseRows;

inline float nan_value() { return std::numeric_limits<float>::quiet_NaN(); }

// A stack of `channels` planes of height x width, each surrounded by a border of `pad` elements
// and laid out with row_stride >= width + 2 * pad and channel_stride >= (height + 2 * pad) *
// row_stride. `slack` floats follow the last plane (kernels may over-read there), and the
// origin can be shifted by `misalign` floats to exercise unaligned bases.
class Planes {
 public:
  // shared: left and right borders shared (row_stride = width + pad + extra_row: the right
  // border of row y is the left border of row y + 1, as the planner lays planes out), so every
  // float of a row past its interior is border, and the plane has `pad` more floats at its end
  // (gnrt::kernels::padded_plane_ok).
  // misalign == align_origin(k): the interior origin k floats past a 64-byte boundary (k = 0:
  // the planner's layout, whose interior origins are 64-byte aligned).
  static constexpr int align_origin(int k) { return -1 - k; }
  Planes(int channels, int height, int width, int pad, int extra_row = 0, int extra_channel = 0,
         int slack = 0, int misalign = 0, bool shared = false)
      : channels_(channels), height_(height), width_(width), pad_(pad), shared_(shared) {
    row_stride_ = width + (shared ? pad : 2 * pad) + extra_row;
    channel_stride_ = static_cast<std::ptrdiff_t>(height + 2 * pad) * row_stride_ +
                      (shared ? pad : 0) + extra_channel;
    // 16 floats of headroom (gnrt::kernels::kMaxUnderreadFloats, which kernels may read) before
    // the region, also with a misaligned origin.
    storage_.assign(static_cast<std::size_t>(16 + 16 + channels * channel_stride_ + slack + 16),
                    0.0f);
    if (misalign < 0) {
      const std::uintptr_t want = static_cast<std::uintptr_t>(-1 - misalign) * sizeof(float);
      misalign = 0;
      while (reinterpret_cast<std::uintptr_t>(storage_.data() + 16 + misalign + pad * row_stride_ +
                                              pad) %
                 64 !=
             want)
        ++misalign;
    }
    base_ = 16 + misalign;
    size_ = static_cast<std::size_t>(channels * channel_stride_ + slack);
  }

  int channels() const { return channels_; }
  int height() const { return height_; }
  int width() const { return width_; }
  int pad() const { return pad_; }
  std::ptrdiff_t row_stride() const { return row_stride_; }
  std::ptrdiff_t channel_stride() const { return channel_stride_; }

  // Pointer at element (0, 0, 0) of the interior.
  float* origin() { return storage_.data() + base_ + pad_ * row_stride_ + pad_; }
  const float* origin() const { return storage_.data() + base_ + pad_ * row_stride_ + pad_; }

  float& at(int c, int y, int x) { return origin()[c * channel_stride_ + y * row_stride_ + x]; }
  float at(int c, int y, int x) const {
    return origin()[c * channel_stride_ + y * row_stride_ + x];
  }

  // Every float of the region (borders, gaps, slack) set to `value`; interiors untouched.
  void fill_outside(float value) {
    for (std::size_t i = 0; i < size_; ++i) {
      if (!is_interior(static_cast<std::ptrdiff_t>(i))) storage_[base_ + i] = value;
    }
  }
  // The zero border the planner guarantees (`pad` elements around each plane) and
  // `other_value` everywhere else outside the interiors: gap columns past the right border,
  // rows between planes, and the slack after the last plane.
  // The floats before the first plane (at least kMaxUnderreadFloats, which kernels may read) get
  // `other_value` too.
  void zero_border_fill_rest(float other_value) {
    std::fill(storage_.begin(), storage_.begin() + static_cast<std::ptrdiff_t>(base_), other_value);
    for (std::size_t i = 0; i < size_; ++i) {
      const auto pos = static_cast<std::ptrdiff_t>(i);
      if (is_interior(pos)) continue;
      storage_[base_ + i] = in_padded_plane(pos) ? 0.0f : other_value;
    }
  }
  // `value` in every float of each channel's storage outside rows 0..height-1 and their gaps
  // (the flat range [0, height * row_stride) from the channel's interior origin): the border
  // rows above and below the interior, which a consumer with reads_border_rows == false never
  // reads (kernels.h).
  void fill_outside_rows(float value) {
    const std::ptrdiff_t origin_offset = pad_ * row_stride_ + pad_;
    for (std::size_t i = 0; i < size_; ++i) {
      const auto pos = static_cast<std::ptrdiff_t>(i);
      if (pos >= channels_ * channel_stride_) break;
      const std::ptrdiff_t rel = pos % channel_stride_ - origin_offset;
      if (rel < 0 || rel >= height_ * row_stride_) storage_[base_ + i] = value;
    }
  }
  // Whether flat position i lies in the interior or the `pad` border of its plane.
  bool in_padded_plane(std::ptrdiff_t i) const {
    if (i >= channels_ * channel_stride_) return false;
    const std::ptrdiff_t in_plane = i % channel_stride_;
    if (shared_) return in_plane < (height_ + 2 * pad_) * row_stride_ + pad_;
    const std::ptrdiff_t y = in_plane / row_stride_;
    const std::ptrdiff_t x = in_plane % row_stride_;
    return y < height_ + 2 * pad_ && x < width_ + 2 * pad_;
  }
  void fill_all(float value) {
    std::fill(storage_.begin() + static_cast<std::ptrdiff_t>(base_),
              storage_.begin() + static_cast<std::ptrdiff_t>(base_ + size_), value);
  }
  template <typename Rng>
  void fill_interior_random(Rng& rng, float low = -1.0f, float high = 1.0f) {
    std::uniform_real_distribution<float> dist(low, high);
    for (int c = 0; c < channels_; ++c)
      for (int y = 0; y < height_; ++y)
        for (int x = 0; x < width_; ++x) at(c, y, x) = dist(rng);
  }

  // Whether flat position i (relative to the region start) is an interior element.
  bool is_interior(std::ptrdiff_t i) const {
    if (i >= channels_ * channel_stride_) return false;
    const std::ptrdiff_t in_plane = i % channel_stride_;
    const std::ptrdiff_t y = in_plane / row_stride_ - pad_;
    const std::ptrdiff_t x = in_plane % row_stride_ - pad_;
    return y >= 0 && y < height_ && x >= 0 && x < width_;
  }
  // Number of floats in the row gaps (x in [width, row_stride) of every row, the last one's
  // too when the planes have a border below it) of channels [c_begin, channels) that are not
  // exactly 0: a kernel that zeroes row gaps leaves none (kernels.h).
  int nonzero_row_gaps(int c_begin) const {
    int count = 0;
    for (int c = c_begin; c < channels_; ++c)
      for (int y = 0; y < (pad_ >= 1 ? height_ : height_ - 1); ++y)
        for (std::ptrdiff_t x = width_; x < row_stride_; ++x) {  // up to element (y + 1, 0)
          if (!(origin()[c * channel_stride_ + y * row_stride_ + x] == 0.0f)) ++count;
        }
    return count;
  }
  // Channel of flat position i, or -1 past the planes.
  int channel_of(std::ptrdiff_t i) const {
    if (i >= channels_ * channel_stride_) return -1;
    return static_cast<int>(i / channel_stride_);
  }
  const float* region() const { return storage_.data() + base_; }
  std::size_t region_size() const { return size_; }

 private:
  int channels_, height_, width_, pad_;
  bool shared_ = false;
  std::ptrdiff_t row_stride_ = 0, channel_stride_ = 0;
  std::vector<float> storage_;
  std::size_t base_ = 0;
  std::size_t size_ = 0;
};

// The strides and borders of a ConvProblem or PoolProblem from the planes it reads and writes.
template <typename Problem>
void set_layout(Problem* p, const Planes& input, const Planes& output) {
  p->in_row_stride = input.row_stride();
  p->in_channel_stride = input.channel_stride();
  p->in_pad = input.pad();
  p->out_row_stride = output.row_stride();
  p->out_channel_stride = output.channel_stride();
  p->out_pad = output.pad();
}

// CSR copy of a dense [rows][row_size] matrix (zeros dropped).
struct Csr {
  std::vector<std::uint32_t> row_begin;
  std::vector<std::uint32_t> indices;
  std::vector<float> values;
  SparseRows view() const { return {row_begin.data(), indices.data(), values.data()}; }
  std::uint64_t nonzeros() const { return values.size(); }
};

inline Csr to_csr(const std::vector<float>& dense, int rows, std::size_t row_size) {
  Csr csr;
  csr.row_begin.push_back(0);
  for (int r = 0; r < rows; ++r) {
    for (std::size_t i = 0; i < row_size; ++i) {
      const float v = dense[r * row_size + i];
      if (v != 0.0f) {
        csr.indices.push_back(static_cast<std::uint32_t>(i));
        csr.values.push_back(v);
      }
    }
    csr.row_begin.push_back(static_cast<std::uint32_t>(csr.values.size()));
  }
  return csr;
}

// Dense weights where each entry is nonzero with probability `density` (values never exactly 0).
template <typename Rng>
std::vector<float> random_sparse_weights(Rng& rng, std::size_t count, double density) {
  std::uniform_real_distribution<float> value(0.05f, 1.0f);
  std::uniform_real_distribution<double> keep(0.0, 1.0);
  std::bernoulli_distribution negative(0.5);
  std::vector<float> w(count, 0.0f);
  for (auto& x : w) {
    if (keep(rng) < density) x = negative(rng) ? -value(rng) : value(rng);
  }
  return w;
}

template <typename Rng>
std::vector<float> random_vector(Rng& rng, std::size_t count, float low = -1.0f,
                                 float high = 1.0f) {
  std::uniform_real_distribution<float> dist(low, high);
  std::vector<float> v(count);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline int conv_out_size(int in, int kernel, int stride, int pad_begin, int pad_end, int dilation) {
  const int effective = dilation * (kernel - 1) + 1;
  return (in + pad_begin + pad_end - effective) / stride + 1;
}

// Naive convolution, written differently from platforms/scalar on purpose: the input is first
// copied into an explicitly zero-padded buffer (so no bounds checks inside the loops), sums are
// accumulated in double, and the result goes to a dense [out_channels][out_h][out_w] vector.
inline std::vector<double> naive_conv(const ConvGeometry& g, const Planes& input,
                                      const std::vector<float>& weights_oihw,
                                      const std::vector<float>& bias, bool relu) {
  const int pt = g.pad_top, pl = g.pad_left;
  // Enough padding on the far side for every tap of every output pixel.
  const int need_h = (g.out_height - 1) * g.stride_h + (g.kernel_h - 1) * g.dilation_h + 1;
  const int need_w = (g.out_width - 1) * g.stride_w + (g.kernel_w - 1) * g.dilation_w + 1;
  const int ph = std::max(need_h, pt + g.in_height);
  const int pw = std::max(need_w, pl + g.in_width);
  std::vector<double> padded(static_cast<std::size_t>(g.in_channels) * ph * pw, 0.0);
  for (int c = 0; c < g.in_channels; ++c)
    for (int y = 0; y < g.in_height; ++y)
      for (int x = 0; x < g.in_width; ++x)
        padded[(static_cast<std::size_t>(c) * ph + y + pt) * pw + x + pl] = input.at(c, y, x);
  const int icg = g.in_channels / g.groups, ocg = g.out_channels / g.groups;
  std::vector<double> out(static_cast<std::size_t>(g.out_channels) * g.out_height * g.out_width);
  for (int o = 0; o < g.out_channels; ++o) {
    const int group = o / ocg;
    for (int oy = 0; oy < g.out_height; ++oy) {
      for (int ox = 0; ox < g.out_width; ++ox) {
        double sum = bias.empty() ? 0.0 : bias[o];
        for (int i = 0; i < icg; ++i) {
          const int c = group * icg + i;
          for (int ky = 0; ky < g.kernel_h; ++ky) {
            for (int kx = 0; kx < g.kernel_w; ++kx) {
              const double w =
                  weights_oihw[((static_cast<std::size_t>(o) * icg + i) * g.kernel_h + ky) *
                                   g.kernel_w +
                               kx];
              const int y = oy * g.stride_h + ky * g.dilation_h;
              const int x = ox * g.stride_w + kx * g.dilation_w;
              sum += w * padded[(static_cast<std::size_t>(c) * ph + y) * pw + x];
            }
          }
        }
        if (relu && sum < 0.0) sum = 0.0;
        out[(static_cast<std::size_t>(o) * g.out_height + oy) * g.out_width + ox] = sum;
      }
    }
  }
  return out;
}

// Sum of |w| * |x| over a filter, for a relative tolerance: float accumulation in a different
// order differs from the double reference by at most ~ n * eps * sum|w x|.
inline double conv_magnitude_bound(const ConvGeometry& g, const std::vector<float>& weights) {
  // Inputs are in [-1, 1]; the largest |w| row sum bounds sum |w x|.
  const std::size_t row = weights.size() / static_cast<std::size_t>(g.out_channels);
  double worst = 1.0;
  for (int o = 0; o < g.out_channels; ++o) {
    double s = 0.0;
    for (std::size_t i = 0; i < row; ++i) s += std::fabs(weights[o * row + i]);
    worst = std::max(worst, s);
  }
  return worst;
}

}  // namespace gnrt_test
