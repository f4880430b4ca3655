// EchoService: coild's TCP echo server — accept batches, per-connection queues, back-pressure.
// Tests: test/tools/CoildTest.cpp
#include "EchoService.hpp"

#include <coil/core/Errors.hpp>
#include <coil/core/Log.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace coil::coild {

namespace {

constexpr std::string_view kSystem = "coild";
constexpr int kAcceptBatch = 64;             // accepts per readiness event of the listener
constexpr std::size_t kReadSize = 65536;     // bytes read per readiness event of a connection
constexpr std::size_t kHighWater = 1 << 20;  // stop reading above this many unsent bytes

std::system_error sysError(const char* what) {
  return std::system_error(errno, std::system_category(), what);
}

bool wouldBlock(int e) {
  return e == EAGAIN || e == EWOULDBLOCK;
}

std::string formatAddress(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = "?";
  int port = 0;
  if (ss.ss_family == AF_INET) {
    const auto& in = reinterpret_cast<const sockaddr_in&>(ss);
    ::inet_ntop(AF_INET, &in.sin_addr, host, sizeof host);
    port = ntohs(in.sin_port);
    return std::string(host) + ":" + std::to_string(port);
  }
  const auto& in6 = reinterpret_cast<const sockaddr_in6&>(ss);
  ::inet_ntop(AF_INET6, &in6.sin6_addr, host, sizeof host);
  port = ntohs(in6.sin6_port);
  return "[" + std::string(host) + "]:" + std::to_string(port);
}

/// One accepted connection.
class EchoConnection final : public IFileDescriptor,
                             public std::enable_shared_from_this<EchoConnection> {
 public:
  EchoConnection(ReactorBase& reactor, int fd, std::string peer)
      : reactor_(reactor), fd_(fd), peer_(std::move(peer)) {}
  ~EchoConnection() override { closeFd(); }

  int fileno() const override { return fd_; }
  std::string logPrefix() const override { return "echo " + peer_; }

  std::optional<Failure> doRead() override {
    char buffer[kReadSize];
    ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
    if (n > 0) return send(std::string_view(buffer, static_cast<std::size_t>(n)));
    if (n == 0) return Failure(error::ConnectionDone());
    if (wouldBlock(errno) || errno == EINTR) return std::nullopt;
    return Failure(error::ConnectionLost("recv", {errno, std::system_category()}));
  }

  std::optional<Failure> doWrite() override {
    if (auto failure = flush()) return failure;
    if (queued() == 0) {
      reactor_.removeWriter(this);
      if (paused_) {
        paused_ = false;
        reactor_.addReader(shared_from_this());
      }
    }
    return std::nullopt;
  }

  void connectionLost(const Failure& reason) override {
    if (!reason.check<error::ConnectionDone>())
      log::debug(kSystem, "echo: " + peer_ + " lost: " + reason.getErrorMessage());
    closeFd();
  }

 private:
  std::size_t queued() const { return queue_.size() - sent_; }

  // Echoes `data`: straight to the socket when nothing is queued, else behind the queue.
  std::optional<Failure> send(std::string_view data) {
    bool wasIdle = queued() == 0;
    queue_.append(data);
    if (wasIdle) {
      if (auto failure = flush()) return failure;
      if (queued() != 0) reactor_.addWriter(shared_from_this());
    }
    if (queued() > kHighWater && !paused_) {
      paused_ = true;
      reactor_.removeReader(this);
    }
    return std::nullopt;
  }

  // Writes as much of the queue as the socket takes.
  std::optional<Failure> flush() {
    while (queued() != 0) {
      ssize_t n = ::send(fd_, queue_.data() + sent_, queued(), MSG_NOSIGNAL);
      if (n > 0) {
        sent_ += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && wouldBlock(errno)) break;
      return Failure(error::ConnectionLost("send", {errno, std::system_category()}));
    }
    if (sent_ == queue_.size()) {
      queue_.clear();
      sent_ = 0;
    } else if (sent_ > queue_.size() / 2) {
      queue_.erase(0, sent_);
      sent_ = 0;
    }
    return std::nullopt;
  }

  void closeFd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  ReactorBase& reactor_;
  int fd_;
  std::string peer_;
  std::string queue_;  // bytes to echo; queue_[0, sent_) are already sent
  std::size_t sent_ = 0;
  bool paused_ = false;  // reading stopped because the queue is above kHighWater
};

}  // namespace

/// The listening socket: accepts a batch of connections per readiness event.
class ListeningSocket final : public IFileDescriptor {
 public:
  ListeningSocket(ReactorBase& reactor, int fd) : reactor_(reactor), fd_(fd) {}
  ~ListeningSocket() override { closeFd(); }

  int fileno() const override { return fd_; }
  std::string logPrefix() const override { return "echo listener"; }

  std::optional<Failure> doRead() override {
    for (int i = 0; i < kAcceptBatch; ++i) {
      sockaddr_storage peer{};
      socklen_t length = sizeof peer;
      int fd =
          ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        int e = errno;
        if (wouldBlock(e)) break;
        // The peer gave up before we accepted it, or a signal: try the next one.
        if (e == EINTR || e == ECONNABORTED || e == EPROTO) continue;
        // Out of descriptors or memory (EMFILE, ENFILE, ENOBUFS, ENOMEM) or anything else:
        // keep listening and try again on the next event, as Twisted's tcp.Port does.
        log::warn(kSystem, std::string("echo: accept: ") + std::strerror(e));
        break;
      }
      auto connection = std::make_shared<EchoConnection>(reactor_, fd, formatAddress(peer));
      try {
        reactor_.addReader(connection);
      } catch (const std::exception& ex) {  // e.g. select's FD_SETSIZE: drop this one only
        log::warn(kSystem, std::string("echo: cannot watch a connection: ") + ex.what());
      }
    }
    return std::nullopt;
  }

  void connectionLost(const Failure& reason) override {
    log::info(kSystem, "echo: stopped listening");
    log::debug(kSystem, "echo: listener dropped: " + reason.getErrorMessage());
    closeFd();
  }

  void closeFd() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

  sockaddr_storage local() const {
    sockaddr_storage ss{};
    socklen_t length = sizeof ss;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &length);
    return ss;
  }

 private:
  ReactorBase& reactor_;
  int fd_;
};

EchoServer::EchoServer(ReactorBase& reactor, const std::string& interface, int port)
    : reactor_(reactor) {
  if (port < 0 || port > 65535) throw std::invalid_argument("port out of range");
  sockaddr_storage ss{};
  socklen_t length = 0;
  auto& in = reinterpret_cast<sockaddr_in&>(ss);
  auto& in6 = reinterpret_cast<sockaddr_in6&>(ss);
  if (::inet_pton(AF_INET, interface.c_str(), &in.sin_addr) == 1) {
    in.sin_family = AF_INET;
    in.sin_port = htons(static_cast<std::uint16_t>(port));
    length = sizeof in;
  } else if (::inet_pton(AF_INET6, interface.c_str(), &in6.sin6_addr) == 1) {
    in6.sin6_family = AF_INET6;
    in6.sin6_port = htons(static_cast<std::uint16_t>(port));
    length = sizeof in6;
  } else {
    throw std::invalid_argument("not a numeric IPv4 or IPv6 address: " + interface);
  }
  int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) throw sysError("socket");
  listener_ = std::make_shared<ListeningSocket>(reactor_, fd);
  int one = 1;
  if (::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
    throw sysError("setsockopt(SO_REUSEADDR)");
  if (::bind(fd, reinterpret_cast<sockaddr*>(&ss), length) < 0) throw sysError("bind");
  if (::listen(fd, SOMAXCONN) < 0) throw sysError("listen");
  reactor_.addReader(listener_);
}

EchoServer::~EchoServer() {
  reactor_.removeReader(listener_.get());
  listener_->closeFd();
}

std::string EchoServer::address() const {
  return formatAddress(listener_->local());
}

int EchoServer::port() const {
  sockaddr_storage ss = listener_->local();
  return ss.ss_family == AF_INET ? ntohs(reinterpret_cast<const sockaddr_in&>(ss).sin_port)
                                 : ntohs(reinterpret_cast<const sockaddr_in6&>(ss).sin6_port);
}

}  // namespace coil::coild
