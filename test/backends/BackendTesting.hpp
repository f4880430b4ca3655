#pragma once
/// @file BackendTesting: descriptors, pipes and fakes shared by the backend suites.

#include <coil/backends/Backends.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/IFileDescriptor.hpp>
#include <coil/core/Multiplexer.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace coil::test {

/// The backends a suite covers: the one CTest names in COIL_REACTOR (one registration per
/// backend), else every available built-in.
inline std::vector<std::string> testedBackends() {
  if (const char* name = std::getenv("COIL_REACTOR"); name && *name) return {name};
  return availableBuiltinBackends();
}

/// Makes `fd` non-blocking and close-on-exec.
inline void makeNonBlocking(int fd) {
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  ::fcntl(fd, F_SETFD, FD_CLOEXEC);
}

/// Closes `fd` if it is open and sets it to -1.
inline void closeFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

/// A non-blocking pipe, closed on destruction.
struct Pipe {
  int r = -1;
  int w = -1;
  Pipe() {
    int fds[2];
    if (::pipe(fds) != 0) throw std::runtime_error("pipe failed");
    r = fds[0];
    w = fds[1];
    makeNonBlocking(r);
    makeNonBlocking(w);
  }
  ~Pipe() {
    closeFd(r);
    closeFd(w);
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  /// Writes one byte to the write end.
  void put() const {
    char c = 'x';
    if (::write(w, &c, 1) != 1) throw std::runtime_error("pipe write failed");
  }
};

/// A non-blocking AF_UNIX stream socket pair, closed on destruction.
struct SocketPair {
  int a = -1;
  int b = -1;
  SocketPair() {
    int fds[2];
    if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0)
      throw std::runtime_error("socketpair failed");
    a = fds[0];
    b = fds[1];
    makeNonBlocking(a);
    makeNonBlocking(b);
  }
  ~SocketPair() {
    closeFd(a);
    closeFd(b);
  }
  SocketPair(const SocketPair&) = delete;
  SocketPair& operator=(const SocketPair&) = delete;
};

/// Reads everything available: ConnectionDone at end of file, ConnectionLost on an error,
/// nothing while data or EAGAIN. Twisted's fdesc.readFromFD in miniature.
inline std::optional<Failure> drainOrClose(int fd) {
  char buffer[4096];
  for (;;) {
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0) continue;
    if (n == 0) return Failure(error::ConnectionDone());
    if (errno == EAGAIN || errno == EWOULDBLOCK) return std::nullopt;
    if (errno == EINTR) continue;
    return Failure(error::ConnectionLost("read", {errno, std::system_category()}));
  }
}

/// A descriptor that records what the reactor does to it. Hooks run inside the calls; they
/// must not capture a shared_ptr to the descriptor itself (that would be a cycle).
class FakeDescriptor : public IFileDescriptor {
 public:
  /// Watches `fd` (not owned), logged as `name`.
  explicit FakeDescriptor(int fd, std::string name = "fake") : fd_(fd), name_(std::move(name)) {}

  int fileno() const override { return fd_; }
  std::optional<Failure> doRead() override {
    ++reads;
    return onRead ? onRead() : std::nullopt;
  }
  std::optional<Failure> doWrite() override {
    ++writes;
    return onWrite ? onWrite() : std::nullopt;
  }
  void connectionLost(const Failure& reason) override {
    ++lost;
    reasons.push_back(reason);
    if (onLost) onLost(reason);
  }
  std::string logPrefix() const override { return name_; }

  /// Changes what fileno() reports (-1: "closed").
  void setFileno(int fd) { fd_ = fd; }
  /// The last connectionLost reason is an E.
  template <class E>
  bool lostWith() const {
    return !reasons.empty() && reasons.back().value<E>() != nullptr;
  }

  /// Calls so far.
  int reads = 0;
  int writes = 0;
  int lost = 0;
  /// connectionLost reasons, in order.
  std::vector<Failure> reasons;
  /// Optional behaviour of doRead / doWrite / connectionLost.
  std::function<std::optional<Failure>()> onRead;
  std::function<std::optional<Failure>()> onWrite;
  std::function<void(const Failure&)> onLost;

 private:
  int fd_;
  std::string name_;
};

/// Seconds elapsed while running `f`.
template <class F>
double timed(F&& f) {
  auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Raises RLIMIT_NOFILE's soft limit to at least `wanted`; false if the hard limit forbids it.
inline bool ensureFileLimit(rlim_t wanted) {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) return false;
  if (limit.rlim_cur >= wanted) return true;
  if (limit.rlim_max != RLIM_INFINITY && limit.rlim_max < wanted) return false;
  limit.rlim_cur = wanted;
  return ::setrlimit(RLIMIT_NOFILE, &limit) == 0;
}

/// The events `ready` reports for `fd` (0 when absent; several entries are or-ed).
inline std::uint8_t eventsFor(const ReadyList& ready, int fd) {
  std::uint8_t events = 0;
  for (const ReadyEvent& e : ready)
    if (e.fd == fd) events |= e.events;
  return events;
}

/// A Multiplexer driven by the test: update() is recorded (and refused on demand), wait()
/// returns scripted ready lists without blocking.
class ScriptedMultiplexer : public Multiplexer {
 public:
  /// One recorded update() call.
  struct Update {
    int fd;
    std::uint8_t oldMask;
    std::uint8_t newMask;
  };

  std::string_view name() const override { return "scripted"; }
  unsigned features() const override { return 0; }
  std::error_code update(int fd, std::uint8_t oldMask, std::uint8_t newMask) override {
    updates.push_back({fd, oldMask, newMask});
    if (auto it = refuse.find(fd); it != refuse.end() && newMask != 0) return it->second;
    if (newMask != 0) {
      interest[fd] = newMask;
    } else {
      interest.erase(fd);
    }
    return {};
  }
  std::error_code wait(std::optional<double> timeout, ReadyList& ready) override {
    timeouts.push_back(timeout);
    if (!script.empty()) {
      ready.insert(ready.end(), script.front().begin(), script.front().end());
      script.pop_front();
    }
    return std::exchange(waitError, {});
  }
  std::error_code afterFork(const std::vector<std::pair<int, std::uint8_t>>& list) override {
    forked = list;
    interest.clear();
    for (const auto& [fd, mask] : list) interest[fd] = mask;
    return {};
  }

  /// Every update() so far.
  std::vector<Update> updates;
  /// What the "kernel" watches now.
  std::map<int, std::uint8_t> interest;
  /// Ready lists returned by the next waits, in order (empty lists once exhausted).
  std::deque<ReadyList> script;
  /// The timeout each wait() was given.
  std::vector<std::optional<double>> timeouts;
  /// update() returns this error for these descriptors (when adding interest).
  std::map<int, std::error_code> refuse;
  /// The next wait() returns this error.
  std::error_code waitError;
  /// The interest afterFork() was given.
  std::vector<std::pair<int, std::uint8_t>> forked;
};

/// Wraps a real Multiplexer and counts update() calls (the system calls of interest changes).
class CountingMultiplexer : public Multiplexer {
 public:
  /// Forwards to `inner`.
  explicit CountingMultiplexer(std::unique_ptr<Multiplexer> inner) : inner_(std::move(inner)) {}
  std::string_view name() const override { return inner_->name(); }
  unsigned features() const override { return inner_->features(); }
  std::error_code update(int fd, std::uint8_t oldMask, std::uint8_t newMask) override {
    ++updates;
    return inner_->update(fd, oldMask, newMask);
  }
  std::error_code wait(std::optional<double> timeout, ReadyList& ready) override {
    return inner_->wait(timeout, ready);
  }
  void beforeFork() override { inner_->beforeFork(); }
  std::error_code afterFork(const std::vector<std::pair<int, std::uint8_t>>& list) override {
    return inner_->afterFork(list);
  }
  /// update() calls so far.
  int updates = 0;

 private:
  std::unique_ptr<Multiplexer> inner_;
};

}  // namespace coil::test
