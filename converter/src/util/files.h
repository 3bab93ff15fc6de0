// Files and directories for gn-convert's outputs (checkpoints, reports, models). No LibTorch.
// Writes are unconditional here: on data-parallel runs the caller decides which rank writes
// (Session::writes_files()).
#pragma once

#include <string>

namespace gnconvert {

// mkdir -p. Throws std::invalid_argument for an empty path ("--out is required") and
// std::runtime_error when a component exists and is not a directory or cannot be created.
void make_dirs(const std::string& path);

// True when something (of any type) exists at `path`.
bool file_exists(const std::string& path);

// Atomic file replacement: write `path`.tmp, fsync, rename over `path`, fsync the directory.
// Throws std::runtime_error (with the OS error) and leaves any previous `path` untouched.
void write_file_atomic(const std::string& path, const std::string& bytes);

// The whole regular file at `path`. Throws std::runtime_error.
std::string read_file(const std::string& path);

}  // namespace gnconvert
