#pragma once
/// @file IReactorUDP: UDP ports (Twisted's IReactorUDP).

#include <cstddef>
#include <memory>
#include <string_view>

namespace coil {

class DatagramProtocol;
class IUDPPort;

/// UDP servers and clients, IPv4 and IPv6. Thread: reactor.
class IReactorUDP {
 public:
  virtual ~IReactorUDP() = default;

  /// Binds `interface`:`port` synchronously ("" = every IPv4 address; an IPv6 literal makes an
  /// IPv6 port; anything but an IP literal is error::InvalidAddressError), then starts
  /// `protocol` (makeConnection, doStart). Throws error::CannotListenError.
  std::shared_ptr<IUDPPort> listenUDP(int port, std::shared_ptr<DatagramProtocol> protocol,
                                      std::string_view interface = "",
                                      std::size_t maxPacketSize = 8192) {
    return doListenUDP(port, std::move(protocol), interface, maxPacketSize);
  }

 protected:
  /// listenUDP() with every argument given.
  virtual std::shared_ptr<IUDPPort> doListenUDP(int port,
                                                std::shared_ptr<DatagramProtocol> protocol,
                                                std::string_view interface,
                                                std::size_t maxPacketSize) = 0;
};

}  // namespace coil
