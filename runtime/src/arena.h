// Arena placement: where each buffer of a plan lives, from sizes and lifetimes alone. A pure
// function (no plan, no allocation outside its result), so it can be tested on its own.
#pragma once

#include <cstddef>
#include <vector>

namespace gnrt {

// A buffer to place: `bytes` long, live from step `first` (when it is written) to step `last`
// (when it is last read), both inclusive. Two buffers whose [first, last] intervals intersect
// must not overlap in memory; buffers with disjoint lifetimes may share bytes.
struct ArenaRequest {
  std::size_t bytes = 0;
  int first = 0;
  int last = 0;
};

struct ArenaPlacement {
  std::vector<std::size_t> offsets;  // one per request, in bytes from the arena start
  std::size_t total = 0;             // end of the last byte placed (offset + bytes, maximized)
  bool fits = true;                  // false: total exceeded max_total, placement stopped early
};

// Greedy by size, as TensorFlow Lite Micro's GreedyMemoryPlanner: largest buffers first (ties in
// request order), each at the lowest offset >= `base` that is a multiple of `alignment` and
// does not overlap an already placed buffer whose lifetime intersects its own. Stops as soon as
// the total exceeds `max_total` (fits = false; offsets of unplaced buffers are then 0).
ArenaPlacement place_arena(const std::vector<ArenaRequest>& requests, std::size_t alignment,
                           std::size_t base, std::size_t max_total);

}  // namespace gnrt
