// PosixReactorStream: PosixReactor's stream-socket methods (TCP, UNIX, adopted sockets), wired
// to transports/tcp.
// Tests: test/transports/stream/*
#include <coil/backends/PosixReactor.hpp>

#include <coil/transports/tcp/Stream.hpp>

#include <utility>

namespace coil {

std::shared_ptr<IListeningPort> PosixReactor::doListenTCP(int port,
                                                          std::shared_ptr<Factory> factory,
                                                          int backlog, std::string_view interface) {
  return stream::listenTCP(*this, port, std::move(factory), backlog, interface);
}

std::shared_ptr<IConnector> PosixReactor::doConnectTCP(std::string_view host, int port,
                                                       std::shared_ptr<ClientFactory> factory,
                                                       double timeout,
                                                       std::optional<BindAddress> bindAddress) {
  return stream::connectTCP(*this, host, port, std::move(factory), timeout, std::move(bindAddress));
}

std::shared_ptr<IListeningPort> PosixReactor::doListenUNIX(std::string address,
                                                           std::shared_ptr<Factory> factory,
                                                           int backlog, int mode, bool wantPID) {
  return stream::listenUNIX(*this, std::move(address), std::move(factory), backlog, mode, wantPID);
}

std::shared_ptr<IConnector> PosixReactor::doConnectUNIX(std::string address,
                                                        std::shared_ptr<ClientFactory> factory,
                                                        double timeout, bool checkPID) {
  return stream::connectUNIX(*this, std::move(address), std::move(factory), timeout, checkPID);
}

std::shared_ptr<IListeningPort> PosixReactor::doAdoptStreamPort(int fd, int addressFamily,
                                                                std::shared_ptr<Factory> factory) {
  return stream::adoptStreamPort(*this, fd, addressFamily, std::move(factory));
}

void PosixReactor::doAdoptStreamConnection(int fd, int addressFamily,
                                           std::shared_ptr<Factory> factory) {
  stream::adoptStreamConnection(*this, fd, addressFamily, std::move(factory));
}

}  // namespace coil
