// The x86 flat runs' interior lane masks (x86/row_gaps.h), which decide the row-gap zeros of the
// sparse convolutions, against a position-by-position count.
#include <doctest/doctest.h>

#include <cstddef>
#include <random>

#include "x86/row_gaps.h"

namespace k = gnrt::kernels;

TEST_CASE("interior lane masks of flat runs match a position-by-position count") {
  std::mt19937 rng(77);
  auto uniform = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  for (int trial = 0; trial < 20000; ++trial) {
    k::x86::RunPlacement r;
    r.row_stride = uniform(1, 70);
    r.width = uniform(1, static_cast<int>(r.row_stride));
    r.start = uniform(-20, 5);
    const std::ptrdiff_t first = uniform(0, 300);
    const int lanes = uniform(1, 16);
    unsigned want = 0;
    for (int l = 0; l < lanes; ++l) {
      const std::ptrdiff_t p = r.start + first + l;
      if (p >= 0 && p % r.row_stride < r.width) want |= 1u << l;
    }
    INFO("start ", r.start, " row_stride ", r.row_stride, " width ", r.width, " first ", first,
         " lanes ", lanes);
    REQUIRE(k::x86::interior_lane_bits(r, first, lanes) == want);
  }
  k::x86::RunPlacement row;  // row_stride 0: one row segment, all lanes interior
  CHECK(k::x86::interior_lane_bits(row, 5, 16) == 0xFFFFu);
}
