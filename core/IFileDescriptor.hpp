#pragma once
/// @file IFileDescriptor: what a readiness reactor watches (Twisted's IReadDescriptor /
/// IWriteDescriptor, folded into one interface with no-op defaults).

#include <coil/core/Failure.hpp>

#include <optional>
#include <string>

namespace coil {

/// Something with a file descriptor that a reactor can watch for reading and/or writing.
/// The reactor keeps a std::shared_ptr to it while it is registered and pins it during dispatch,
/// so doRead() may remove or close it. Thread: reactor.
class IFileDescriptor {
 public:
  virtual ~IFileDescriptor() = default;

  /// The descriptor, or -1 once closed (dispatch then reports ConnectionFdescWentAway).
  virtual int fileno() const = 0;

  /// The descriptor is readable. Returning a Failure disconnects it with that reason (Twisted's
  /// "return CONNECTION_DONE"); exceptions are caught, logged and treated the same way.
  virtual std::optional<Failure> doRead() { return std::nullopt; }

  /// The descriptor is writable. Same contract as doRead().
  virtual std::optional<Failure> doWrite() { return std::nullopt; }

  /// The reactor disconnected this descriptor (or is shutting down) for `reason`. Called once;
  /// the descriptor has already been removed from the reactor. Must not throw.
  virtual void connectionLost(const Failure& reason) = 0;

  /// A short prefix for log lines about this descriptor.
  virtual std::string logPrefix() const { return "-"; }
};

}  // namespace coil
