// place_arena (runtime/src/arena.h) on its own, after TensorFlow Lite Micro's greedy memory planner
// test: known cases with their totals, live buffers never overlapping, dead ones sharing memory,
// alignment, the size cap; and the arena of a real GoogLeNet plan, which must not change.
#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

#include "aligned_bytes.h"
#include "arena.h"
#include "gnrt/kernels.h"
#include "model.h"
#include "plan.h"
#include "small_models.h"

using gnrt::ArenaPlacement;
using gnrt::ArenaRequest;
using gnrt::place_arena;

namespace {

constexpr std::size_t kNoLimit = ~std::size_t{0};

bool live_together(const ArenaRequest& a, const ArenaRequest& b) {
  return a.first <= b.last && b.first <= a.last;
}

// Every pair of buffers live at the same step occupies disjoint bytes; the total covers them.
void check_valid(const std::vector<ArenaRequest>& requests, const ArenaPlacement& placement,
                 std::size_t alignment, std::size_t base) {
  REQUIRE(placement.fits);
  REQUIRE(placement.offsets.size() == requests.size());
  std::size_t end = 0;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    CHECK(placement.offsets[i] % alignment == 0);
    CHECK(placement.offsets[i] >= base);
    end = std::max(end, placement.offsets[i] + requests[i].bytes);
    for (std::size_t j = i + 1; j < requests.size(); ++j) {
      if (!live_together(requests[i], requests[j])) continue;
      const std::size_t a = placement.offsets[i], b = placement.offsets[j];
      const bool overlap = a < b + requests[j].bytes && b < a + requests[i].bytes;
      if (overlap) FAIL_CHECK("buffers " << i << " and " << j << " overlap while both live");
    }
  }
  CHECK(placement.total == end);
}

// The most bytes live at any one step: no placement can be smaller.
std::size_t peak_live_bytes(const std::vector<ArenaRequest>& requests) {
  int first = 0, last = 0;
  for (const ArenaRequest& r : requests) {
    first = std::min(first, r.first);
    last = std::max(last, r.last);
  }
  std::size_t peak = 0;
  for (int step = first; step <= last; ++step) {
    std::size_t live = 0;
    for (const ArenaRequest& r : requests)
      if (r.first <= step && step <= r.last) live += r.bytes;
    peak = std::max(peak, live);
  }
  return peak;
}

}  // namespace

TEST_CASE("arena: TFLM's basic case, two buffers with disjoint lifetimes share offset 0") {
  const std::vector<ArenaRequest> requests{{10, 0, 1}, {20, 2, 3}};
  const ArenaPlacement p = place_arena(requests, 1, 0, kNoLimit);
  check_valid(requests, p, 1, 0);
  CHECK(p.offsets[0] == 0);
  CHECK(p.offsets[1] == 0);
  CHECK(p.total == 20);
}

TEST_CASE("arena: overlapping lifetimes are stacked, largest first") {
  // TFLM's "TestGreedyMedium"-like chain: each buffer overlaps its neighbours only.
  const std::vector<ArenaRequest> requests{
      {10, 0, 1}, {20, 1, 2}, {30, 2, 3}, {40, 3, 4}, {50, 4, 5}};
  const ArenaPlacement p = place_arena(requests, 1, 0, kNoLimit);
  check_valid(requests, p, 1, 0);
  // 50 at 0, 40 at 50 (overlaps 50), 30 at 0 (overlaps 40 only), 20 at 30 (overlaps 30), 10 at 0.
  CHECK(p.offsets == std::vector<std::size_t>{0, 30, 0, 50, 0});
  CHECK(p.total == 90);
  CHECK(p.total == peak_live_bytes(requests));
}

TEST_CASE("arena: a buffer fills a gap between two placed ones when it fits") {
  // A and C live throughout; B dies at step 2, so D (born at 5) may take B's bytes between them.
  const std::vector<ArenaRequest> requests{{100, 0, 9}, {100, 0, 2}, {100, 0, 9}, {50, 5, 9}};
  const ArenaPlacement p = place_arena(requests, 1, 0, kNoLimit);
  check_valid(requests, p, 1, 0);
  CHECK(p.offsets == std::vector<std::size_t>{0, 100, 200, 100});
  CHECK(p.total == 300);
}

TEST_CASE("arena: equal sizes keep request order; one-step lifetimes touching at a step overlap") {
  // [0, 2] and [2, 4] are both live at step 2: they must not share bytes.
  const std::vector<ArenaRequest> requests{{64, 0, 2}, {64, 2, 4}, {64, 5, 6}};
  const ArenaPlacement p = place_arena(requests, 64, 0, kNoLimit);
  check_valid(requests, p, 64, 0);
  CHECK(p.offsets == std::vector<std::size_t>{0, 64, 0});
  CHECK(p.total == 128);
}

TEST_CASE("arena: offsets are aligned and start at the base") {
  const std::vector<ArenaRequest> requests{{3, 0, 5}, {17, 1, 2}, {65, 2, 4}, {1, 0, 0}};
  for (std::size_t alignment : {std::size_t{1}, std::size_t{16}, std::size_t{64}}) {
    CAPTURE(alignment);
    for (std::size_t base : {std::size_t{0}, std::size_t{64}, std::size_t{128}}) {
      CAPTURE(base);
      const ArenaPlacement p = place_arena(requests, alignment, base, kNoLimit);
      check_valid(requests, p, alignment, base);
    }
  }
  // 65 bytes at 0, then 17 at 128 (not 65), 3 at 192 (live with both), and the 1 byte, live
  // only with the 3, back at 0.
  const ArenaPlacement p = place_arena(requests, 64, 0, kNoLimit);
  CHECK(p.offsets == std::vector<std::size_t>{192, 128, 0, 0});
  CHECK(p.total == 195);
}

TEST_CASE("arena: the size cap stops placement") {
  const std::vector<ArenaRequest> requests{{100, 0, 1}, {100, 1, 2}, {100, 0, 2}};
  CHECK(place_arena(requests, 1, 0, 300).fits);
  const ArenaPlacement p = place_arena(requests, 1, 0, 299);
  CHECK_FALSE(p.fits);
  CHECK(p.total > 299);
  CHECK(place_arena({}, 64, 0, 0).fits);
  CHECK(place_arena({}, 64, 0, 0).total == 0);
}

TEST_CASE("arena: random lifetimes never overlap in memory and stay near the lower bound") {
  std::mt19937 rng(12);
  for (int round = 0; round < 200; ++round) {
    CAPTURE(round);
    std::vector<ArenaRequest> requests(1 + rng() % 40);
    for (ArenaRequest& r : requests) {
      r.bytes = 64 * (1 + rng() % 64);
      r.first = static_cast<int>(rng() % 30) - 1;
      r.last = r.first + static_cast<int>(rng() % 8);
    }
    const ArenaPlacement p = place_arena(requests, 64, 64, kNoLimit);
    check_valid(requests, p, 64, 64);
    CHECK(p.total >= 64 + peak_live_bytes(requests));
    std::size_t sum = 64;
    for (const ArenaRequest& r : requests) sum += r.bytes;
    CHECK(p.total <= sum);
  }
}

TEST_CASE("arena: the GoogLeNet plan's arena size is unchanged") {
  // The random 1/16 GoogLeNet of bench_sparse (1000 classes, seed 1) at 224x224. The reference
  // plan's layout does not depend on the CPU; the AVX-512 plan rounds row strides and fuses the
  // stem with its pool. A change here changes memory use: update docs/design.md with it.
  gnrt::testing::SmallGoogLeNet spec;
  spec.classes = 1000;
  spec.size = 224;
  const gnrt::testing::AlignedBytes bytes(gnrt::testing::small_googlenet(spec));
  gnrt::Model model;
  gnrt::Status s = gnrt::load_model(bytes.data(), bytes.size(), &model);
  REQUIRE_MESSAGE(s.ok(), s.message);
  gnrt::PlanConfig config;
  config.force_reference = true;
  std::unique_ptr<gnrt::Plan> plan;
  REQUIRE(gnrt::Plan::create(model, config, &plan).ok());
  CHECK(plan->arena_bytes() == 5637184);
  if (gnrt::kernels::detect_isa() == gnrt::kernels::Isa::kAvx512) {
    REQUIRE(gnrt::Plan::create(model, gnrt::PlanConfig{}, &plan).ok());
    CHECK(plan->arena_bytes() == 4790400);
  }
}
