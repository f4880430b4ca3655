#pragma once
/// @file EchoPeers: the echo benchmark's peer servers — a hand-written epoll loop (the reference),
/// libevent with bufferevents and with plain events, libuv and Boost.Asio. bench_echo runs each
/// as a separate process (`bench_echo --serve NAME --port N`), as it runs `coild echo`.
///
/// Every server does what coild's echo service does: listen on 127.0.0.1:port (backlog
/// SOMAXCONN, SO_REUSEADDR), accept without limit, echo every byte back in order, survive partial
/// reads and writes, read at most kReadSize bytes per readiness event, and stop reading from a
/// connection while more than kHighWater bytes wait to be sent to it. None sets TCP_NODELAY
/// (neither does coild, nor Twisted by default). Each serves until it is killed.

#include <cstddef>

namespace coil::bench::echo {

/// Bytes a server reads per readiness event of a connection (coild: the same, its default
/// stream::readBufferSize()).
inline constexpr std::size_t kReadSize = 262144;

/// Unsent bytes above which a server stops reading from that connection (coild: the same).
inline constexpr std::size_t kHighWater = std::size_t{1} << 20;

/// A non-blocking, close-on-exec TCP socket listening on 127.0.0.1:`port`; exits the process
/// with a message on failure (it only runs in a server process).
int listenLoopback(int port);

/// Sends `data[0, size)` until the socket would block: the bytes sent (possibly fewer than
/// `size`), or -1 on a hard error (errno says which). EINTR is retried.
long sendUntilBlocked(int fd, const char* data, std::size_t size);

/// Accepts one pending connection of `listener` as a non-blocking, close-on-exec descriptor:
/// the descriptor, or -1 when none is pending (or the peer gave up, or descriptors ran out).
int acceptOne(int listener);

/// The hand-written epoll echo loop: level-triggered, one read per readiness event, echoed with
/// one write straight away; only what the socket did not take is buffered (then EPOLLOUT).
/// Returns an exit status (only on failure).
int serveEpoll(int port);

#ifdef COIL_BENCH_HAVE_LIBEVENT
/// libevent with an evconnlistener and one bufferevent per connection; the read callback moves
/// the input buffer to the output buffer. Returns an exit status.
int serveLibeventBufferevent(int port);
/// libevent with plain persistent events: read into a stack buffer, write straight away,
/// buffer and add an EV_WRITE event only for what the socket did not take.
int serveLibeventEvents(int port);
#endif

#ifdef COIL_BENCH_HAVE_LIBUV
/// libuv: uv_tcp_t per connection, uv_try_write of what was read, uv_write of any remainder.
int serveLibuv(int port);
#endif

#ifdef COIL_BENCH_HAVE_ASIO
/// Boost.Asio: one io_context on one thread; per connection async_read_some then async_write
/// of what was read (the classic Asio echo session).
int serveAsio(int port);
#endif

}  // namespace coil::bench::echo
