#pragma once
/// @file DispatchPeers: the dispatch benchmark's chain of one-byte writes (libevent's
/// test/bench.c) and the driver interface each event loop implements (coil in DispatchBench.cpp,
/// libevent and libev in their own files).

#include <sys/socket.h>
#include <sys/types.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace coil::bench::dispatch {

/// bench.c's globals: the write ends, and the counters of the iteration in progress.
struct Chain {
  /// The write end of each pair (index i feeds the watched read end i).
  const int* writeFds = nullptr;
  /// Number of pairs.
  long n = 0;
  /// Bytes read, bytes written (including the first `a`), writes left, failed calls.
  long count = 0, fired = 0, writes = 0, failures = 0;
};

/// bench.c's read_cb: reads the byte of pair `idx` and, while writes remain, writes one byte to
/// the next pair.
inline void onReadable(Chain& c, int fd, long idx) {
  unsigned char ch;
  ssize_t r = ::recv(fd, &ch, sizeof ch, 0);
  if (r >= 0) {
    c.count += r;
  } else {
    ++c.failures;
  }
  if (c.writes) {
    long next = idx + 1;
    if (next >= c.n) next -= c.n;
    if (::send(c.writeFds[next], "e", 1, 0) != 1) ++c.failures;
    --c.writes;
    ++c.fired;
  }
}

/// One event loop on one backend, watching the read end of every pair.
class Driver {
 public:
  virtual ~Driver() = default;
  /// The backend the loop really uses (checked against the one asked for).
  virtual std::string backend() const = 0;
  /// Registers a fresh read watcher for every pair.
  virtual void addAll() = 0;
  /// Removes and re-adds every watcher (bench.c: event_del + event_set + event_add).
  virtual void readdAll() = 0;
  /// One non-blocking pass of the loop (bench.c: EVLOOP_ONCE | EVLOOP_NONBLOCK).
  virtual void once() = 0;
};

/// Makes a driver on `backend` ("epoll", "poll", "select") for the read ends `readFds`, whose
/// callbacks feed `chain`. Throws std::runtime_error when the library cannot use that backend.
using DriverFactory = std::unique_ptr<Driver> (*)(std::string_view backend,
                                                  const std::vector<int>& readFds, Chain& chain);

#ifdef COIL_BENCH_HAVE_LIBEVENT
/// libevent: struct event per pair (event_assign, EV_READ | EV_PERSIST), other methods avoided.
std::unique_ptr<Driver> makeLibeventDriver(std::string_view backend,
                                           const std::vector<int>& readFds, Chain& chain);
#endif
#ifdef COIL_BENCH_HAVE_LIBEV
/// libev: ev_io per pair on ev_loop_new(EVBACKEND_*).
std::unique_ptr<Driver> makeLibevDriver(std::string_view backend, const std::vector<int>& readFds,
                                        Chain& chain);
#endif

}  // namespace coil::bench::dispatch
