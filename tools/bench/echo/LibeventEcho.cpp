// LibeventEcho: the echo server on libevent, twice — with bufferevents (the library's buffered
// I/O: evconnlistener, evbuffer_add_buffer from input to output), and with plain persistent
// events driving recv/send directly, as the hand-written epoll loop does.
#include "EchoPeers.hpp"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace coil::bench::echo {

namespace {

event_base* newBase() {
  event_base* base = event_base_new();
  if (base == nullptr) {
    std::fprintf(stderr, "echo server: event_base_new failed\n");
    std::exit(1);
  }
  return base;
}

// --- bufferevents -----------------------------------------------------------------------------

void onBufferDrained(bufferevent* bev, void*);
void onBufferEvent(bufferevent* bev, short what, void*);

void onBufferRead(bufferevent* bev, void*) {
  evbuffer* out = bufferevent_get_output(bev);
  evbuffer_add_buffer(out, bufferevent_get_input(bev));
  if (evbuffer_get_length(out) > kHighWater) {
    // Too much unsent: stop reading until the output has drained (write low watermark 0).
    bufferevent_disable(bev, EV_READ);
    bufferevent_setcb(bev, onBufferRead, onBufferDrained, onBufferEvent, nullptr);
  }
}

void onBufferEvent(bufferevent* bev, short what, void*) {
  if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) bufferevent_free(bev);
}

void onBufferDrained(bufferevent* bev, void*) {
  bufferevent_setcb(bev, onBufferRead, nullptr, onBufferEvent, nullptr);
  bufferevent_enable(bev, EV_READ);
}

void onAccept(evconnlistener* listener, evutil_socket_t fd, sockaddr*, int, void*) {
  event_base* base = evconnlistener_get_base(listener);
  bufferevent* bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (bev == nullptr) {
    ::close(fd);
    return;
  }
  bufferevent_setcb(bev, onBufferRead, nullptr, onBufferEvent, nullptr);
  bufferevent_enable(bev, EV_READ | EV_WRITE);
}

// --- plain events -----------------------------------------------------------------------------

char gBuffer[kReadSize];

struct Connection {
  int fd = -1;
  event* readable = nullptr;  // persistent; added while reading
  event* writable = nullptr;  // persistent; added while something is pending
  std::string pending;        // unsent bytes, pending[sent, size)
  std::size_t sent = 0;
  bool reading = true;
};

void closeConnection(Connection* c) {
  event_free(c->readable);
  event_free(c->writable);
  ::close(c->fd);
  delete c;
}

void onWritable(evutil_socket_t, short, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  long w = sendUntilBlocked(c->fd, c->pending.data() + c->sent, c->pending.size() - c->sent);
  if (w < 0) {
    closeConnection(c);
    return;
  }
  c->sent += static_cast<std::size_t>(w);
  if (c->sent == c->pending.size()) {
    c->pending.clear();
    c->sent = 0;
    event_del(c->writable);
  } else if (c->sent > c->pending.size() / 2) {
    c->pending.erase(0, c->sent);
    c->sent = 0;
  }
  if (!c->reading && c->pending.size() - c->sent <= kHighWater) {
    c->reading = true;
    event_add(c->readable, nullptr);
  }
}

void onReadable(evutil_socket_t fd, short, void* arg) {
  auto* c = static_cast<Connection*>(arg);
  ssize_t n = ::recv(fd, gBuffer, sizeof gBuffer, 0);
  if (n <= 0) {
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    closeConnection(c);
    return;
  }
  std::size_t size = static_cast<std::size_t>(n);
  std::size_t done = 0;
  const bool idle = c->pending.size() == c->sent;
  if (idle) {
    long w = sendUntilBlocked(fd, gBuffer, size);
    if (w < 0) {
      closeConnection(c);
      return;
    }
    done = static_cast<std::size_t>(w);
    if (done == size) return;
  }
  c->pending.append(gBuffer + done, size - done);
  if (idle) event_add(c->writable, nullptr);
  if (c->pending.size() - c->sent > kHighWater) {
    c->reading = false;
    event_del(c->readable);
  }
}

void onListenerReadable(evutil_socket_t listener, short, void* arg) {
  auto* base = static_cast<event_base*>(arg);
  for (;;) {
    int fd = acceptOne(listener);
    if (fd < 0) return;
    auto* c = new Connection;
    c->fd = fd;
    c->readable = event_new(base, fd, EV_READ | EV_PERSIST, onReadable, c);
    c->writable = event_new(base, fd, EV_WRITE | EV_PERSIST, onWritable, c);
    event_add(c->readable, nullptr);
  }
}

}  // namespace

int serveLibeventBufferevent(int port) {
  event_base* base = newBase();
  // Backlog 0: the socket already listens.
  evconnlistener* listener =
      evconnlistener_new(base, onAccept, nullptr, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0,
                         listenLoopback(port));
  if (listener == nullptr) {
    std::fprintf(stderr, "echo server: evconnlistener_new failed\n");
    return 1;
  }
  event_base_dispatch(base);
  return 1;
}

int serveLibeventEvents(int port) {
  event_base* base = newBase();
  event* listener =
      event_new(base, listenLoopback(port), EV_READ | EV_PERSIST, onListenerReadable, base);
  event_add(listener, nullptr);
  event_base_dispatch(base);
  return 1;
}

}  // namespace coil::bench::echo
