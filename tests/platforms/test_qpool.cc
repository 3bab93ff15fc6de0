// uint8 pooling: every qpool row of the registry this CPU runs against qu8_pool_ref with exact
// equality on random problems (max, average and global pools; strides, padding, ceil-mode
// windows, ReLU, inputs at least the zero point or not), and the memory a row must not write.
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "gnrt/qkernels.h"
#include "kernel_registry.h"

namespace k = gnrt::kernels;

namespace {

// C4 planes with a border of `pad` positions holding `fill`, 16 spare positions between groups,
// element (0,0,0) at `origin`.
struct Planes {
  std::vector<std::uint8_t> bytes;
  std::ptrdiff_t rs = 0, gs = 0, origin = 0;
  int h = 0, w = 0, groups = 0, pad = 0;
  Planes(int channels, int h_, int w_, int pad_, int fill, std::ptrdiff_t rs_override = 0)
      : h(h_), w(w_), groups((channels + 3) / 4), pad(pad_) {
    rs = rs_override ? rs_override : w + 2 * pad;
    gs = (h + 2 * pad) * rs + 16;
    bytes.assign(static_cast<std::size_t>((groups * gs + 64) * 4), static_cast<std::uint8_t>(fill));
    origin = (32 + pad * rs + pad) * 4;
  }
  std::uint8_t* data() { return bytes.data() + origin; }
  std::uint8_t& at(int g, int y, int x, int j) {
    return bytes[origin + (g * gs + static_cast<std::ptrdiff_t>(y) * rs + x) * 4 + j];
  }
};

struct Case {
  k::QPoolProblem p;
  int channels = 0;
};

Case random_case(std::mt19937& rng, int kind) {
  auto uni = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Case c;
  k::QPoolProblem& p = c.p;
  c.channels = uni(1, 23);
  const int h = uni(1, 30), w = uni(1, 40);
  int kh, kw, sh, sw, pt, pl;
  if (kind == 0) {  // GoogLeNet's branch pool: 3x3/1 pad 1, same size
    kh = kw = 3;
    sh = sw = 1;
    pt = pl = 1;
  } else {
    kh = uni(1, 5);
    kw = uni(1, 5);
    sh = uni(1, 3);
    sw = uni(1, 3);
    pt = uni(0, kh - 1);
    pl = uni(0, kw - 1);
  }
  // Ceil mode sometimes: one more window when it still starts inside the plane.
  int oh = (h + 2 * pt - kh) / sh + 1, ow = (w + 2 * pl - kw) / sw + 1;
  if (kind == 2) {
    if ((oh - 1) * sh - pt + kh < h + pt && oh * sh - pt < h) ++oh;
    if ((ow - 1) * sw - pl + kw < w + pl && ow * sw - pl < w) ++ow;
  }
  if (oh < 1 || ow < 1) return random_case(rng, 0);
  p.geometry = {c.channels, h, w, oh, ow, kh, kw, sh, sw, pt, pl};
  const int type = uni(0, 5);
  p.max = type <= 3;
  p.global = type == 5;
  if (p.global) p.geometry = {c.channels, h, w, 1, 1, h, w, 1, 1, 0, 0};
  p.count_include_pad = uni(0, 1) == 1;
  p.pad_bottom = pt;
  p.pad_right = pl;
  p.relu = uni(0, 2) == 0;
  p.zero_point = uni(0, 3) == 0 ? 0 : uni(0, 255);
  p.input_at_least_zero = uni(0, 3) != 0;
  return c;
}

}  // namespace

TEST_CASE("every uint8 pooling row equals qu8_pool_ref exactly and writes only what it may") {
  std::mt19937 rng(4321);
  int rows_run = 0;
  for (const k::IsaKernels* family : {&k::scalar_kernels(), k::kernels_for(k::detect_isa())}) {
    if (family == nullptr) continue;
    for (const k::QPoolKernelInfo& info : family->qpool) {
      if (!k::cpu_has(info.features)) {
        MESSAGE("skipped (CPU lacks its features): " << info.name);
        continue;
      }
      int problems = 0;
      for (int trial = 0; trial < 3000 && problems < 200; ++trial) {
        Case c = random_case(rng, trial % 3);
        k::QPoolProblem& p = c.p;
        const k::PoolGeometry& g = p.geometry;
        const int in_pad = std::max({g.pad_top, g.pad_left, 1}) + (trial % 2);
        const bool same = g.out_height == g.in_height && g.out_width == g.in_width;
        Planes in(c.channels, g.in_height, g.in_width, in_pad, p.zero_point);
        // The output: its own border and filler (0x5a), at the input's row stride when the sizes
        // match (the plan's layout for same-size pools).
        const int out_pad = 1;
        Planes want(c.channels, g.out_height, g.out_width, same ? in_pad : out_pad, 0x5a,
                    same ? in.rs : 0);
        p.in_pad = in_pad;
        p.in_row_stride = in.rs;
        p.in_group_stride = in.gs;
        p.out_row_stride = want.rs;
        p.out_group_stride = want.gs;
        if (info.supports && !info.supports(p)) continue;
        ++problems;
        const int lo = p.input_at_least_zero ? p.zero_point : 0;
        for (int gr = 0; gr < in.groups; ++gr)
          for (int y = 0; y < g.in_height; ++y)
            for (int x = 0; x < g.in_width; ++x)
              for (int j = 0; j < 4; ++j)
                in.at(gr, y, x, j) = static_cast<std::uint8_t>(
                    4 * gr + j < c.channels ? std::uniform_int_distribution<int>(lo, 255)(rng)
                                            : p.zero_point);
        Planes got = want;
        k::qu8_pool_ref(p, in.data(), want.data(), 0, in.groups);
        // Two calls, split as the runtime's threads split groups.
        const int mid = in.groups / 2;
        info.run(p, in.data(), got.data(), 0, mid);
        info.run(p, in.data(), got.data(), mid, in.groups);
        int bad = 0;
        for (int gr = 0; gr < want.groups; ++gr)
          for (int y = 0; y < g.out_height; ++y)
            for (int x = 0; x < g.out_width; ++x)
              for (int j = 0; j < 4; ++j) bad += got.at(gr, y, x, j) != want.at(gr, y, x, j);
        CHECK_MESSAGE(bad == 0, info.name << " trial " << trial << ": " << bad << " bytes differ");
        // Outside the planes' interiors: untouched, except the row gaps of a writes_gaps row
        // (within each plane, from its first to its last interior position).
        for (std::size_t i = 0; i < got.bytes.size(); ++i) {
          if (got.bytes[i] == want.bytes[i]) continue;
          const std::ptrdiff_t pos = (static_cast<std::ptrdiff_t>(i) - got.origin) / 4;
          const std::ptrdiff_t in_group = ((pos % got.gs) + got.gs) % got.gs;
          const bool in_run = static_cast<std::ptrdiff_t>(i) >= got.origin &&
                              in_group <= (g.out_height - 1) * got.rs + g.out_width - 1;
          CHECK_MESSAGE((info.writes_gaps && in_run), info.name << " trial " << trial
                                                                << " wrote byte " << i);
          break;
        }
      }
      MESSAGE(std::string(info.name) << ": " << problems << " problems");
      CHECK(problems > 0);
      ++rows_run;
    }
  }
  CHECK(rows_run >= 3);
}
