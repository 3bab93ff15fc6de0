// Guarded memory for the kernel tests: floats next to an inaccessible page, so that a kernel that
// reads past what the layout contract of gnrt/kernels.h allows crashes the test.
#pragma once

#include <doctest/doctest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>

namespace gnrt_test {

// `count` floats next to an inaccessible page: ending at it (at_end) or starting after it.
class GuardedFloats {
 public:
  GuardedFloats(std::size_t count, bool at_end) {
    page_ = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
    const std::size_t bytes = count * sizeof(float);
    const std::size_t data_pages = (bytes + page_ - 1) / page_ + 1;
    total_ = (data_pages + 2) * page_;
    void* base = mmap(nullptr, total_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    REQUIRE(base != MAP_FAILED);
    base_ = static_cast<unsigned char*>(base);
    REQUIRE(mprotect(base_, page_, PROT_NONE) == 0);
    REQUIRE(mprotect(base_ + (data_pages + 1) * page_, page_, PROT_NONE) == 0);
    unsigned char* start = at_end ? base_ + (data_pages + 1) * page_ - bytes : base_ + page_;
    data_ = reinterpret_cast<float*>(start);
  }
  ~GuardedFloats() { munmap(base_, total_); }
  GuardedFloats(const GuardedFloats&) = delete;
  GuardedFloats& operator=(const GuardedFloats&) = delete;
  float* data() { return data_; }

 private:
  std::size_t page_ = 0, total_ = 0;
  unsigned char* base_ = nullptr;
  float* data_ = nullptr;
};

}  // namespace gnrt_test
