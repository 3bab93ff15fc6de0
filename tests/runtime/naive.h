// Naive NCHW reference operators for the runtime tests: plain loops over contiguous arrays,
// written independently of platforms/scalar so that they check it as well.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <vector>

#include "gnrt/model_builder.h"

namespace naive {

struct Tensor {
  int c = 0, h = 0, w = 0;
  std::vector<float> data;
  float& at(int ci, int y, int x) { return data[(static_cast<std::size_t>(ci) * h + y) * w + x]; }
  float at(int ci, int y, int x) const {
    return data[(static_cast<std::size_t>(ci) * h + y) * w + x];
  }
};

inline Tensor make(int c, int h, int w) {
  Tensor t;
  t.c = c;
  t.h = h;
  t.w = w;
  t.data.assign(static_cast<std::size_t>(c) * h * w, 0.0f);
  return t;
}

inline Tensor conv(const Tensor& in, const gnrt::ConvParams& p, const std::vector<float>& wt,
                   const std::vector<float>& bias) {
  const int oh =
      gnrt::conv_output_size(in.h, p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom, p.dilation_h);
  const int ow =
      gnrt::conv_output_size(in.w, p.kernel_w, p.stride_w, p.pad_left, p.pad_right, p.dilation_w);
  Tensor out = make(p.out_channels, oh, ow);
  const int icg = in.c / p.groups, ocg = p.out_channels / p.groups;
  for (int o = 0; o < p.out_channels; ++o) {
    const int g = o / ocg;
    for (int y = 0; y < oh; ++y)
      for (int x = 0; x < ow; ++x) {
        double acc = bias.empty() ? 0.0 : bias[o];
        for (int i = 0; i < icg; ++i)
          for (int ky = 0; ky < p.kernel_h; ++ky)
            for (int kx = 0; kx < p.kernel_w; ++kx) {
              const int iy = y * p.stride_h - p.pad_top + ky * p.dilation_h;
              const int ix = x * p.stride_w - p.pad_left + kx * p.dilation_w;
              if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
              acc +=
                  static_cast<double>(
                      wt[((static_cast<std::size_t>(o) * icg + i) * p.kernel_h + ky) * p.kernel_w +
                         kx]) *
                  in.at(g * icg + i, iy, ix);
            }
        out.at(o, y, x) =
            p.relu ? std::max(0.0f, static_cast<float>(acc)) : static_cast<float>(acc);
      }
  }
  return out;
}

inline Tensor pool(const Tensor& in, const gnrt::PoolParams& p, bool max) {
  if (p.global) {
    Tensor out = make(in.c, 1, 1);
    for (int c = 0; c < in.c; ++c) {
      double s = 0;
      for (int y = 0; y < in.h; ++y)
        for (int x = 0; x < in.w; ++x) s += in.at(c, y, x);
      out.at(c, 0, 0) = static_cast<float>(s / (in.h * in.w));
    }
    return out;
  }
  const int oh =
      gnrt::pool_output_size(in.h, p.kernel_h, p.stride_h, p.pad_top, p.pad_bottom, p.ceil_mode);
  const int ow =
      gnrt::pool_output_size(in.w, p.kernel_w, p.stride_w, p.pad_left, p.pad_right, p.ceil_mode);
  Tensor out = make(in.c, oh, ow);
  for (int c = 0; c < in.c; ++c)
    for (int y = 0; y < oh; ++y)
      for (int x = 0; x < ow; ++x) {
        const int y0 = y * p.stride_h - p.pad_top, x0 = x * p.stride_w - p.pad_left;
        double s = 0;
        float m = -INFINITY;
        int n = 0;
        for (int ky = 0; ky < p.kernel_h; ++ky)
          for (int kx = 0; kx < p.kernel_w; ++kx) {
            const int iy = y0 + ky, ix = x0 + kx;
            if (iy < 0 || iy >= in.h || ix < 0 || ix >= in.w) continue;
            s += in.at(c, iy, ix);
            m = std::max(m, in.at(c, iy, ix));
            ++n;
          }
        int divisor = n;
        if (p.count_include_pad) {
          const int ye = std::min(y0 + p.kernel_h, in.h + p.pad_bottom),
                    xe = std::min(x0 + p.kernel_w, in.w + p.pad_right);
          divisor = (ye - y0) * (xe - x0);
        }
        float v = max ? m : static_cast<float>(s / divisor);
        out.at(c, y, x) = p.relu ? std::max(v, 0.0f) : v;
      }
  return out;
}

inline Tensor concat(const std::vector<const Tensor*>& parts) {
  int channels = 0;
  for (auto* t : parts) channels += t->c;
  Tensor out = make(channels, parts[0]->h, parts[0]->w);
  std::size_t pos = 0;
  for (auto* t : parts) {
    std::copy(t->data.begin(), t->data.end(), out.data.begin() + static_cast<std::ptrdiff_t>(pos));
    pos += t->data.size();
  }
  return out;
}

inline Tensor fc(const Tensor& in, int out_features, const std::vector<float>& wt,
                 const std::vector<float>& bias, bool relu) {
  Tensor out = make(out_features, 1, 1);
  const std::size_t n = in.data.size();
  for (int o = 0; o < out_features; ++o) {
    double acc = bias.empty() ? 0.0 : bias[o];
    for (std::size_t i = 0; i < n; ++i) acc += static_cast<double>(wt[o * n + i]) * in.data[i];
    out.data[o] = relu ? std::max(0.0f, static_cast<float>(acc)) : static_cast<float>(acc);
  }
  return out;
}

inline Tensor softmax(const Tensor& in) {
  Tensor out = in;
  const float m = *std::max_element(in.data.begin(), in.data.end());
  double s = 0;
  for (float& v : out.data) {
    v = std::exp(v - m);
    s += v;
  }
  for (float& v : out.data) v = static_cast<float>(v / s);
  return out;
}

// Random weights with roughly `density` nonzeros.
inline std::vector<float> random_weights(std::mt19937& rng, std::size_t n, double density,
                                         float scale = 0.5f) {
  std::uniform_real_distribution<float> u(-scale, scale);
  std::bernoulli_distribution keep(density);
  std::vector<float> w(n);
  for (float& v : w) v = keep(rng) ? u(rng) : 0.0f;
  return w;
}

inline std::vector<float> random_vector(std::mt19937& rng, std::size_t n, float lo = -1.0f,
                                        float hi = 1.0f) {
  std::uniform_real_distribution<float> u(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = u(rng);
  return v;
}

}  // namespace naive
