// Proves that gnrt_plan_run performs no heap allocation: every allocation in this process goes
// through the counting operator new / malloc below.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <new>
#include <vector>

#include "aligned_bytes.h"
#include "gnrt/gnrt.h"
#include "small_models.h"

namespace {
std::atomic<long> g_allocations{0};
}

extern "C" void* __libc_malloc(std::size_t);
extern "C" void* __libc_calloc(std::size_t, std::size_t);
extern "C" void* __libc_realloc(void*, std::size_t);
extern "C" void* __libc_memalign(std::size_t, std::size_t);

#if !defined(__SANITIZE_ADDRESS__) && !defined(__SANITIZE_THREAD__)
// Interpose the C allocator too (the runtime uses aligned_alloc at plan time).
extern "C" void* malloc(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_malloc(n);
}
extern "C" void* calloc(std::size_t a, std::size_t b) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_calloc(a, b);
}
extern "C" void* realloc(void* p, std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_realloc(p, n);
}
extern "C" int posix_memalign(void** out, std::size_t alignment, std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  *out = __libc_memalign(alignment, n);
  return *out ? 0 : 12;  // ENOMEM
}
extern "C" void* aligned_alloc(std::size_t alignment, std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return __libc_memalign(alignment, n);
}
#endif

// Every replaceable allocation function goes through malloc/free, so that pairs always match
// (including the nothrow forms the standard library uses for temporary buffers).
namespace {
void* counted_allocate(std::size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  return std::malloc(n ? n : 1);
}
}  // namespace

void* operator new(std::size_t n) {
  if (void* p = counted_allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
  if (void* p = counted_allocate(n)) return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept { return counted_allocate(n); }
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept { return counted_allocate(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

TEST_CASE("gnrt_plan_run allocates nothing (1 and 2 threads, several runs)") {
  gnrt::testing::SmallGoogLeNet spec;
  spec.size = 64;
  spec.seed = 4;
  spec.density = 0.1;
  const gnrt::testing::AlignedBytes bytes(gnrt::testing::small_googlenet(spec));
  gnrt_model* model = nullptr;
  REQUIRE(gnrt_model_load_buffer(bytes.data(), bytes.size(), &model) == GNRT_OK);
  for (int threads : {1, 2}) {
    gnrt_options options;
    gnrt_options_init(&options);
    options.num_threads = threads;
    gnrt_plan* plan = nullptr;
    REQUIRE(gnrt_plan_create(model, &options, &plan) == GNRT_OK);
    std::vector<float> input(3 * 64 * 64, 0.25f), output(10);
    REQUIRE(gnrt_plan_set_input(plan, input.data(), input.size()) == GNRT_OK);
    REQUIRE(gnrt_plan_set_profiling(plan, 1) == GNRT_OK);
    REQUIRE(gnrt_plan_run(plan) == GNRT_OK);  // warm-up (threads start)
    const long before = g_allocations.load();
    for (int i = 0; i < 3; ++i) REQUIRE(gnrt_plan_run(plan) == GNRT_OK);
    const long after = g_allocations.load();
    CHECK(after - before == 0);
    REQUIRE(gnrt_plan_get_output(plan, output.data(), output.size()) == GNRT_OK);
    // The counter is live: planning does allocate.
    const long before_plan = g_allocations.load();
    gnrt_plan* other = nullptr;
    REQUIRE(gnrt_plan_create(model, &options, &other) == GNRT_OK);
    CHECK(g_allocations.load() > before_plan);
    gnrt_plan_destroy(other);
    gnrt_plan_destroy(plan);
  }
  gnrt_model_destroy(model);
}
