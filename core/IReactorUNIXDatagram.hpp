#pragma once
/// @file IReactorUNIXDatagram: UNIX-domain datagram sockets (Twisted's IReactorUNIXDatagram).

#include <cstddef>
#include <memory>
#include <optional>
#include <string>

namespace coil {

class DatagramProtocol;
class ConnectedDatagramProtocol;
class IUNIXDatagramPort;
class IUNIXDatagramConnectedPort;

/// UNIX datagram servers and connected clients; a leading NUL names an abstract socket.
/// Thread: reactor.
class IReactorUNIXDatagram {
 public:
  virtual ~IReactorUNIXDatagram() = default;

  /// Binds `address` synchronously, chmods it to `mode`, starts `protocol`. Throws
  /// error::CannotListenError.
  std::shared_ptr<IUNIXDatagramPort> listenUNIXDatagram(std::string address,
                                                        std::shared_ptr<DatagramProtocol> protocol,
                                                        std::size_t maxPacketSize = 8192,
                                                        int mode = 0666) {
    return doListenUNIXDatagram(std::move(address), std::move(protocol), maxPacketSize, mode);
  }

  /// Connects a datagram socket to `address` (bound first to `bindAddress` when given, so the
  /// peer can answer).
  std::shared_ptr<IUNIXDatagramConnectedPort> connectUNIXDatagram(
      std::string address, std::shared_ptr<ConnectedDatagramProtocol> protocol,
      std::size_t maxPacketSize = 8192, int mode = 0666,
      std::optional<std::string> bindAddress = std::nullopt) {
    return doConnectUNIXDatagram(std::move(address), std::move(protocol), maxPacketSize, mode,
                                 std::move(bindAddress));
  }

 protected:
  /// listenUNIXDatagram() with every argument given.
  virtual std::shared_ptr<IUNIXDatagramPort> doListenUNIXDatagram(
      std::string address, std::shared_ptr<DatagramProtocol> protocol, std::size_t maxPacketSize,
      int mode) = 0;
  /// connectUNIXDatagram() with every argument given.
  virtual std::shared_ptr<IUNIXDatagramConnectedPort> doConnectUNIXDatagram(
      std::string address, std::shared_ptr<ConnectedDatagramProtocol> protocol,
      std::size_t maxPacketSize, int mode, std::optional<std::string> bindAddress) = 0;
};

}  // namespace coil
