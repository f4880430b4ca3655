// The UDP echo server on libevent: one persistent read event, recvfrom/sendto until EAGAIN.
#include "UdpPeers.hpp"

#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>

namespace coil::bench::udp {

namespace {

struct State {
  event_base* base;
  char buffer[8192];
};

void onReadable(evutil_socket_t fd, short /*events*/, void* arg) {
  auto* s = static_cast<State*>(arg);
  for (;;) {
    sockaddr_storage from{};
    socklen_t length = sizeof from;
    ssize_t n =
        ::recvfrom(fd, s->buffer, sizeof s->buffer, 0, reinterpret_cast<sockaddr*>(&from), &length);
    if (n < 0) return;  // EAGAIN
    if (isQuit(s->buffer, static_cast<std::size_t>(n))) {
      event_base_loopbreak(s->base);
      return;
    }
    ::sendto(fd, s->buffer, static_cast<std::size_t>(n), 0, reinterpret_cast<sockaddr*>(&from),
             length);
  }
}

}  // namespace

void runLibevent(int fd) {
  State s{event_base_new(), {}};
  event* ev = event_new(s.base, fd, EV_READ | EV_PERSIST, onReadable, &s);
  event_add(ev, nullptr);
  event_base_dispatch(s.base);
  event_free(ev);
  event_base_free(s.base);
}

}  // namespace coil::bench::udp
