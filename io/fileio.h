// Whole-file reading for the tools, with the checks untrusted paths need. Host-side tool code:
// reports problems by throwing InputError (the runtime never links this).
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace gnrt::tools {

// A problem with something the user handed us (a path, a file's contents). The message is one
// line and names the file; the CLI prints it as is.
class InputError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Largest file the tools read into memory (1 GiB): far above any model or dataset they handle,
// low enough that a wrong path (a disk image, /dev/zero) fails fast instead of exhausting memory.
constexpr std::uint64_t kMaxFileBytes = std::uint64_t{1} << 30;

// Reads a regular file completely. Throws InputError when the path is missing, is not a regular
// file (directories, devices, FIFOs would hang or mislead), cannot be read, or is larger than
// max_bytes.
std::vector<std::uint8_t> read_file(const std::string& path,
                                    std::uint64_t max_bytes = kMaxFileBytes);

// Writes bytes to path (truncating). Throws InputError on failure.
void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes);

// `s` made safe to print on one line: control characters (newlines included) become '?'.
std::string printable(const std::string& s);

}  // namespace gnrt::tools
