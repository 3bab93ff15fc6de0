#include "thread_pool.h"

#include <algorithm>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GNRT_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__) || defined(__arm__)
#define GNRT_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define GNRT_CPU_RELAX() ((void)0)
#endif

namespace gnrt {

namespace {
// Spin this many polls before sleeping: operators follow each other within microseconds during
// a run, and a condition-variable wake-up costs tens of microseconds.
constexpr int kSpinPolls = 1 << 16;
}  // namespace

ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)) {
  workers_.reserve(static_cast<std::size_t>(threads_ - 1));
  for (int i = 1; i < threads_; ++i) workers_.emplace_back(&ThreadPool::worker_main, this, i);
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
  }
  start_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::run_share(int index) {
  const int begin = index * chunk_;
  const int end = std::min(count_, begin + chunk_);
  if (begin < end) fn_(context_, begin, end);
}

void ThreadPool::worker_main(int index) {
  std::size_t seen = 0;
  for (;;) {
    bool started = false;
    for (int i = 0; i < kSpinPolls; ++i) {
      if (stopping_.load(std::memory_order_acquire)) return;
      if (generation_.load(std::memory_order_acquire) != seen) {
        started = true;
        break;
      }
      GNRT_CPU_RELAX();
    }
    if (!started) {
      std::unique_lock<std::mutex> lock(mutex_);
      start_cv_.wait(lock, [&] { return stopping_.load() || generation_.load() != seen; });
      if (stopping_.load()) return;
    }
    seen = generation_.load(std::memory_order_acquire);
    run_share(index);
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_cv_.notify_one();
    }
  }
}

void ThreadPool::parallel_for(int count, int grain, RangeFn fn, void* context) {
  if (count <= 0) return;
  grain = std::max(1, grain);
  if (threads_ == 1 || count <= grain) {
    fn(context, 0, count);
    return;
  }
  const int units = (count + grain - 1) / grain;
  const int per_thread_units = (units + threads_ - 1) / threads_;
  fn_ = fn;
  context_ = context;
  count_ = count;
  chunk_ = per_thread_units * grain;
  pending_.store(threads_ - 1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    generation_.fetch_add(1, std::memory_order_acq_rel);
  }
  start_cv_.notify_all();
  run_share(0);
  for (int i = 0; i < kSpinPolls; ++i) {
    if (pending_.load(std::memory_order_acquire) == 0) return;
    GNRT_CPU_RELAX();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [&] { return pending_.load(std::memory_order_acquire) == 0; });
}

}  // namespace gnrt
