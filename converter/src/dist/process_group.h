// Data-parallel process groups over Gloo (no LibTorch here): rendezvous through one of Gloo's
// stores, a full TCP mesh between the ranks, and the few collectives gn-convert needs, each
// bounded by a timeout. When a collective fails (a peer died, stopped answering or failed on its
// own), the group finds out which rank is missing through the store and throws a DistError that
// names it, so that no rank hangs.
//
// Rendezvous URLs:
//   file:///shared/dir         Gloo's FileStore: one file per key in a directory that every rank
//                              sees (one host, or hosts sharing a file system)
//   redis://host[:port][/ns]   Gloo's RedisStore (port 6379 by default); `ns` namespaces the keys
// One URL serves one launch of the group. Ranks remove their rendezvous keys once the mesh is up
// (or when they give up), so a restarted launch may reuse the URL; a rank killed during the
// rendezvous leaves its key behind, which the next launch reports instead of misreading it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "util/options.h"

namespace gloo {
class Context;
namespace rendezvous {
class Store;
}
namespace transport {
class Device;
}
}  // namespace gloo

namespace gnconvert {

// A failure of the group: a rank did not join, died, stopped answering, or failed itself.
struct DistError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Validates the distributed options (rank < world size, URL scheme, device); throws
// std::invalid_argument with a one-line message.
void validate_dist_options(const DistOptions& options);

class RendezvousStore;

class ProcessGroup {
 public:
  // Joins the group: announces this rank in the store, waits (up to the timeout) for every other
  // rank, connects the TCP mesh, then removes its rendezvous keys. Throws DistError naming the
  // ranks that did not arrive.
  static std::unique_ptr<ProcessGroup> join(const DistOptions& options);
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // Collectives. Every rank must call the same ones in the same order with the same sizes.
  void allreduce_sum(float* data, std::size_t count, const char* what);
  void allreduce_sum(double* data, std::size_t count, const char* what);
  // out holds size() * count values, rank r's at [r * count, (r + 1) * count).
  void allgather(const double* in, std::size_t count, double* out, const char* what);
  void broadcast(void* data, std::size_t bytes, int root, const char* what);
  // Broadcasts a string of any length from root (length first, then the bytes).
  void broadcast_string(std::string* text, int root, const char* what);
  void barrier(const char* what);

  // Records that this process is failing with `message`, so that the other ranks report it
  // instead of just "rank R is gone". Never throws.
  void report_failure(const std::string& message) noexcept;

  // Time spent inside collectives (waiting for slower ranks included), and their count.
  struct Stats {
    double seconds = 0;
    std::int64_t calls = 0;
    std::int64_t bytes = 0;  // payload bytes of this rank's calls
  };
  const Stats& stats() const { return stats_; }
  void reset_stats() { stats_ = Stats{}; }

 private:
  ProcessGroup() = default;
  template <typename Fn>
  void run(const char* what, std::size_t bytes, Fn&& fn);
  [[noreturn]] void fail(const std::string& what, const std::string& cause);

  int rank_ = 0;
  int size_ = 1;
  std::chrono::milliseconds timeout_{0};
  std::string url_;
  std::string run_prefix_;  // namespace of this launch's failure keys (chosen by rank 0)
  std::unique_ptr<RendezvousStore> store_;
  std::shared_ptr<gloo::transport::Device> device_;
  std::shared_ptr<gloo::Context> context_;
  std::uint32_t next_tag_ = 1;
  bool failed_ = false;
  Stats stats_;
};

// The process's group: joined once by a command (train, prune), kept until leave_group() so that
// main's error handler can still tell the other ranks why this one fails (report_failure).
ProcessGroup* join_group(const DistOptions& options);
ProcessGroup* current_group();  // null when not joined
void leave_group();

}  // namespace gnconvert
