#pragma once
/// @file IReactorMulticast: UDP ports that join multicast groups (Twisted's
/// IReactorMulticast).

#include <cstddef>
#include <memory>
#include <string_view>

namespace coil {

class DatagramProtocol;
class IMulticastPort;

/// Multicast-capable UDP ports, IPv4 and IPv6. Thread: reactor.
class IReactorMulticast {
 public:
  virtual ~IReactorMulticast() = default;

  /// listenUDP() with multicast controls (TTL 1, loopback on). `listenMultiple` sets
  /// SO_REUSEADDR and SO_REUSEPORT so that several ports share `port` and all receive.
  std::shared_ptr<IMulticastPort> listenMulticast(int port,
                                                  std::shared_ptr<DatagramProtocol> protocol,
                                                  std::string_view interface = "",
                                                  std::size_t maxPacketSize = 8192,
                                                  bool listenMultiple = false) {
    return doListenMulticast(port, std::move(protocol), interface, maxPacketSize, listenMultiple);
  }

 protected:
  /// listenMulticast() with every argument given.
  virtual std::shared_ptr<IMulticastPort> doListenMulticast(
      int port, std::shared_ptr<DatagramProtocol> protocol, std::string_view interface,
      std::size_t maxPacketSize, bool listenMultiple) = 0;
};

}  // namespace coil
