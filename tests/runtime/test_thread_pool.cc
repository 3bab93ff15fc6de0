// The thread pool: every index of every job runs exactly once, for uniform splits and for
// explicit range bounds, many jobs in a row (workers that wake late must never run a range of
// a later job with an earlier job's function).
#include <doctest/doctest.h>

#include <atomic>
#include <random>
#include <vector>

#include "thread_pool.h"

namespace {

struct Job {
  std::vector<std::atomic<int>>* hits;
  int tag;
};

void mark(void* context, int begin, int end) {
  const Job& job = *static_cast<const Job*>(context);
  for (int i = begin; i < end; ++i) (*job.hits)[i].fetch_add(job.tag);
}

}  // namespace

TEST_CASE("thread pool runs every index exactly once, uniform and explicit ranges") {
  for (int threads : {2, 3}) {
    gnrt::ThreadPool pool(threads);
    std::mt19937 rng(threads);
    std::vector<std::atomic<int>> hits(600);
    for (int job = 0; job < 3000; ++job) {
      const int count = std::uniform_int_distribution<int>(1, 600)(rng);
      for (int i = 0; i < count; ++i) hits[i].store(0);
      const int tag = 1 + job % 7;
      Job context{&hits, tag};
      if (job % 2 == 0) {
        pool.parallel_for(count, std::uniform_int_distribution<int>(1, 20)(rng), mark, &context);
      } else {
        const int ranges = std::uniform_int_distribution<int>(1, 5)(rng);
        std::vector<int> bounds(ranges + 1, count);
        bounds[0] = 0;
        for (int r = 1; r < ranges; ++r)
          bounds[r] = std::uniform_int_distribution<int>(bounds[r - 1], count)(rng);
        pool.parallel_ranges(bounds.data(), ranges, mark, &context);
      }
      int wrong = 0;
      for (int i = 0; i < count; ++i) wrong += hits[i].load() != tag;
      REQUIRE(wrong == 0);
    }
  }
}
