// Gloo process groups (converter/src/distributed.h) with ranks as threads of this process, over
// loopback TCP: collectives give the right sums everywhere; a rank that never joins, one that
// vanishes mid-collective and one that fails on its own are reported by rank number within the
// timeout; the rendezvous URL can be reused; the same through a Redis store (the test starts its
// own redis-server on a free port).
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "distributed.h"
#include "test_util.h"

using namespace gnconvert;
using gnconvert_test::TempDir;

namespace {

DistOptions options(int world, int rank, const std::string& url, int timeout = 20) {
  DistOptions o;
  o.world_size = world;
  o.rank = rank;
  o.rendezvous = url;
  o.host = "127.0.0.1";
  o.timeout_seconds = timeout;
  return o;
}

// Runs body(rank) on `ranks` threads; returns each rank's error message ("" = none).
std::vector<std::string> run_ranks(const std::vector<int>& ranks,
                                   const std::function<void(int)>& body) {
  std::vector<std::string> errors(ranks.size());
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < ranks.size(); ++i) {
    threads.emplace_back([&, i] {
      try {
        body(ranks[i]);
      } catch (const std::exception& e) {
        errors[i] = e.what();
        if (errors[i].empty()) errors[i] = "(empty message)";
      }
    });
  }
  for (auto& t : threads) t.join();
  return errors;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void exercise_collectives(const std::string& url, int world) {
  std::mutex mutex;
  auto errors = run_ranks(
      [&] {
        std::vector<int> r;
        for (int i = 0; i < world; ++i) r.push_back(i);
        return r;
      }(),
      [&](int rank) {
        auto group = ProcessGroup::join(options(world, rank, url));
        REQUIRE(group->size() == world);
        // Sum of (rank + 1) * (i + 1) over the ranks, exact in float for these sizes.
        std::vector<float> f(3000);
        for (std::size_t i = 0; i < f.size(); ++i) f[i] = static_cast<float>((rank + 1) * (i + 1));
        group->allreduce_sum(f.data(), f.size(), "test");
        const float ranks_sum = static_cast<float>(world * (world + 1) / 2);
        bool sums_ok = true;
        for (std::size_t i = 0; i < f.size(); ++i) sums_ok = sums_ok && f[i] == ranks_sum * (i + 1);
        double d[2] = {0.25 * rank, 1.0};
        group->allreduce_sum(d, 2, "test");
        std::vector<double> gathered(2 * world);
        const double mine[2] = {static_cast<double>(rank), -static_cast<double>(rank)};
        group->allgather(mine, 2, gathered.data(), "test");
        std::string text = rank == 0 ? std::string(100000, 'x') + "end" : "";
        group->broadcast_string(&text, 0, "test");
        group->barrier("test");
        std::lock_guard<std::mutex> lock(mutex);
        CHECK(sums_ok);
        CHECK(d[0] == doctest::Approx(0.25 * world * (world - 1) / 2));
        CHECK(d[1] == world);
        for (int r = 0; r < world; ++r) {
          CHECK(gathered[2 * r] == r);
          CHECK(gathered[2 * r + 1] == -r);
        }
        CHECK(text.size() == 100003);
        CHECK(text.substr(100000) == "end");
        CHECK(group->stats().calls >= 5);
      });
  for (const auto& e : errors) CHECK(e == "");
}

int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  ::close(fd);
  return port;
}

// A redis-server of the test's own on a free loopback port, stopped by the destructor.
struct RedisServer {
  pid_t pid = -1;
  int port = 0;
  explicit RedisServer(const std::string& dir) {
    port = free_port();
    pid = ::fork();
    if (pid == 0) {
      std::string p = std::to_string(port);
      ::execlp("redis-server", "redis-server", "--port", p.c_str(), "--bind", "127.0.0.1", "--save",
               "", "--appendonly", "no", "--dir", dir.c_str(), "--logfile",
               (dir + "/redis.log").c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Wait until it accepts connections.
    for (int i = 0; i < 200; ++i) {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<uint16_t>(port));
      bool up = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      ::close(fd);
      if (up) return;
      int status = 0;
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        pid = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
  }
  bool running() const { return pid > 0; }
  ~RedisServer() {
    if (pid > 0) {
      ::kill(pid, SIGTERM);
      ::waitpid(pid, nullptr, 0);
    }
  }
};

}  // namespace

TEST_CASE("option validation") {
  CHECK_NOTHROW(validate_dist_options(DistOptions{}));
  CHECK_THROWS_AS(validate_dist_options(options(2, 2, "file:///tmp/x")), std::invalid_argument);
  CHECK_THROWS_AS(validate_dist_options(options(2, -1, "file:///tmp/x")), std::invalid_argument);
  CHECK_THROWS_AS(validate_dist_options(options(2, 0, "")), std::invalid_argument);
  CHECK_THROWS_AS(validate_dist_options(options(2, 0, "tcp://host:1")), std::invalid_argument);
  CHECK_THROWS_AS(validate_dist_options(options(2, 0, "file://relative")), std::invalid_argument);
  DistOptions cuda;
  cuda.device = "gpu";
  CHECK_THROWS_AS(validate_dist_options(cuda), std::invalid_argument);
}

TEST_CASE("collectives over a file store, 2 and 3 ranks; the URL can be reused") {
  TempDir tmp;
  const std::string url = "file://" + tmp.path + "/rdzv";
  exercise_collectives(url, 2);
  exercise_collectives(url, 3);  // same directory: the first group removed its keys
  exercise_collectives(url, 3);
}

TEST_CASE("a rank that never joins is named, and the others give up within the timeout") {
  TempDir tmp;
  const std::string url = "file://" + tmp.path + "/rdzv";
  auto start = std::chrono::steady_clock::now();
  auto errors = run_ranks({0, 1}, [&](int rank) { ProcessGroup::join(options(3, rank, url, 2)); });
  double elapsed = seconds_since(start);
  for (const auto& e : errors) {
    CAPTURE(e);
    CHECK(e.find("rank 2 of 3 did not join within 2 s") != std::string::npos);
  }
  CHECK(elapsed < 6);
  // They removed their keys: the full group can now meet at the same URL.
  exercise_collectives(url, 3);
}

TEST_CASE("a rank that vanishes mid-run is named by the others") {
  TempDir tmp;
  const std::string url = "file://" + tmp.path + "/rdzv";
  auto start = std::chrono::steady_clock::now();
  auto errors = run_ranks({0, 1, 2}, [&](int rank) {
    auto group = ProcessGroup::join(options(3, rank, url, 3));
    std::vector<float> grads(1 << 16, 1.0f);
    group->allreduce_sum(grads.data(), grads.size(), "gradient all-reduce");
    if (rank == 2) {
      group.reset();  // closes its connections, as a killed process would
      return;
    }
    for (int i = 0; i < 3; ++i)
      group->allreduce_sum(grads.data(), grads.size(), "gradient all-reduce");
  });
  double elapsed = seconds_since(start);
  CHECK(errors[2] == "");
  for (int r = 0; r < 2; ++r) {
    CAPTURE(errors[r]);
    CHECK(errors[r].find("lost rank 2 of 3") != std::string::npos);
    CHECK(errors[r].find("gradient all-reduce") != std::string::npos);
  }
  CHECK(elapsed < 15);
}

TEST_CASE("a rank that stops answering is named after the collective timeout") {
  TempDir tmp;
  const std::string url = "file://" + tmp.path + "/rdzv";
  auto start = std::chrono::steady_clock::now();
  auto errors = run_ranks({0, 1}, [&](int rank) {
    auto group = ProcessGroup::join(options(2, rank, url, 2));
    if (rank == 1) {
      // Hangs (connections open) past the others' timeout, then leaves.
      std::this_thread::sleep_for(std::chrono::seconds(5));
      return;
    }
    double x = 1;
    group->allreduce_sum(&x, 1, "evaluation");
  });
  double elapsed = seconds_since(start);
  CAPTURE(errors[0]);
  CHECK(errors[0].find("lost rank 1 of 2") != std::string::npos);
  CHECK(elapsed < 10);
}

TEST_CASE("a rank that fails on its own tells the others why") {
  TempDir tmp;
  const std::string url = "file://" + tmp.path + "/rdzv";
  auto errors = run_ranks({0, 1}, [&](int rank) {
    auto group = ProcessGroup::join(options(2, rank, url, 5));
    if (rank == 0) {
      group->report_failure("cannot write /out/checkpoint.pt: No space left on device");
      return;  // leaves: connections close
    }
    float x = 1;
    group->allreduce_sum(&x, 1, "gradient all-reduce");
  });
  CAPTURE(errors[1]);
  CHECK(errors[1].find("rank 0 of 2 failed (cannot write /out/checkpoint.pt: No space left on "
                       "device)") != std::string::npos);
}

TEST_CASE("Redis store: collectives, and a missing rank named") {
  TempDir tmp;
  RedisServer redis(tmp.path);
  REQUIRE_MESSAGE(redis.running(), "redis-server did not start (apt-get install redis-server)");
  const std::string url = "redis://127.0.0.1:" + std::to_string(redis.port) + "/test-job";
  exercise_collectives(url, 3);
  exercise_collectives(url, 2);  // keys removed: the namespace is reusable
  auto errors = run_ranks({1}, [&](int rank) { ProcessGroup::join(options(2, rank, url, 2)); });
  CAPTURE(errors[0]);
  CHECK(errors[0].find("rank 0 of 2 did not join within 2 s") != std::string::npos);
  auto unreachable = run_ranks({0}, [&](int rank) {
    ProcessGroup::join(options(2, rank, "redis://127.0.0.1:" + std::to_string(free_port()), 2));
  });
  CHECK(unreachable[0].find("cannot reach the Redis rendezvous") != std::string::npos);
}
