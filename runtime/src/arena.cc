#include "arena.h"

#include <algorithm>
#include <utility>

namespace gnrt {

namespace {

std::size_t align_up(std::size_t value, std::size_t alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

}  // namespace

ArenaPlacement place_arena(const std::vector<ArenaRequest>& requests, std::size_t alignment,
                           std::size_t base, std::size_t max_total) {
  alignment = std::max<std::size_t>(alignment, 1);
  ArenaPlacement result;
  result.offsets.assign(requests.size(), 0);
  std::vector<int> order(requests.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::stable_sort(order.begin(), order.end(),
                   [&](int a, int b) { return requests[a].bytes > requests[b].bytes; });
  std::vector<int> placed;
  placed.reserve(requests.size());
  std::vector<std::pair<std::size_t, std::size_t>> busy;  // [begin, end) of live placed buffers
  for (int i : order) {
    const ArenaRequest& b = requests[i];
    busy.clear();
    for (int j : placed) {
      const ArenaRequest& o = requests[j];
      if (o.first <= b.last && b.first <= o.last)
        busy.emplace_back(result.offsets[j], result.offsets[j] + o.bytes);
    }
    std::sort(busy.begin(), busy.end());
    std::size_t offset = align_up(base, alignment);
    for (const auto& r : busy) {
      if (r.first >= offset + b.bytes) break;
      offset = align_up(std::max(offset, r.second), alignment);
    }
    result.offsets[i] = offset;
    placed.push_back(i);
    result.total = std::max(result.total, offset + b.bytes);
    if (result.total > max_total) {
      result.fits = false;
      return result;
    }
  }
  return result;
}

}  // namespace gnrt
