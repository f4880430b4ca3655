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
  COIL_ASSERT_REACTOR_THREAD(*this, "listenTCP");
  return stream::listenTCP(*this, port, std::move(factory), backlog, interface);
}

std::shared_ptr<IConnector> PosixReactor::doConnectTCP(std::string_view host, int port,
                                                       std::shared_ptr<ClientFactory> factory,
                                                       double timeout,
                                                       std::optional<BindAddress> bindAddress) {
  COIL_ASSERT_REACTOR_THREAD(*this, "connectTCP");
  return stream::connectTCP(*this, host, port, std::move(factory), timeout, std::move(bindAddress));
}

std::shared_ptr<IListeningPort> PosixReactor::doListenUNIX(std::string address,
                                                           std::shared_ptr<Factory> factory,
                                                           int backlog, int mode, bool wantPID) {
  COIL_ASSERT_REACTOR_THREAD(*this, "listenUNIX");
  return stream::listenUNIX(*this, std::move(address), std::move(factory), backlog, mode, wantPID);
}

std::shared_ptr<IConnector> PosixReactor::doConnectUNIX(std::string address,
                                                        std::shared_ptr<ClientFactory> factory,
                                                        double timeout, bool checkPID) {
  COIL_ASSERT_REACTOR_THREAD(*this, "connectUNIX");
  return stream::connectUNIX(*this, std::move(address), std::move(factory), timeout, checkPID);
}

std::shared_ptr<IListeningPort> PosixReactor::doAdoptStreamPort(int fd, int addressFamily,
                                                                std::shared_ptr<Factory> factory) {
  COIL_ASSERT_REACTOR_THREAD(*this, "adoptStreamPort");
  return stream::adoptStreamPort(*this, fd, addressFamily, std::move(factory));
}

void PosixReactor::doAdoptStreamConnection(int fd, int addressFamily,
                                           std::shared_ptr<Factory> factory) {
  COIL_ASSERT_REACTOR_THREAD(*this, "adoptStreamConnection");
  stream::adoptStreamConnection(*this, fd, addressFamily, std::move(factory));
}

}  // namespace coil
