#pragma once
/// @file IUNIXTransport: passing file descriptors over a UNIX stream connection (Twisted's
/// IUNIXTransport).

namespace coil {

/// The extra capability of a UNIX stream transport; find it with
/// `dynamic_cast<IUNIXTransport*>(transport())`. Thread: reactor.
class IUNIXTransport {
 public:
  virtual ~IUNIXTransport() = default;

  /// Queues `fd` to be sent (SCM_RIGHTS) with the next byte written. The descriptor is
  /// duplicated now, so the caller may close its copy at once. Each descriptor needs at least one
  /// byte of data written after it; a connection closed with descriptors still queued is lost
  /// with error::FileDescriptorOverrun. Throws std::system_error if `fd` cannot be duplicated.
  virtual void sendFileDescriptor(int fd) = 0;
};

}  // namespace coil
