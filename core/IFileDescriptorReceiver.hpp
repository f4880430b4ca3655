#pragma once
/// @file IFileDescriptorReceiver: a protocol that accepts descriptors passed over a UNIX stream
/// connection (Twisted's IFileDescriptorReceiver).

namespace coil {

/// Mixed into a protocol class (alongside Protocol) to receive descriptors sent with
/// IUNIXTransport::sendFileDescriptor(); transports find it with dynamic_cast on the protocol.
/// A protocol without it has received descriptors closed (and a message logged). Thread: reactor.
class IFileDescriptorReceiver {
 public:
  virtual ~IFileDescriptorReceiver() = default;

  /// A descriptor arrived; it is called before dataReceived() delivers the bytes that carried
  /// it. The protocol owns `fd` (close it when done). An exception escaping it is logged and the
  /// connection is lost with it as the reason.
  virtual void fileDescriptorReceived(int fd) = 0;
};

}  // namespace coil
