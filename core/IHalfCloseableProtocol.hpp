#pragma once
/// @file IHalfCloseableProtocol: a protocol that can keep going after one direction closes
/// (Twisted's IHalfCloseableProtocol).

namespace coil {

/// Mixed into a protocol class (alongside Protocol) to receive half-close events; transports
/// find it with dynamic_cast on the protocol. Thread: reactor.
class IHalfCloseableProtocol {
 public:
  virtual ~IHalfCloseableProtocol() = default;

  /// The peer closed its write side (EOF). Called instead of connectionLost(); the protocol
  /// must call loseConnection() itself later. An exception escaping it is logged and the
  /// connection is lost with it as the reason.
  virtual void readConnectionLost() = 0;

  /// Our write side was shut down after loseWriteConnection() drained the buffer. Same
  /// exception rule as readConnectionLost().
  virtual void writeConnectionLost() = 0;
};

}  // namespace coil
