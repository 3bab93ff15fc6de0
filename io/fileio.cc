#include "fileio.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

namespace gnrt::tools {
namespace {

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
using File = std::unique_ptr<std::FILE, FileCloser>;

std::string errno_text() { return std::strerror(errno); }

}  // namespace

std::string printable(const std::string& s) {
  std::string out = s;
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f) c = '?';
  }
  return out;
}

std::vector<std::uint8_t> read_file(const std::string& path, std::uint64_t max_bytes) {
  const std::string shown = printable(path);
  // stat before open: opening a FIFO for reading would block until a writer appears.
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    throw InputError(shown + ": cannot open: " + errno_text());
  }
  if (S_ISDIR(st.st_mode)) throw InputError(shown + ": is a directory, not a file");
  if (!S_ISREG(st.st_mode)) throw InputError(shown + ": not a regular file");

  File file(std::fopen(path.c_str(), "rb"));
  if (!file) throw InputError(shown + ": cannot open: " + errno_text());
  // Size from the open descriptor, so a rename between stat and open cannot mislead us.
  if (::fstat(fileno(file.get()), &st) != 0 || !S_ISREG(st.st_mode)) {
    throw InputError(shown + ": not a regular file");
  }
  const auto size = static_cast<std::uint64_t>(st.st_size);
  if (size > max_bytes) {
    throw InputError(shown + ": file is too large (" + std::to_string(size) + " bytes; limit " +
                     std::to_string(max_bytes) + ")");
  }
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  const std::size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), file.get());
  if (got != bytes.size()) {
    if (std::ferror(file.get())) throw InputError(shown + ": read error: " + errno_text());
    // The file shrank while we read it; use what is there.
    bytes.resize(got);
  }
  return bytes;
}

void write_file(const std::string& path, const std::vector<std::uint8_t>& bytes) {
  const std::string shown = printable(path);
  File file(std::fopen(path.c_str(), "wb"));
  if (!file) throw InputError(shown + ": cannot create: " + errno_text());
  if (!bytes.empty() && std::fwrite(bytes.data(), 1, bytes.size(), file.get()) != bytes.size()) {
    throw InputError(shown + ": write error: " + errno_text());
  }
  if (std::fclose(file.release()) != 0) throw InputError(shown + ": write error: " + errno_text());
}

}  // namespace gnrt::tools
