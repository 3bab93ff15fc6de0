// A redis-server of the test's own on a free loopback port (for the Redis rendezvous of the
// data-parallel tests), stopped by the destructor.
#pragma once

#include <sys/types.h>

#include <string>

namespace gnrt::testing {

// A TCP port on 127.0.0.1 that was free a moment ago (bind to port 0, read it back, close).
int free_port();

class RedisServer {
 public:
  // Starts redis-server (no persistence, log in dir/redis.log) and waits up to ~5 s until it
  // accepts connections; running() is false when it could not start.
  explicit RedisServer(const std::string& dir);
  ~RedisServer();
  RedisServer(const RedisServer&) = delete;
  RedisServer& operator=(const RedisServer&) = delete;

  bool running() const { return pid_ > 0; }
  int port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
};

}  // namespace gnrt::testing
