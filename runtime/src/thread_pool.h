// A fixed pool of worker threads for parallel loops over index ranges. Workers are created once
// (at plan time); parallel_for allocates nothing and blocks until every range is done.
//
// Ranges are claimed dynamically: the calling thread and the workers take the next unclaimed
// range until none is left, and the caller then waits only for ranges a worker has already
// claimed. On an idle machine this is the static split (one range per thread); when a worker is
// not running (the machine is oversubscribed) the caller does its ranges instead of waiting for
// it to be scheduled.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace gnrt {

class ThreadPool {
 public:
  // Calls fn(context, begin, end) on disjoint ranges covering [0, count).
  using RangeFn = void (*)(void* context, int begin, int end);

  // threads >= 1; the calling thread takes part, so threads - 1 workers are started.
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return threads_; }

  // Splits [0, count) into at most `threads` contiguous ranges, each a multiple of `grain`
  // (except the last), and runs them in parallel.
  void parallel_for(int count, int grain, RangeFn fn, void* context);

  // Runs the `ranges` ranges [bounds[i], bounds[i + 1]) in parallel (e.g. split by cost rather
  // than by count). `bounds` (ranges + 1 ascending entries) must stay valid until the call
  // returns.
  void parallel_ranges(const int* bounds, int ranges, RangeFn fn, void* context);

 private:
  void worker_main();
  void close_job();
  void start(RangeFn fn, void* context, int ranges);
  void work(std::uint32_t job);
  void range(int index, int* begin, int* end) const;

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  // (job number << 32) | index of the next unclaimed range. Claimed with a compare-exchange that
  // checks the job number, so a worker that wakes late can never take a range of a later job.
  std::atomic<std::uint64_t> claim_{0};
  std::atomic<int> finished_{0};  // ranges of the current job completed
  std::atomic<bool> stopping_{false};
  std::uint32_t job_ = 0;
  // The current job; stable while any of its ranges is claimed and unfinished.
  RangeFn fn_ = nullptr;
  void* context_ = nullptr;
  std::atomic<int> ranges_{0};   // atomic: a late worker may compare against it while it changes
  const int* bounds_ = nullptr;  // nullptr: uniform ranges of chunk_ over [0, count_)
  int count_ = 0;
  int chunk_ = 0;
};

}  // namespace gnrt
