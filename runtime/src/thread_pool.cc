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

std::uint32_t job_of(std::uint64_t word) { return static_cast<std::uint32_t>(word >> 32); }
}  // namespace

ThreadPool::ThreadPool(int threads) : threads_(std::max(1, threads)) {
  workers_.reserve(static_cast<std::size_t>(threads_ - 1));
  for (int i = 1; i < threads_; ++i) workers_.emplace_back(&ThreadPool::worker_main, this);
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_.store(true);
  }
  start_cv_.notify_all();
  for (std::thread& t : workers_) t.join();
}

void ThreadPool::range(int index, int* begin, int* end) const {
  if (bounds_ != nullptr) {
    *begin = bounds_[index];
    *end = bounds_[index + 1];
  } else {
    *begin = index * chunk_;
    *end = std::min(count_, *begin + chunk_);
  }
}

// Claims and runs ranges of job `job` until none is left (or a later job has started).
void ThreadPool::work(std::uint32_t job) {
  std::uint64_t word = claim_.load(std::memory_order_acquire);
  for (;;) {
    if (job_of(word) != job) return;
    const int index = static_cast<int>(word & 0xffffffffu);
    // Acquire pairs with the release store in start(): a worker that sees a new job's range count
    // also sees the closed claim word written before it, so its compare-exchange below fails.
    if (index >= ranges_.load(std::memory_order_acquire)) return;
    if (!claim_.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire)) {
      continue;  // `word` now holds the current value
    }
    int begin = 0, end = 0;
    range(index, &begin, &end);
    if (begin < end) fn_(context_, begin, end);
    if (finished_.fetch_add(1, std::memory_order_acq_rel) + 1 ==
        ranges_.load(std::memory_order_relaxed)) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_cv_.notify_one();
    }
    word = claim_.load(std::memory_order_acquire);
  }
}

void ThreadPool::worker_main() {
  std::uint32_t seen = 0;
  for (;;) {
    bool started = false;
    for (int i = 0; i < kSpinPolls; ++i) {
      if (stopping_.load(std::memory_order_acquire)) return;
      if (job_of(claim_.load(std::memory_order_acquire)) != seen) {
        started = true;
        break;
      }
      GNRT_CPU_RELAX();
    }
    if (!started) {
      std::unique_lock<std::mutex> lock(mutex_);
      start_cv_.wait(lock, [&] { return stopping_.load() || job_of(claim_.load()) != seen; });
      if (stopping_.load()) return;
    }
    seen = job_of(claim_.load(std::memory_order_acquire));
    work(seen);
  }
}

// Closes the finished job before its shared state (ranges_, bounds_, chunk_, fn_) is rewritten for
// the next one: a late worker may still hold the old claim word (job, index == old ranges) and,
// once ranges_ grows, would otherwise pass the index check and claim a range of the old job number
// with the new job's state, running a range twice and leaving finished_ one past ranges_ (the
// caller then waited forever: found by the ASan build, where timing differs).
void ThreadPool::close_job() {
  claim_.store((static_cast<std::uint64_t>(job_) << 32) | 0x7fffffffu, std::memory_order_seq_cst);
}

void ThreadPool::start(RangeFn fn, void* context, int ranges) {
  fn_ = fn;
  context_ = context;
  ranges_.store(ranges, std::memory_order_release);
  finished_.store(0, std::memory_order_relaxed);
  ++job_;
  if (job_ == 0) ++job_;  // 0 is the workers' initial "seen"
  {
    std::lock_guard<std::mutex> lock(mutex_);
    claim_.store(static_cast<std::uint64_t>(job_) << 32, std::memory_order_release);
  }
  start_cv_.notify_all();
  work(job_);
  for (int i = 0; i < kSpinPolls; ++i) {
    if (finished_.load(std::memory_order_acquire) == ranges) return;
    GNRT_CPU_RELAX();
  }
  std::unique_lock<std::mutex> lock(mutex_);
  done_cv_.wait(lock, [&] { return finished_.load(std::memory_order_acquire) == ranges; });
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
  close_job();
  bounds_ = nullptr;
  count_ = count;
  chunk_ = per_thread_units * grain;
  start(fn, context, (count + chunk_ - 1) / chunk_);
}

void ThreadPool::parallel_ranges(const int* bounds, int ranges, RangeFn fn, void* context) {
  if (ranges <= 0) return;
  if (threads_ == 1 || ranges == 1) {
    for (int i = 0; i < ranges; ++i)
      if (bounds[i] < bounds[i + 1]) fn(context, bounds[i], bounds[i + 1]);
    return;
  }
  close_job();
  bounds_ = bounds;
  start(fn, context, ranges);
}

}  // namespace gnrt
