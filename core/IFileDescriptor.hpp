#pragma once
/// @file IFileDescriptor: what a readiness reactor watches (Twisted's IReadDescriptor /
/// IWriteDescriptor, folded into one interface with no-op defaults).

#include <coil/core/Failure.hpp>

#include <cstdint>
#include <optional>
#include <string>

namespace coil {

namespace detail {
struct DescriptorSlot;
}  // namespace detail

/// Something with a file descriptor that a reactor can watch for reading and/or writing.
/// The reactor keeps a std::shared_ptr to it while it is registered, and after a removal until
/// its next iteration begins, so doRead() may remove or close it. Thread: reactor.
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

  /// A descriptor that no reactor watches.
  IFileDescriptor() noexcept = default;
  /// Copies nothing of the reactors' bookkeeping: the copy is watched by none.
  IFileDescriptor(const IFileDescriptor&) noexcept {}
  /// Keeps this object's own reactor bookkeeping.
  IFileDescriptor& operator=(const IFileDescriptor&) noexcept { return *this; }

 private:
  friend struct detail::DescriptorSlot;
  int slotFd_ = -1;               // the number the last reactor to register it filed it under
  std::uint32_t slotOwners_ = 0;  // how many reactors watch it
};

namespace detail {

/// Reactor bookkeeping kept inside every IFileDescriptor, so that a readiness reactor finds
/// the entry of a descriptor being removed without a lookup table, even once its fileno() is
/// -1 or has changed. Only reactor implementations use it. An object watched by two reactors
/// must be watched from one thread only (this state is shared). Thread: reactor.
struct DescriptorSlot {
  /// The number `d` was last registered under by some reactor, or -1.
  static int fd(const IFileDescriptor& d) noexcept { return d.slotFd_; }
  /// Whether any reactor watches `d` at all.
  static bool watched(const IFileDescriptor& d) noexcept { return d.slotOwners_ != 0; }
  /// A reactor starts watching `d` under `fd`.
  static void enter(IFileDescriptor& d, int fd) noexcept {
    d.slotFd_ = fd;
    ++d.slotOwners_;
  }
  /// A reactor stops watching `d` (one enter() each).
  static void leave(IFileDescriptor& d) noexcept {
    if (d.slotOwners_ != 0 && --d.slotOwners_ == 0) d.slotFd_ = -1;
  }
};

}  // namespace detail

}  // namespace coil
