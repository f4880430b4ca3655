#pragma once
/// @file IReactorSocket: adopting sockets made elsewhere (Twisted's IReactorSocket).

#include <coil/core/IListeningPort.hpp>

#include <cstddef>
#include <memory>

namespace coil {

class Factory;
class DatagramProtocol;
class IUDPPort;

/// Takes over already-open, non-blocking sockets. The descriptor is duplicated: the caller
/// still owns (and should close) the one it passed. `addressFamily` is AF_INET, AF_INET6 or
/// AF_UNIX; anything else is error::UnsupportedAddressFamily. Thread: reactor.
class IReactorSocket {
 public:
  virtual ~IReactorSocket() = default;

  /// Listens on the listening socket `fd` (already bound and listening) with `factory`;
  /// factory.doStart() runs as for listenTCP().
  std::shared_ptr<IListeningPort> adoptStreamPort(int fd, int addressFamily,
                                                  std::shared_ptr<Factory> factory) {
    return doAdoptStreamPort(fd, addressFamily, std::move(factory));
  }

  /// Serves the connected socket `fd` with a protocol from factory.buildProtocol() (no
  /// doStart/doStop; a null protocol closes the connection).
  void adoptStreamConnection(int fd, int addressFamily, std::shared_ptr<Factory> factory) {
    doAdoptStreamConnection(fd, addressFamily, std::move(factory));
  }

  /// Serves the bound UDP socket `fd` (AF_INET or AF_INET6 only) with `protocol`.
  std::shared_ptr<IUDPPort> adoptDatagramPort(int fd, int addressFamily,
                                              std::shared_ptr<DatagramProtocol> protocol,
                                              std::size_t maxPacketSize = 8192) {
    return doAdoptDatagramPort(fd, addressFamily, std::move(protocol), maxPacketSize);
  }

 protected:
  /// adoptStreamPort().
  virtual std::shared_ptr<IListeningPort> doAdoptStreamPort(int fd, int addressFamily,
                                                            std::shared_ptr<Factory> factory) = 0;
  /// adoptStreamConnection().
  virtual void doAdoptStreamConnection(int fd, int addressFamily,
                                       std::shared_ptr<Factory> factory) = 0;
  /// adoptDatagramPort().
  virtual std::shared_ptr<IUDPPort> doAdoptDatagramPort(int fd, int addressFamily,
                                                        std::shared_ptr<DatagramProtocol> protocol,
                                                        std::size_t maxPacketSize) = 0;
};

}  // namespace coil
