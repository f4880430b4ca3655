#pragma once
/// @file IUDPTransport: UDP ports (Twisted's IUDPTransport); IUDPPort is the port type
/// IReactorUDP::listenUDP() returns.

#include <coil/core/IDatagramTransport.hpp>
#include <coil/core/IListeningPort.hpp>

#include <string_view>

namespace coil {

/// A UDP socket as its DatagramProtocol sees it. Unconnected, write(data, addr) sends anywhere
/// and an ICMP "port unreachable" is ignored; after connect(), write(data) sends to the peer,
/// only the peer's datagrams arrive, and a refusal calls the protocol's connectionRefused().
/// Thread: reactor.
class IUDPTransport : public virtual IDatagramTransport {
 public:
  using IDatagramTransport::write;

  /// Connects the socket to `host`:`port` (an IP literal of the port's family, else
  /// error::InvalidAddressError). Only once per port: a second call throws coil::LogicError.
  virtual void connect(std::string_view host, int port) = 0;

  /// Allows writes to "<broadcast>" and broadcast addresses (SO_BROADCAST; off by default).
  virtual void setBroadcastAllowed(bool enabled) = 0;

  /// Whether broadcast is allowed.
  virtual bool getBroadcastAllowed() const = 0;

  /// Datagram bytes read per readiness event before the port yields to the loop (256 KiB by
  /// default, as Twisted's maxThroughput; at least one datagram is always read).
  virtual void setMaxThroughput(std::size_t bytes) = 0;

  /// The current per-event read budget, bytes.
  virtual std::size_t maxThroughput() const = 0;
};

/// What listenUDP() and adoptDatagramPort() return: a listening port that is also the
/// protocol's transport. stopListening() removes it from the reactor at once and closes it on a
/// later iteration (then the protocol's doStop() runs and the Deferred fires); startListening()
/// may bind it again. Thread: reactor.
class IUDPPort : public virtual IListeningPort, public virtual IUDPTransport {
 public:
  /// The bound local address (one name for IListeningPort's and IDatagramTransport's).
  Address getHost() const override = 0;
};

}  // namespace coil
