#pragma once
/// @file ITransport: a full-duplex byte stream as a protocol sees it (Twisted's ITransport, with
/// IConsumer and the transport's own IPushProducer side).

#include <coil/core/Address.hpp>
#include <coil/core/IConsumer.hpp>
#include <coil/core/IProducer.hpp>

#include <span>
#include <string_view>

namespace coil {

/// A connected stream. The protocol reaches it through IProtocol::makeConnection(ITransport&);
/// the reference is valid until the protocol's connectionLost() returns. Users never delete a
/// transport: they call loseConnection() or abortConnection().
///
/// As an IConsumer it accepts one producer (push producers are paused when more than the
/// transport's buffer size, 64 KiB, is queued and resumed once the buffer is empty). As an
/// IProducer it is its own reading side: pauseProducing() stops reading, resumeProducing()
/// resumes it (only while connected and not disconnecting), stopProducing() is
/// loseConnection(). Thread: reactor.
class ITransport : public IConsumer, public IProducer {
 public:
  ~ITransport() override = default;

  /// Queues a copy of `data` and sends what the socket takes now. Never blocks, never fails
  /// synchronously: errors arrive as connectionLost(). Ignored when not connected, after
  /// abortConnection(), or after loseWriteConnection(); accepted (and flushed before the
  /// close) after loseConnection(), so that a registered producer can finish.
  void write(std::string_view data) override = 0;

  /// write() of each piece in order (one copy each). Transports may override to coalesce.
  virtual void writeSequence(std::span<const std::string_view> data) {
    for (std::string_view piece : data) write(piece);
  }

  /// Closes cleanly: stops reading, flushes the buffer, waits for a registered producer to be
  /// unregistered, then closes; the protocol gets connectionLost(ConnectionDone). No-op when not
  /// connected or already disconnecting. Safe inside dataReceived().
  virtual void loseConnection() = 0;

  /// Closes at once, discarding the buffer (RST). The protocol gets
  /// connectionLost(ConnectionAborted) on a later reactor iteration, never re-entrantly.
  /// Idempotent; abort after loseConnection() is allowed.
  virtual void abortConnection() = 0;

  /// True once loseConnection() or abortConnection() was called (Twisted's `disconnecting`);
  /// framing protocols stop parsing a packet when it turns true.
  virtual bool disconnecting() const = 0;

  /// The remote end's address (a client's getPeer() is the resolved IP).
  virtual Address getPeer() const = 0;

  /// The local end's address.
  virtual Address getHost() const = 0;

  /// Stops reading from the connection until resumeProducing(). Pausing in connectionMade()
  /// sticks.
  void pauseProducing() override = 0;

  /// Resumes reading (only while connected and not disconnecting).
  void resumeProducing() override = 0;

  /// loseConnection().
  void stopProducing() override = 0;
};

}  // namespace coil
