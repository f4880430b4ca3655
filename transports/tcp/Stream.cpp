// Stream: the stream-socket entry points of a readiness reactor.
// Tests: test/transports/stream/*
#include <coil/transports/tcp/Stream.hpp>

#include <coil/core/Errors.hpp>
#include <coil/core/Log.hpp>
#include <coil/transports/tcp/StreamConnection.hpp>
#include <coil/transports/tcp/StreamConnector.hpp>
#include <coil/transports/tcp/StreamPort.hpp>

#include <sys/socket.h>

#include <stdexcept>
#include <utility>

namespace coil::stream {

std::shared_ptr<IListeningPort> listenTCP(ReactorBase& reactor, int port,
                                          std::shared_ptr<Factory> factory, int backlog,
                                          std::string_view interface) {
  if (port < 0 || port > 65535) {
    throw std::invalid_argument("listenTCP: port must be 0-65535, got " + std::to_string(port));
  }
  Port::Config config;
  config.interface = std::string(interface);
  config.port = port;
  config.backlog = backlog;
  return Port::listen(reactor, std::move(factory), std::move(config));
}

std::shared_ptr<IConnector> connectTCP(ReactorBase& reactor, std::string_view host, int port,
                                       std::shared_ptr<ClientFactory> factory, double timeout,
                                       std::optional<BindAddress> bindAddress) {
  auto connector = Connector::tcp(reactor, std::string(host), port, std::move(factory), timeout,
                                  std::move(bindAddress));
  connector->connect();
  return connector;
}

std::shared_ptr<IListeningPort> listenUNIX(ReactorBase& reactor, std::string address,
                                           std::shared_ptr<Factory> factory, int backlog, int mode,
                                           bool wantPID) {
  if (address.empty()) throw error::InvalidAddressError("listenUNIX: empty path");
  Port::Config config;
  config.family = AF_UNIX;
  config.path = std::move(address);
  config.backlog = backlog;
  config.mode = mode;
  config.wantPID = wantPID;
  return Port::listen(reactor, std::move(factory), std::move(config));
}

std::shared_ptr<IConnector> connectUNIX(ReactorBase& reactor, std::string address,
                                        std::shared_ptr<ClientFactory> factory, double timeout,
                                        bool checkPID) {
  auto connector =
      Connector::unixStream(reactor, std::move(address), std::move(factory), timeout, checkPID);
  connector->connect();
  return connector;
}

std::shared_ptr<IListeningPort> adoptStreamPort(ReactorBase& reactor, int fd, int addressFamily,
                                                std::shared_ptr<Factory> factory) {
  return Port::adopt(reactor, std::move(factory), fd, addressFamily);
}

void adoptStreamConnection(ReactorBase& reactor, int fd, int addressFamily,
                           std::shared_ptr<Factory> factory) {
  if (addressFamily != AF_INET && addressFamily != AF_INET6 && addressFamily != AF_UNIX) {
    throw error::UnsupportedAddressFamily("address family " + std::to_string(addressFamily));
  }
  if (!factory) throw std::invalid_argument("adoptStreamConnection: null factory");
  std::error_code ec;
  detail::UniqueFd copy = detail::duplicateFd(fd, ec);
  if (ec) throw std::system_error(ec, "adoptStreamConnection: cannot duplicate descriptor");
  std::shared_ptr<IProtocol> protocol = factory->buildProtocol(
      detail::peerAddress(copy.get(), addressFamily == AF_UNIX ? "UNIX" : "TCP"));
  if (!protocol) return;  // the duplicate closes; the caller's descriptor stays open
  makeConnection(reactor, std::move(copy), addressFamily)->start(std::move(protocol));
}

}  // namespace coil::stream
