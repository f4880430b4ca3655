// EpollEcho: the reference echo server — a hand-written level-triggered epoll loop — and the
// listening/accepting helpers every peer server shares.
#include "EchoPeers.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace coil::bench::echo {

int listenLoopback(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    std::perror("echo server: socket");
    std::exit(1);
  }
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in in{};
  in.sin_family = AF_INET;
  in.sin_port = htons(static_cast<std::uint16_t>(port));
  in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&in), sizeof in) != 0 ||
      ::listen(fd, SOMAXCONN) != 0) {
    std::perror("echo server: bind/listen");
    std::exit(1);
  }
  return fd;
}

long sendUntilBlocked(int fd, const char* data, std::size_t size) {
  std::size_t done = 0;
  while (done < size) {
    ssize_t w = ::send(fd, data + done, size - done, MSG_NOSIGNAL);
    if (w > 0) {
      done += static_cast<std::size_t>(w);
    } else if (w < 0 && errno == EINTR) {
      continue;
    } else if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      break;
    } else {
      return -1;
    }
  }
  return static_cast<long>(done);
}

int acceptOne(int listener) {
  for (;;) {
    int fd = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd >= 0) return fd;
    if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) std::perror("echo server: accept");
    return -1;
  }
}

namespace {

// One connection of the epoll server: its descriptor and what the socket has not taken yet.
struct Connection {
  int fd = -1;
  std::string pending;  // unsent bytes, pending[sent, size)
  std::size_t sent = 0;
  bool writing = false;  // EPOLLOUT is watched
  bool reading = true;   // EPOLLIN is watched
};

class EpollServer {
 public:
  explicit EpollServer(int port) : listener_(listenLoopback(port)), epfd_(::epoll_create1(0)) {
    if (epfd_ < 0) {
      std::perror("echo server: epoll_create1");
      std::exit(1);
    }
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.ptr = nullptr;  // the listener
    ::epoll_ctl(epfd_, EPOLL_CTL_ADD, listener_, &ev);
  }

  int run() {
    std::vector<epoll_event> events(1024);
    for (;;) {
      int n = ::epoll_wait(epfd_, events.data(), static_cast<int>(events.size()), -1);
      if (n < 0) {
        if (errno == EINTR) continue;
        std::perror("echo server: epoll_wait");
        return 1;
      }
      for (int i = 0; i < n; ++i) {
        auto* c = static_cast<Connection*>(events[i].data.ptr);
        if (c == nullptr) {
          acceptAll();
          continue;
        }
        std::uint32_t e = events[i].events;
        if ((e & EPOLLOUT) && !flush(*c)) continue;  // closed
        if (e & (EPOLLIN | EPOLLERR | EPOLLHUP)) readOnce(*c);
      }
    }
  }

 private:
  void acceptAll() {
    for (;;) {
      int fd = acceptOne(listener_);
      if (fd < 0) return;
      auto* c = new Connection;
      c->fd = fd;
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.ptr = c;
      ::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev);
    }
  }

  void close(Connection& c) {
    ::close(c.fd);  // also leaves the epoll set
    delete &c;
  }

  void watch(Connection& c) {
    epoll_event ev{};
    ev.events = (c.reading ? EPOLLIN : 0u) | (c.writing ? EPOLLOUT : 0u);
    ev.data.ptr = &c;
    ::epoll_ctl(epfd_, EPOLL_CTL_MOD, c.fd, &ev);
  }

  // One read, echoed at once; only what the socket does not take is kept.
  void readOnce(Connection& c) {
    ssize_t n = ::recv(c.fd, buffer_, sizeof buffer_, 0);
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
      close(c);
      return;
    }
    std::size_t size = static_cast<std::size_t>(n);
    std::size_t done = 0;
    if (!c.writing) {
      long w = sendUntilBlocked(c.fd, buffer_, size);
      if (w < 0) {
        close(c);
        return;
      }
      done = static_cast<std::size_t>(w);
      if (done == size) return;
    }
    c.pending.append(buffer_ + done, size - done);
    bool changed = !c.writing;
    c.writing = true;
    if (c.pending.size() - c.sent > kHighWater) {
      c.reading = false;
      changed = true;
    }
    if (changed) watch(c);
  }

  // Writes what is pending; false when the connection was closed.
  bool flush(Connection& c) {
    long w = sendUntilBlocked(c.fd, c.pending.data() + c.sent, c.pending.size() - c.sent);
    if (w < 0) {
      close(c);
      return false;
    }
    c.sent += static_cast<std::size_t>(w);
    if (c.sent == c.pending.size()) {
      c.pending.clear();
      c.sent = 0;
      c.writing = false;
      c.reading = true;
      watch(c);
      return true;
    }
    if (c.sent > c.pending.size() / 2) {
      c.pending.erase(0, c.sent);
      c.sent = 0;
    }
    if (!c.reading && c.pending.size() - c.sent <= kHighWater) {
      c.reading = true;
      watch(c);
    }
    return true;
  }

  int listener_;
  int epfd_;
  char buffer_[kReadSize];
};

}  // namespace

int serveEpoll(int port) {
  auto server = std::make_unique<EpollServer>(port);
  return server->run();
}

}  // namespace coil::bench::echo
