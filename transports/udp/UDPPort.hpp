#pragma once
/// @file UDPPort: a UDP socket serving a DatagramProtocol (Twisted's udp.Port).

#include <coil/core/IUDPTransport.hpp>
#include <coil/transports/udp/DatagramPortBase.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace coil {

/// What listenUDP() and adoptDatagramPort() build; users hold it as IUDPPort. Binds on
/// startListening() (the reactor calls it), IPv4 or IPv6 as the interface says.
///
/// Writes are batched (DatagramPortBase's class comment): inside datagramReceived() of a read
/// that returned several datagrams, a write of at most 512 bytes to that datagram's sender (the
/// Address it was given, or the connected peer) is checked at once and sent with the batch's
/// others by one sendmmsg() when the batch's deliveries end; its send error, if any, is then
/// logged (ECONNREFUSED: connectionRefused() when connected) instead of thrown. Every other
/// write is sent before write() returns, after the queued ones. Thread: reactor.
class UDPPort : public detail::DatagramPortBase, public virtual IUDPPort {
 public:
  /// A port for `interface`:`port` ("" = every IPv4 address; an IPv6 literal makes an IPv6
  /// port). Throws error::InvalidAddressError when `interface` is not an IP literal,
  /// std::invalid_argument for a port outside 0–65535, a null protocol or maxPacketSize 0.
  UDPPort(ReactorBase& reactor, int port, std::shared_ptr<DatagramProtocol> protocol,
          std::string_view interface, std::size_t maxPacketSize);

  /// A port over the bound datagram socket `fd` (already duplicated, non-blocking) of
  /// `family` (AF_INET or AF_INET6, else error::UnsupportedAddressFamily). Once stopped it
  /// cannot listen again (coil::LogicError).
  UDPPort(ReactorBase& reactor, detail::UniqueFd fd, int family,
          std::shared_ptr<DatagramProtocol> protocol, std::size_t maxPacketSize);

  // ---- IDatagramTransport / IUDPTransport
  /// Sends to `addr` (unconnected), or to the peer when `addr` is the connected address; may
  /// queue a reply inside a read batch (see the class comment).
  void write(std::string_view data, const Address& addr) override;
  /// Sends to the connected peer; ECONNREFUSED calls protocol.connectionRefused(). May queue
  /// inside a read batch (see the class comment).
  void write(std::string_view data) override;
  /// The bound address (type "UDP"); after close, the address it had.
  Address getHost() const override;
  /// The largest datagram delivered whole.
  std::size_t maxPacketSize() const override { return DatagramPortBase::maxPacketSize(); }
  /// Connects to `host`:`port` (IP literal of the port's family); once only.
  void connect(std::string_view host, int port) override;
  /// SO_BROADCAST (remembered across a relisten).
  void setBroadcastAllowed(bool enabled) override;
  /// Whether broadcast is allowed.
  bool getBroadcastAllowed() const override { return broadcast_; }
  /// The per-event read budget, bytes.
  void setMaxThroughput(std::size_t bytes) override { setReadBudget(bytes); }
  /// The per-event read budget, bytes (256 KiB by default).
  std::size_t maxThroughput() const override { return readBudget(); }

  // ---- IListeningPort (DatagramPortBase's)
  /// Binds, starts the protocol and reads (see DatagramPortBase::startListening()).
  void startListening() override { DatagramPortBase::startListening(); }
  /// Stops reading now, closes on a later iteration.
  Deferred<void> stopListening() override { return DatagramPortBase::stopListening(); }

  /// AF_INET or AF_INET6.
  int family() const noexcept { return family_; }
  /// True after connect().
  bool isConnected() const noexcept { return connectedSock_.length != 0; }

 protected:
  /// Creates and binds the socket (beforeBind() in between).
  detail::UniqueFd openSocket() override;
  /// Re-applies connect() and broadcast to a new socket.
  void socketOpened() override;
  /// protocol.datagramReceived(data, from).
  void deliver(std::string_view data, const Address& from) override;
  /// protocol.connectionRefused() when connected.
  void readRefused() override;
  /// protocol.connectionRefused() when connected (a queued write was refused).
  void writeRefused() override;
  /// Hook between socket() and bind() (multicast sets SO_REUSEADDR/SO_REUSEPORT).
  virtual void beforeBind(int /*fd*/) {}
  /// The interface given ("" = any).
  const std::string& interface() const noexcept { return interface_; }

 private:
  void sendParsed(std::string_view data, const Address& addr);

  // Used by every delivery and write: first, in one cache line.
  DatagramProtocol* protocol_;
  detail::SockAddr connectedSock_;  // the peer of connect(); length 0 until then
  std::string interface_;
  int port_ = 0;
  int family_ = 0;
  bool adoptedSocket_ = false;
  bool broadcast_ = false;
  Address host_;
  Address connectedAddr_;
};

}  // namespace coil
