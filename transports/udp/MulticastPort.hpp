#pragma once
/// @file MulticastPort: a UDP port with multicast controls, IPv4 or IPv6 (Twisted's
/// udp.MulticastPort).

#include <coil/core/IMulticastTransport.hpp>
#include <coil/transports/udp/UDPPort.hpp>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace coil {

/// What listenMulticast() builds; users hold it as IMulticastPort. The controls act on the open
/// socket (coil::LogicError when the port is closed); the setters first send the writes a read
/// batch queued (writes batch as UDPPort's do). Thread: reactor.
class MulticastPort : public UDPPort, public virtual IMulticastPort {
 public:
  /// As UDPPort; `listenMultiple` sets SO_REUSEADDR and SO_REUSEPORT before binding.
  MulticastPort(ReactorBase& reactor, int port, std::shared_ptr<DatagramProtocol> protocol,
                std::string_view interface, std::size_t maxPacketSize, bool listenMultiple);

  // ---- one name for what UDPPort implements
  /// Sends to `addr` (see UDPPort).
  void write(std::string_view data, const Address& addr) override { UDPPort::write(data, addr); }
  /// Sends to the connected peer (see UDPPort).
  void write(std::string_view data) override { UDPPort::write(data); }
  /// The bound address.
  Address getHost() const override { return UDPPort::getHost(); }

  // ---- IMulticastTransport
  /// IPv4: the IP_MULTICAST_IF address ("0.0.0.0" until set); IPv6: the interface's name.
  std::string getOutgoingInterface() const override;
  /// Sets IP_MULTICAST_IF / IPV6_MULTICAST_IF.
  Deferred<void> setOutgoingInterface(std::string_view interface) override;
  /// IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP.
  bool getLoopbackMode() const override;
  /// Sets IP_MULTICAST_LOOP / IPV6_MULTICAST_LOOP.
  void setLoopbackMode(bool enabled) override;
  /// IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS.
  int getTTL() const override;
  /// Sets IP_MULTICAST_TTL / IPV6_MULTICAST_HOPS (0–255).
  void setTTL(int ttl) override;
  /// IP_ADD_MEMBERSHIP / IPV6_JOIN_GROUP.
  Deferred<void> joinGroup(std::string_view addr, std::string_view interface = "") override;
  /// IP_DROP_MEMBERSHIP / IPV6_LEAVE_GROUP.
  Deferred<void> leaveGroup(std::string_view addr, std::string_view interface = "") override;

 protected:
  /// SO_REUSEADDR + SO_REUSEPORT when listenMultiple.
  void beforeBind(int fd) override;

 private:
  int openFd() const;
  Deferred<void> membership(std::string_view addr, std::string_view interface, bool join);
  bool listenMultiple_;
};

}  // namespace coil
