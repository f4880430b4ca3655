#pragma once
/// @file ITCPTransport: a stream transport with half-close and socket options (Twisted's
/// ITCPTransport; UNIX stream transports implement it too).

#include <coil/core/ITransport.hpp>

namespace coil {

/// A TCP (or UNIX stream) transport. Thread: reactor.
class ITCPTransport : public ITransport {
 public:
  ~ITCPTransport() override = default;

  /// Half-closes: once the buffer drains, shutdown(SHUT_WR) and, if the protocol is an
  /// IHalfCloseableProtocol, its writeConnectionLost(). Later writes are dropped; reading
  /// continues. Silent when the peer already closed.
  virtual void loseWriteConnection() = 0;

  /// TCP_NODELAY (Nagle disabled) as set on the socket.
  virtual bool getTcpNoDelay() const = 0;

  /// Sets TCP_NODELAY.
  virtual void setTcpNoDelay(bool enabled) = 0;

  /// SO_KEEPALIVE as set on the socket.
  virtual bool getTcpKeepAlive() const = 0;

  /// Sets SO_KEEPALIVE.
  virtual void setTcpKeepAlive(bool enabled) = 0;
};

}  // namespace coil
