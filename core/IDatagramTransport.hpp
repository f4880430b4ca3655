#pragma once
/// @file IDatagramTransport: what every datagram port offers its protocol (the common part of
/// Twisted's IUDPTransport, IUNIXDatagramTransport and IUNIXDatagramConnectedTransport).

#include <coil/core/Address.hpp>

#include <cstddef>
#include <string_view>

namespace coil {

/// A datagram socket as its protocol sees it. AbstractDatagramProtocol::makeConnection() hands
/// it over; it stays valid until the protocol's doStop() (the port's close). Every call sends
/// at most one datagram and never blocks: a datagram the kernel cannot queue now (EAGAIN,
/// ENOBUFS) is dropped, as UDP may drop it anyway. Thread: reactor.
class IDatagramTransport {
 public:
  virtual ~IDatagramTransport() = default;

  /// Sends `data` as one datagram to `addr`: an IPv4Address/IPv6Address whose host is an IP
  /// literal of the port's family (UDP), or a UNIXAddress (UNIX datagram). A connected port
  /// accepts only its peer's address. Throws error::InvalidAddressError for any other address,
  /// error::MessageLengthError when the datagram is too long (EMSGSIZE), coil::Error (with the
  /// errno) for other send errors.
  virtual void write(std::string_view data, const Address& addr) = 0;

  /// Sends `data` to the connected peer. Throws coil::LogicError when the port is not
  /// connected; otherwise as write(data, addr).
  virtual void write(std::string_view data) = 0;

  /// The bound local address (port 0 resolved to the port chosen).
  virtual Address getHost() const = 0;

  /// The largest datagram delivered whole; longer ones are truncated to it.
  virtual std::size_t maxPacketSize() const = 0;
};

}  // namespace coil
