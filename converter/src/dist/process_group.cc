#include "dist/process_group.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <random>
#include <sstream>
#include <thread>

#include <gloo/allgather.h>
#include <gloo/allreduce.h>
#include <gloo/barrier.h>
#include <gloo/broadcast.h>
#include <gloo/math.h>
#include <gloo/rendezvous/context.h>
#include <gloo/rendezvous/file_store.h>
#define HIREDIS_NESTED_INCLUDE 1
#include <gloo/rendezvous/redis_store.h>
#include <gloo/transport/tcp/device.h>

namespace gnconvert {

namespace {

using Clock = std::chrono::steady_clock;

std::string first_line(const std::string& text) {
  auto newline = text.find('\n');
  return newline == std::string::npos ? text : text.substr(0, newline);
}

// Gloo prefixes its messages with "[/build/.../file.cc:123] "; the location means nothing to a
// user.
std::string gloo_message(const std::exception& e) {
  std::string msg = first_line(e.what());
  if (!msg.empty() && msg[0] == '[') {
    auto close = msg.find("] ");
    if (close != std::string::npos) msg = msg.substr(close + 2);
  }
  return msg;
}

std::string rank_list(const std::vector<int>& ranks) {
  std::string s;
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    if (i) s += i + 1 == ranks.size() ? " and " : ", ";
    s += std::to_string(ranks[i]);
  }
  return s;
}

std::string local_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

// Gloo's FileStore with its existence check made public and a way to remove a key.
class FileStoreAccess : public gloo::rendezvous::FileStore {
 public:
  explicit FileStoreAccess(const std::string& dir) : FileStore(dir) {}
  bool exists(const std::string& key) { return check({key}); }
  std::string path_of(const std::string& key) { return objectPath(key); }
  void remove(const std::string& key) { ::unlink(objectPath(key).c_str()); }
};

// Gloo's RedisStore with a way to remove a key (Gloo's Store interface has none).
class RedisStoreAccess : public gloo::rendezvous::RedisStore {
 public:
  RedisStoreAccess(const std::string& host, int port) : RedisStore(host, port) {}
  bool exists(const std::string& key) { return check({key}); }
  void remove(const std::string& key) {
    void* reply = redisCommand(redis_, "DEL %b", key.data(), key.size());
    if (reply) freeReplyObject(reply);
  }
};

}  // namespace

// The store of one launch: Gloo's FileStore or RedisStore under the "gn-convert/<namespace>/"
// prefix, with waits bounded by the group's timeout and a record of the keys this rank set, so
// that it can remove them again.
class RendezvousStore : public gloo::rendezvous::Store {
 public:
  RendezvousStore(const std::string& url, std::chrono::milliseconds timeout)
      : url_(url), timeout_(timeout) {
    std::string ns = "default";
    if (url.rfind("file://", 0) == 0) {
      std::string dir = url.substr(7);
      if (dir.empty() || dir[0] != '/') {
        throw std::invalid_argument("--rendezvous " + url + ": expected file:///absolute/dir");
      }
      make_dir(dir);
      try {
        file_ = std::make_unique<FileStoreAccess>(dir);
      } catch (const std::exception& e) {
        throw DistError("--rendezvous " + url + ": " + gloo_message(e));
      }
    } else if (url.rfind("redis://", 0) == 0) {
      std::string rest = url.substr(8);
      auto slash = rest.find('/');
      if (slash != std::string::npos) {
        ns = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
      }
      std::string host = rest;
      int port = 6379;
      auto colon = rest.rfind(':');
      if (colon != std::string::npos) {
        host = rest.substr(0, colon);
        try {
          port = std::stoi(rest.substr(colon + 1));
        } catch (const std::exception&) {
          port = -1;
        }
        if (port < 1 || port > 65535) {
          throw std::invalid_argument("--rendezvous " + url + ": bad port");
        }
      }
      if (host.empty()) throw std::invalid_argument("--rendezvous " + url + ": no host");
      try {
        redis_ = std::make_unique<RedisStoreAccess>(host, port);
      } catch (const std::exception& e) {
        throw DistError("cannot reach the Redis rendezvous " + url + ": " + gloo_message(e));
      }
    } else {
      throw std::invalid_argument("--rendezvous " + url +
                                  ": expected file:///dir or redis://host:port");
    }
    if (ns.empty()) ns = "default";
    prefix_ = "gn-convert/" + ns + "/";
  }

  void set(const std::string& key, const std::vector<char>& data) override {
    const std::string full = prefix_ + key;
    if (file_) {
      file_->set(full, data);
    } else {
      redis_->set(full, data);
    }
    recorded_.push_back(key);
  }

  std::vector<char> get(const std::string& key) override {
    wait({key});
    return file_ ? file_->get(prefix_ + key) : redis_->get(prefix_ + key);
  }

  void wait(const std::vector<std::string>& keys) override { wait(keys, timeout_); }

  void wait(const std::vector<std::string>& keys,
            const std::chrono::milliseconds& timeout) override {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      bool all = true;
      for (const auto& key : keys) all = all && exists(key);
      if (all) return;
      if (Clock::now() > deadline) {
        std::string names;
        for (const auto& key : keys) names += (names.empty() ? "" : ", ") + key;
        throw DistError("timed out waiting for rendezvous key(s) " + names + " in " + url_);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  bool exists(const std::string& key) {
    return file_ ? file_->exists(prefix_ + key) : redis_->exists(prefix_ + key);
  }

  // Where a key lives, for messages.
  std::string where(const std::string& key) {
    if (file_) return file_->path_of(prefix_ + key);
    return "key '" + prefix_ + key + "' of " + url_;
  }

  // Removes every key this rank has set so far. Never throws.
  void remove_recorded() noexcept {
    for (const auto& key : recorded_) {
      try {
        if (file_) {
          file_->remove(prefix_ + key);
        } else {
          redis_->remove(prefix_ + key);
        }
      } catch (...) {
      }
    }
    recorded_.clear();
  }

  void forget_recorded() { recorded_.clear(); }

 private:
  static void make_dir(const std::string& path) {
    std::string partial;
    std::size_t pos = 0;
    while (pos != std::string::npos) {
      pos = path.find('/', pos + 1);
      partial = path.substr(0, pos);
      if (partial.empty()) continue;
      if (::mkdir(partial.c_str(), 0755) != 0 && errno != EEXIST) {
        throw DistError("cannot create the rendezvous directory " + partial + ": " +
                        std::strerror(errno));
      }
    }
  }

  std::string url_;
  std::chrono::milliseconds timeout_;
  std::string prefix_;
  std::unique_ptr<FileStoreAccess> file_;
  std::unique_ptr<RedisStoreAccess> redis_;
  std::vector<std::string> recorded_;
};

namespace {

// The view of the store that Gloo's connectFullMesh uses ("mesh/<rank>" keys).
class MeshStore : public gloo::rendezvous::Store {
 public:
  explicit MeshStore(RendezvousStore& store) : store_(store) {}
  void set(const std::string& key, const std::vector<char>& data) override {
    store_.set("mesh/" + key, data);
  }
  std::vector<char> get(const std::string& key) override { return store_.get("mesh/" + key); }
  void wait(const std::vector<std::string>& keys) override { store_.wait(prefixed(keys)); }
  void wait(const std::vector<std::string>& keys,
            const std::chrono::milliseconds& timeout) override {
    store_.wait(prefixed(keys), timeout);
  }

 private:
  static std::vector<std::string> prefixed(const std::vector<std::string>& keys) {
    std::vector<std::string> out;
    for (const auto& key : keys) out.push_back("mesh/" + key);
    return out;
  }
  RendezvousStore& store_;
};

std::string join_key(int rank) { return "join/" + std::to_string(rank); }

ProcessGroup* g_current = nullptr;

}  // namespace

void validate_dist_options(const DistOptions& o) {
  if (o.world_size < 1) throw std::invalid_argument("--world-size must be >= 1");
  if (o.rank < 0 || o.rank >= o.world_size) {
    throw std::invalid_argument("--rank " + std::to_string(o.rank) + " is not in 0.." +
                                std::to_string(o.world_size - 1) + " (--world-size " +
                                std::to_string(o.world_size) + ")");
  }
  if (o.world_size > 1 && o.rendezvous.empty()) {
    throw std::invalid_argument("--world-size " + std::to_string(o.world_size) +
                                " needs --rendezvous file:///dir or redis://host:port");
  }
  if (!o.rendezvous.empty() && o.rendezvous.rfind("file:///", 0) != 0 &&
      o.rendezvous.rfind("redis://", 0) != 0) {
    throw std::invalid_argument("--rendezvous " + o.rendezvous +
                                ": expected file:///absolute/dir or redis://host:port[/namespace]");
  }
  if (o.timeout_seconds < 1) throw std::invalid_argument("--dist-timeout must be >= 1 second");
  if (o.device != "cpu" && o.device != "cuda") {
    throw std::invalid_argument("--device must be cpu or cuda");
  }
}

std::unique_ptr<ProcessGroup> ProcessGroup::join(const DistOptions& o) {
  validate_dist_options(o);
  // A peer that vanishes must turn into an error on the socket, not a SIGPIPE that kills us.
  ::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<ProcessGroup> group(new ProcessGroup());
  group->rank_ = o.rank;
  group->size_ = o.world_size;
  group->timeout_ = std::chrono::milliseconds(static_cast<std::int64_t>(o.timeout_seconds) * 1000);
  group->url_ = o.rendezvous;
  group->store_ = std::make_unique<RendezvousStore>(o.rendezvous, group->timeout_);
  RendezvousStore& store = *group->store_;

  // Announce this rank. A key already there belongs to a rank of an earlier launch that was
  // killed before the mesh stood (or to a second process started with the same rank).
  const std::string me = join_key(o.rank);
  if (store.exists(me)) {
    throw DistError("the rendezvous " + o.rendezvous + " already holds rank " +
                    std::to_string(o.rank) + "'s key (" + store.where(me) +
                    ") from a launch that was killed while joining, or another process runs as "
                    "rank " +
                    std::to_string(o.rank) + "; remove it or use a fresh --rendezvous");
  }
  const std::string host = o.host.empty() ? local_hostname() : o.host;
  std::ostringstream info;
  info << "world_size=" << o.world_size << " host=" << host << " pid=" << ::getpid();
  const std::string text = info.str();
  try {
    store.set(me, std::vector<char>(text.begin(), text.end()));
  } catch (const DistError&) {
    throw;
  } catch (const std::exception& e) {
    throw DistError("cannot write to the rendezvous " + o.rendezvous + ": " + gloo_message(e));
  }

  // Wait for everybody, then check that they agree on the world size.
  const auto deadline = Clock::now() + group->timeout_;
  std::vector<int> missing;
  // Sticky: a rank that gives up at its own deadline removes its key, but it did arrive.
  std::vector<bool> seen(o.world_size, false);
  seen[o.rank] = true;
  for (;;) {
    missing.clear();
    for (int r = 0; r < o.world_size; ++r) {
      if (!seen[r]) seen[r] = store.exists(join_key(r));
      if (!seen[r]) missing.push_back(r);
    }
    if (missing.empty() || Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!missing.empty()) {
    store.remove_recorded();
    throw DistError(std::string(missing.size() == 1 ? "rank " : "ranks ") + rank_list(missing) +
                    " of " + std::to_string(o.world_size) + " did not join within " +
                    std::to_string(o.timeout_seconds) + " s (rendezvous " + o.rendezvous + ")");
  }
  for (int r = 0; r < o.world_size; ++r) {
    if (r == o.rank) continue;
    auto value = store.get(join_key(r));
    std::string other(value.begin(), value.end());
    std::string expected = "world_size=" + std::to_string(o.world_size) + " ";
    if (other.rfind(expected, 0) != 0) {
      store.remove_recorded();
      throw DistError("rank " + std::to_string(r) + " was started with a different --world-size (" +
                      other + "); this rank has " + std::to_string(o.world_size));
    }
  }

  // The TCP mesh, through Gloo's own rendezvous.
  try {
    gloo::transport::tcp::attr attr;
    attr.hostname = host;
    group->device_ = gloo::transport::tcp::CreateDevice(attr);
    auto context = std::make_shared<gloo::rendezvous::Context>(o.rank, o.world_size);
    context->setTimeout(group->timeout_);
    MeshStore mesh(store);
    context->connectFullMesh(mesh, group->device_);
    group->context_ = context;
  } catch (const std::exception& e) {
    store.remove_recorded();
    throw DistError("rank " + std::to_string(o.rank) + " could not connect to the other ranks (" +
                    "listening on " + host +
                    "; set --dist-host to an address they can reach): " + gloo_message(e));
  }
  // Once everybody has connected, nobody reads the rendezvous keys again: remove them so that a
  // later launch can use the same URL.
  group->barrier("joining");
  store.remove_recorded();

  // Keys written after this point (failure reports) live under a prefix unique to this launch.
  std::string nonce;
  if (o.rank == 0) {
    std::random_device device;
    std::ostringstream s;
    s << std::hex << device() << device() << ::getpid();
    nonce = s.str();
  }
  group->broadcast_string(&nonce, 0, "launch id");
  group->run_prefix_ = "run/" + nonce + "/";
  group->reset_stats();
  return group;
}

ProcessGroup::~ProcessGroup() {
  if (context_) {
    try {
      context_->closeConnections();
    } catch (...) {
    }
  }
}

template <typename Fn>
void ProcessGroup::run(const char* what, std::size_t bytes, Fn&& fn) {
  if (failed_) throw DistError(std::string("the process group failed earlier; cannot run ") + what);
  const auto start = Clock::now();
  try {
    fn();
  } catch (const DistError&) {
    throw;
  } catch (const std::exception& e) {
    fail(what, gloo_message(e));
  }
  stats_.seconds += std::chrono::duration<double>(Clock::now() - start).count();
  stats_.calls += 1;
  stats_.bytes += static_cast<std::int64_t>(bytes);
}

void ProcessGroup::fail(const std::string& what, const std::string& cause) {
  failed_ = true;
  const std::string self = std::to_string(rank_);
  try {
    store_->set(run_prefix_ + "alive/" + self, {'1'});
  } catch (...) {
  }
  // Closing our connections wakes the ranks that wait on us, so they diagnose now instead of at
  // their own timeout.
  try {
    if (context_) context_->closeConnections();
  } catch (...) {
  }
  // Give the others a window to report in (alive) or to explain (failed).
  const auto window = std::min<std::chrono::milliseconds>(timeout_, std::chrono::seconds(30));
  const auto deadline = Clock::now() + window;
  std::vector<int> failed, missing;
  for (;;) {
    failed.clear();
    missing.clear();
    for (int r = 0; r < size_; ++r) {
      if (r == rank_) continue;
      const std::string key = std::to_string(r);
      bool has_failed = false, alive = false;
      try {
        has_failed = store_->exists(run_prefix_ + "failed/" + key);
        alive = store_->exists(run_prefix_ + "alive/" + key);
      } catch (...) {
      }
      if (has_failed) {
        failed.push_back(r);
      } else if (!alive) {
        missing.push_back(r);
      }
    }
    if (missing.empty() || Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const int window_s = static_cast<int>(window.count() / 1000);
  std::string msg;
  if (!failed.empty()) {
    std::string reason = "unknown error";
    try {
      auto bytes = store_->get(run_prefix_ + "failed/" + std::to_string(failed.front()));
      reason.assign(bytes.begin(), bytes.end());
    } catch (...) {
    }
    msg = "rank " + std::to_string(failed.front()) + " of " + std::to_string(size_) + " failed (" +
          reason + "); " + what + " on rank " + self + " stopped: " + cause;
  } else if (!missing.empty()) {
    msg = std::string("lost ") + (missing.size() == 1 ? "rank " : "ranks ") + rank_list(missing) +
          " of " + std::to_string(size_) + ": " + (missing.size() == 1 ? "it" : "they") +
          " died or stopped responding (" + what + " on rank " + self + " failed: " + cause +
          "; no sign of life within " + std::to_string(window_s) + " s)";
  } else {
    msg = std::string(what) + " failed on rank " + self + " of " + std::to_string(size_) +
          " although every rank is alive: " + cause;
  }
  throw DistError(msg);
}

void ProcessGroup::report_failure(const std::string& message) noexcept {
  if (!store_ || run_prefix_.empty()) return;
  try {
    std::string text = first_line(message);
    if (text.empty()) text = "error";
    store_->set(run_prefix_ + "failed/" + std::to_string(rank_),
                std::vector<char>(text.begin(), text.end()));
  } catch (...) {
  }
}

void ProcessGroup::allreduce_sum(float* data, std::size_t count, const char* what) {
  if (size_ == 1 || count == 0) return;
  run(what, count * sizeof(float), [&] {
    gloo::AllreduceOptions opts(context_);
    opts.setOutput(data, count);
    opts.setReduceFunction(
        static_cast<void (*)(void*, const void*, const void*, size_t)>(&gloo::sum<float>));
    opts.setTag(next_tag_++);
    opts.setTimeout(timeout_);
    gloo::allreduce(opts);
  });
}

void ProcessGroup::allreduce_sum(double* data, std::size_t count, const char* what) {
  if (size_ == 1 || count == 0) return;
  run(what, count * sizeof(double), [&] {
    gloo::AllreduceOptions opts(context_);
    opts.setOutput(data, count);
    opts.setReduceFunction(
        static_cast<void (*)(void*, const void*, const void*, size_t)>(&gloo::sum<double>));
    opts.setTag(next_tag_++);
    opts.setTimeout(timeout_);
    gloo::allreduce(opts);
  });
}

void ProcessGroup::allgather(const double* in, std::size_t count, double* out, const char* what) {
  if (size_ == 1) {
    std::copy(in, in + count, out);
    return;
  }
  run(what, count * sizeof(double), [&] {
    gloo::AllgatherOptions opts(context_);
    opts.setInput(const_cast<double*>(in), count);
    opts.setOutput(out, count * static_cast<std::size_t>(size_));
    opts.setTag(next_tag_++);
    opts.setTimeout(timeout_);
    gloo::allgather(opts);
  });
}

void ProcessGroup::broadcast(void* data, std::size_t bytes, int root, const char* what) {
  if (size_ == 1 || bytes == 0) return;
  run(what, bytes, [&] {
    gloo::BroadcastOptions opts(context_);
    opts.setOutput(static_cast<char*>(data), bytes);
    opts.setRoot(root);
    opts.setTag(next_tag_++);
    opts.setTimeout(timeout_);
    gloo::broadcast(opts);
  });
}

void ProcessGroup::broadcast_string(std::string* text, int root, const char* what) {
  if (size_ == 1) return;
  std::uint64_t length = text->size();
  broadcast(&length, sizeof length, root, what);
  if (rank_ != root) text->assign(length, '\0');
  broadcast(&(*text)[0], length, root, what);
}

void ProcessGroup::barrier(const char* what) {
  if (size_ == 1) return;
  run(what, 0, [&] {
    gloo::BarrierOptions opts(context_);
    opts.setTag(next_tag_++);
    opts.setTimeout(timeout_);
    gloo::barrier(opts);
  });
}

ProcessGroup* join_group(const DistOptions& options) {
  if (g_current) throw std::logic_error("join_group: already in a group");
  g_current = ProcessGroup::join(options).release();
  return g_current;
}

ProcessGroup* current_group() { return g_current; }

void leave_group() {
  ProcessGroup* group = g_current;
  g_current = nullptr;
  delete group;
}

}  // namespace gnconvert
