// 64-byte aligned float buffers for the benchmarks (one definition for bench_sparse's modes and
// the XNNPACK baseline). The runtime's own AlignedBlock (runtime/src/plan.h) is an untyped
// unique_ptr<void>; these are typed and zero-filled, which every benchmark buffer wants.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <memory>

namespace gnrt_bench {

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
using AlignedFloats = std::unique_ptr<float, FreeDeleter>;

constexpr std::size_t kBufferAlignment = 64;

constexpr std::size_t align_bytes_up(std::size_t bytes) {
  return (bytes + kBufferAlignment - 1) / kBufferAlignment * kBufferAlignment;
}

// `bytes` rounded up to the alignment, all zero; null when out of memory.
inline AlignedFloats try_aligned_zeroed(std::size_t bytes) {
  const std::size_t rounded = align_bytes_up(bytes);
  auto* p = static_cast<float*>(std::aligned_alloc(kBufferAlignment, rounded));
  if (p != nullptr) std::memset(p, 0, rounded);
  return AlignedFloats(p);
}

// `count` floats plus one alignment unit of slack past the end (kernels and XNNPACK may read a
// little beyond their data), all zero; aborts when out of memory.
inline AlignedFloats aligned_floats(std::size_t count) {
  AlignedFloats p = try_aligned_zeroed(align_bytes_up(count * sizeof(float)) + kBufferAlignment);
  if (!p) std::abort();
  return p;
}

}  // namespace gnrt_bench
