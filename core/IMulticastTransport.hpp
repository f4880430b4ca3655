#pragma once
/// @file IMulticastTransport: multicast controls of a UDP port (Twisted's IMulticastTransport);
/// IMulticastPort is the port type IReactorMulticast::listenMulticast() returns.

#include <coil/core/Deferred.hpp>
#include <coil/core/IUDPTransport.hpp>

#include <string>
#include <string_view>

namespace coil {

/// A UDP port that can join multicast groups, IPv4 or IPv6 (the port's family decides).
///
/// Interfaces are named as the family expects: IPv4 by an address literal ("127.0.0.1"; "" or
/// "0.0.0.0" = the kernel's choice), IPv6 by an interface name ("eth0"), an index ("3") or ""
/// (the kernel's choice). Thread: reactor.
class IMulticastTransport : public virtual IUDPTransport {
 public:
  /// The interface multicast datagrams leave by: IPv4 "0.0.0.0" until set; IPv6 the
  /// interface's name, "" until set.
  virtual std::string getOutgoingInterface() const = 0;

  /// Sends multicast datagrams out of `interface`. The Deferred is already fired: with nothing
  /// on success, with error::InvalidAddressError for a malformed interface or coil::Error
  /// carrying the errno when the kernel refuses it.
  virtual Deferred<void> setOutgoingInterface(std::string_view interface) = 0;

  /// Whether this host's own multicast datagrams are looped back to it (on by default).
  virtual bool getLoopbackMode() const = 0;

  /// Turns loopback of outgoing multicast on or off.
  virtual void setLoopbackMode(bool enabled) = 0;

  /// The time-to-live (IPv6: hop limit) of outgoing multicast datagrams (1 by default).
  virtual int getTTL() const = 0;

  /// Sets the multicast TTL (0–255, else std::invalid_argument).
  virtual void setTTL(int ttl) = 0;

  /// Joins group `addr` on `interface` ("" = the kernel's choice). The Deferred is already
  /// fired: with nothing on success, with error::MulticastJoinError when `addr` is not a
  /// multicast literal of the port's family or the kernel refuses (the errno in its code).
  virtual Deferred<void> joinGroup(std::string_view addr, std::string_view interface = "") = 0;

  /// Leaves group `addr` on `interface`; fails with error::MulticastJoinError as joinGroup().
  virtual Deferred<void> leaveGroup(std::string_view addr, std::string_view interface = "") = 0;
};

/// What listenMulticast() returns: a UDP port with multicast controls. Thread: reactor.
class IMulticastPort : public virtual IUDPPort, public virtual IMulticastTransport {
 public:
  /// The bound local address.
  Address getHost() const override = 0;
};

}  // namespace coil
