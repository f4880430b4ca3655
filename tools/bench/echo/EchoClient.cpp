// EchoClient: the echo benchmark's client, a hand-written epoll loop (see EchoClient.hpp).
#include "EchoClient.hpp"
#include "EchoPeers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <vector>

namespace coil::bench::echo {

namespace {

// Message contents: message k of a connection is pattern[seed, seed + size) with seed = k mod
// kPeriod, so consecutive messages differ and a misplaced byte is caught.
constexpr std::size_t kPeriod = 251;
constexpr std::size_t kScratch = 256 * 1024;  // bytes received per recv at most
constexpr std::size_t kQuickAckAbove = 1024;  // message sizes that may take several segments
constexpr int kOne = 1;
constexpr std::uint64_t kStallNs = 10'000'000'000;  // no echo at all for this long: give up

std::uint64_t clockNs(clockid_t clock) {
  timespec ts{};
  ::clock_gettime(clock, &ts);
  return static_cast<std::uint64_t>(ts.tv_sec) * 1'000'000'000u +
         static_cast<std::uint64_t>(ts.tv_nsec);
}

std::uint64_t nowNs() {
  return clockNs(CLOCK_MONOTONIC);
}

std::string sysError(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

struct Connection {
  int fd = -1;
  std::size_t seed = 0;      // of the message in flight
  std::size_t sent = 0;      // bytes of it sent
  std::size_t received = 0;  // bytes of its echo received
  std::uint64_t startNs = 0;
  bool writing = false;  // EPOLLOUT watched
};

class Client {
 public:
  explicit Client(const ClientConfig& config)
      : config_(config),
        pattern_(config.size + kPeriod),
        scratch_(kScratch),
        quickAck_(config.size > kQuickAckAbove) {
    for (std::size_t i = 0; i < pattern_.size(); ++i)
      pattern_[i] = static_cast<char>((i % kPeriod) * 37 + 11);
  }

  ~Client() {
    for (Connection& c : conns_) {
      if (c.fd < 0) continue;
      linger reset{1, 0};
      ::setsockopt(c.fd, SOL_SOCKET, SO_LINGER, &reset, sizeof reset);
      ::close(c.fd);
    }
    if (epfd_ >= 0) ::close(epfd_);
  }

  ClientResult run() {
    ClientResult result;
    const std::uint64_t connectStart = nowNs();
    if (!connectAll(result.error)) return result;
    result.connectNs = nowNs() - connectStart;
    std::vector<epoll_event> events(std::min<std::size_t>(conns_.size(), 1024));
    const std::uint64_t start = nowNs();
    const std::uint64_t warmupEnd = start + toNs(config_.warmupSeconds);
    const std::uint64_t windowNs = toNs(config_.seconds);
    for (Connection& c : conns_)
      if (!startMessage(c, start, result.error)) return result;
    std::uint64_t windowStart = 0, serverCpu0 = 0, clientCpu0 = 0;
    std::uint64_t lastProgress = start;
    bool measuring = false;
    latencies_.reserve(1 << 20);
    for (;;) {
      int n = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), 1000);
      if (n < 0 && errno != EINTR) {
        result.error = sysError("epoll_wait");
        return result;
      }
      const std::uint64_t completedBefore = completed_;
      for (int i = 0; i < n; ++i) {
        Connection& c = conns_[events[i].data.u32];
        if ((events[i].events & EPOLLOUT) && !writeSome(c, result.error)) return result;
        if ((events[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)) && !readSome(c, result.error))
          return result;
      }
      const std::uint64_t now = nowNs();
      if (completed_ != completedBefore) {
        lastProgress = now;
      } else if (now - lastProgress > kStallNs) {
        result.error = "stalled: no echo for 10 s";
        return result;
      }
      if (!measuring && now >= warmupEnd) {
        measuring = true;
        recording_ = true;
        completed_ = 0;
        windowStart = nowNs();
        serverCpu0 = config_.serverCpuNs ? config_.serverCpuNs() : 0;
        clientCpu0 = clockNs(CLOCK_THREAD_CPUTIME_ID);
      } else if (measuring && now - windowStart >= windowNs && completed_ > 0) {
        const std::uint64_t serverCpu1 = config_.serverCpuNs ? config_.serverCpuNs() : 0;
        result.wallNs = nowNs() - windowStart;
        result.clientCpuNs = clockNs(CLOCK_THREAD_CPUTIME_ID) - clientCpu0;
        result.serverCpuNs = serverCpu1 - serverCpu0;
        result.roundTrips = completed_;
        result.p50Us = percentileUs(0.50);
        result.p99Us = percentileUs(0.99);
        return result;
      }
    }
  }

 private:
  static std::uint64_t toNs(double seconds) {
    return static_cast<std::uint64_t>(std::max(0.0, seconds) * 1e9);
  }

  bool connectAll(std::string& error) {
    epfd_ = ::epoll_create1(EPOLL_CLOEXEC);
    if (epfd_ < 0) {
      error = sysError("epoll_create1");
      return false;
    }
    sockaddr_in in{};
    in.sin_family = AF_INET;
    in.sin_port = htons(static_cast<std::uint16_t>(config_.port));
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    conns_.resize(static_cast<std::size_t>(config_.conns));
    for (std::size_t i = 0; i < conns_.size(); ++i) {
      Connection& c = conns_[i];
      c.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      if (c.fd < 0) {
        error = sysError("socket");
        return false;
      }
      // Blocking connect (loopback: the handshake is immediate), then non-blocking I/O.
      if (::connect(c.fd, reinterpret_cast<sockaddr*>(&in), sizeof in) != 0) {
        error = sysError("connect") + " (connection " + std::to_string(i) + ")";
        return false;
      }
      int one = 1;
      ::setsockopt(c.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      int flags = 1;
      ::ioctl(c.fd, FIONBIO, &flags);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u32 = static_cast<std::uint32_t>(i);
      if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, c.fd, &ev) != 0) {
        error = sysError("epoll_ctl");
        return false;
      }
    }
    return true;
  }

  void watch(Connection& c, bool writing) {
    if (c.writing == writing) return;
    c.writing = writing;
    epoll_event ev{};
    ev.events = EPOLLIN | (writing ? EPOLLOUT : 0u);
    ev.data.u32 = static_cast<std::uint32_t>(&c - conns_.data());
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  bool startMessage(Connection& c, std::uint64_t now, std::string& error) {
    c.seed = (c.seed + 1) % kPeriod;
    c.sent = 0;
    c.received = 0;
    c.startNs = now;
    return writeSome(c, error);
  }

  // Sends what the socket takes of the message in flight; EPOLLOUT while some is left.
  bool writeSome(Connection& c, std::string& error) {
    const std::size_t size = config_.size;
    long w = sendUntilBlocked(c.fd, pattern_.data() + c.seed + c.sent, size - c.sent);
    if (w < 0) {
      error = sysError("send");
      return false;
    }
    c.sent += static_cast<std::size_t>(w);
    watch(c, c.sent < size);
    return true;
  }

  // Receives what is there of the echo; on the last byte, records it and sends the next.
  bool readSome(Connection& c, std::string& error) {
    const std::size_t size = config_.size;
    for (;;) {
      const std::size_t want = std::min(scratch_.size(), size - c.received);
      ssize_t n = ::recv(c.fd, scratch_.data(), want, 0);
      if (n > 0) {
        std::size_t got = static_cast<std::size_t>(n);
        if (c.received + got > c.sent ||
            std::memcmp(scratch_.data(), pattern_.data() + c.seed + c.received, got) != 0) {
          error = "the server echoed bytes that were not sent (or not in order)";
          return false;
        }
        c.received += got;
        // Acknowledge at once: a delayed ACK (up to 40 ms) would hold back the rest of an echo
        // that a server (not setting TCP_NODELAY, as none here does) sends in several writes —
        // Nagle's algorithm waits for that ACK — and the benchmark would time the interplay of
        // the two instead of the server. One segment per message never waits.
        if (quickAck_) ::setsockopt(c.fd, IPPROTO_TCP, TCP_QUICKACK, &kOne, sizeof kOne);
        if (c.received == size) return complete(c, error);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      error = n == 0 ? std::string("the server closed a connection") : sysError("recv");
      return false;
    }
  }

  bool complete(Connection& c, std::string& error) {
    const std::uint64_t now = nowNs();
    ++completed_;
    if (recording_)
      latencies_.push_back(
          static_cast<std::uint32_t>(std::min<std::uint64_t>(now - c.startNs, UINT32_MAX)));
    return startMessage(c, now, error);
  }

  double percentileUs(double p) {
    if (latencies_.empty()) return 0.0;
    std::size_t k = static_cast<std::size_t>(std::ceil(p * static_cast<double>(latencies_.size())));
    k = std::clamp<std::size_t>(k, 1, latencies_.size()) - 1;
    std::nth_element(latencies_.begin(), latencies_.begin() + static_cast<std::ptrdiff_t>(k),
                     latencies_.end());
    return static_cast<double>(latencies_[k]) / 1e3;
  }

  const ClientConfig& config_;
  std::vector<char> pattern_;
  std::vector<char> scratch_;
  const bool quickAck_;  // TCP_QUICKACK after every read
  std::vector<Connection> conns_;
  std::vector<std::uint32_t> latencies_;  // nanoseconds, window only
  std::uint64_t completed_ = 0;
  bool recording_ = false;
  int epfd_ = -1;
};

}  // namespace

ClientResult runClient(const ClientConfig& config) {
  if (config.conns < 1 || config.size < 1) {
    ClientResult result;
    result.error = "need at least one connection and one byte per message";
    return result;
  }
  Client client(config);
  return client.run();
}

}  // namespace coil::bench::echo
