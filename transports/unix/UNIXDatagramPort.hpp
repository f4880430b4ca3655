#pragma once
/// @file UNIXDatagramPort: UNIX-domain datagram sockets, bound (Twisted's unix.DatagramPort)
/// and connected (unix.ConnectedDatagramPort).

#include <coil/core/IUNIXDatagramTransport.hpp>
#include <coil/transports/udp/DatagramPortBase.hpp>

#include <sys/types.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace coil {

/// What listenUNIXDatagram() builds; users hold it as IUNIXDatagramPort. Binds `address` (a
/// leading NUL: abstract namespace) and chmods it to `mode`; closing removes the file when it
/// is still the one bound (Twisted leaves it, so the port could not listen again).
/// Thread: reactor.
class UNIXDatagramPort : public detail::DatagramPortBase, public virtual IUNIXDatagramPort {
 public:
  /// A port for `address`; throws std::invalid_argument for a null protocol, an empty address
  /// or maxPacketSize 0.
  UNIXDatagramPort(ReactorBase& reactor, std::string address,
                   std::shared_ptr<DatagramProtocol> protocol, std::size_t maxPacketSize, int mode);

  /// Sends to a bound UNIX socket: `addr` must be a UNIXAddress with a name
  /// (error::InvalidAddressError otherwise); a path nobody listens on throws coil::Error.
  void write(std::string_view data, const Address& addr) override;
  /// Throws coil::LogicError: this port is not connected.
  void write(std::string_view data) override;
  /// UNIXAddress of the bound name.
  Address getHost() const override;
  /// The largest datagram delivered whole.
  std::size_t maxPacketSize() const override { return DatagramPortBase::maxPacketSize(); }
  /// Binds, starts the protocol and reads.
  void startListening() override { DatagramPortBase::startListening(); }
  /// Stops reading now, closes (and unlinks) on a later iteration.
  Deferred<void> stopListening() override { return DatagramPortBase::stopListening(); }

 protected:
  /// socket + bind + chmod.
  detail::UniqueFd openSocket() override;
  /// Removes the socket file.
  void socketClosed() override;
  /// protocol.datagramReceived(data, from).
  void deliver(std::string_view data, const Address& from) override;

 private:
  DatagramProtocol* protocol_;
  std::string address_;
  int mode_;
  std::optional<std::pair<dev_t, ino_t>> bound_;
};

/// What connectUNIXDatagram() builds; users hold it as IUNIXDatagramConnectedPort. Binds to
/// `bindAddress` when given (so the peer can answer), connects to `address`. A failure to bind
/// or connect calls the protocol's connectionFailed(reason) instead of throwing.
/// Thread: reactor.
class UNIXDatagramConnectedPort : public detail::DatagramPortBase,
                                  public virtual IUNIXDatagramConnectedPort {
 public:
  /// A port connecting to `address`; throws std::invalid_argument for a null protocol.
  UNIXDatagramConnectedPort(ReactorBase& reactor, std::string address,
                            std::shared_ptr<ConnectedDatagramProtocol> protocol,
                            std::size_t maxPacketSize, int mode,
                            std::optional<std::string> bindAddress);

  /// Sends to the peer; `addr` must be the peer's address (coil::LogicError otherwise).
  void write(std::string_view data, const Address& addr) override;
  /// Sends to the peer; a refusal calls protocol.connectionRefused().
  void write(std::string_view data) override;
  /// UNIXAddress of the bound name (empty when none).
  Address getHost() const override;
  /// UNIXAddress of the peer.
  Address getPeer() const override;
  /// The largest datagram delivered whole.
  std::size_t maxPacketSize() const override { return DatagramPortBase::maxPacketSize(); }
  /// Binds, connects, starts the protocol; a failure goes to protocol.connectionFailed().
  void startListening() override;
  /// Stops reading now, closes on a later iteration.
  Deferred<void> stopListening() override { return DatagramPortBase::stopListening(); }

 protected:
  /// socket + optional bind/chmod + connect.
  detail::UniqueFd openSocket() override;
  /// Removes the bound file.
  void socketClosed() override;
  /// protocol.datagramReceived(data).
  void deliver(std::string_view data, const Address& from) override;
  /// protocol.connectionRefused().
  void readRefused() override;

 private:
  ConnectedDatagramProtocol* protocol_;
  std::string address_;
  int mode_;
  std::optional<std::string> bindAddress_;
  std::optional<std::pair<dev_t, ino_t>> bound_;
};

}  // namespace coil
