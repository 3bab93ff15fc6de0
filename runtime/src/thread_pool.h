// A fixed pool of worker threads for parallel loops over index ranges. Workers are created once
// (at plan time); parallel_for allocates nothing and blocks until every range is done.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
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

 private:
  void worker_main(int index);
  void run_share(int index);

  int threads_;
  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable start_cv_;
  std::condition_variable done_cv_;
  std::atomic<std::size_t> generation_{0};
  std::atomic<int> pending_{0};
  std::atomic<bool> stopping_{false};
  // The current job.
  RangeFn fn_ = nullptr;
  void* context_ = nullptr;
  int count_ = 0;
  int chunk_ = 0;
};

}  // namespace gnrt
