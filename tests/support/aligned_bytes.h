// A copy of a byte vector in 8-byte aligned storage: the loader requires an 8-byte aligned
// buffer, which std::vector<std::uint8_t> does not promise.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace gnrt::testing {

class AlignedBytes {
 public:
  explicit AlignedBytes(const std::vector<std::uint8_t>& bytes)
      : words_((bytes.size() + 7) / 8), size_(bytes.size()) {
    if (!bytes.empty()) std::memcpy(words_.data(), bytes.data(), bytes.size());
  }
  const void* data() const { return words_.data(); }
  std::size_t size() const { return size_; }

 private:
  std::vector<std::uint64_t> words_;
  std::size_t size_;
};

}  // namespace gnrt::testing
