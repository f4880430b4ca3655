#pragma once
/// @file EchoService: coild's `echo` subcommand — a TCP echo server written directly on a
/// readiness reactor with IFileDescriptor (until the transports of issue #4 arrive).

#include <coil/core/ReactorBase.hpp>

#include <memory>
#include <string>

namespace coil::coild {

class ListeningSocket;

/// Listens on `interface:port` and echoes every byte back to its sender. Each readiness event
/// on the listening socket accepts a batch of connections; each connection keeps its own
/// queue of unsent bytes, watches for writability only while that queue is non-empty and
/// stops reading while it is above a high-water mark, so a peer that sends but never reads
/// cannot make the server grow without bound. A peer that closes, resets or misbehaves loses
/// only its own connection. Thread: reactor.
class EchoServer {
 public:
  /// Binds and listens (non-blocking, SO_REUSEADDR) and registers with `reactor`, which must
  /// outlive the server. `port` 0 picks a free port. Throws std::system_error naming the
  /// failing call. Thread: reactor.
  EchoServer(ReactorBase& reactor, const std::string& interface, int port);
  /// Stops listening (open connections stay until the reactor drops them). Thread: reactor.
  ~EchoServer();
  EchoServer(const EchoServer&) = delete;
  EchoServer& operator=(const EchoServer&) = delete;

  /// The address actually bound, "127.0.0.1:8000" ("[::1]:8000" for IPv6). Thread: reactor.
  std::string address() const;
  /// The port actually bound. Thread: reactor.
  int port() const;

 private:
  ReactorBase& reactor_;
  std::shared_ptr<ListeningSocket> listener_;
};

}  // namespace coil::coild
