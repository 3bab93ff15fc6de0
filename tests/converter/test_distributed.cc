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

#include "dist/process_group.h"
#include "redis_server.h"
#include "test_util.h"

using namespace gnconvert;
using gnconvert_test::TempDir;
using gnrt::testing::free_port;
using gnrt::testing::RedisServer;

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
  const std::string url = "redis://127.0.0.1:" + std::to_string(redis.port()) + "/test-job";
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
