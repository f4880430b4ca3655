#pragma once
/// @file Stream: the stream-socket entry points a readiness reactor wires into its
/// listenTCP/connectTCP/listenUNIX/connectUNIX/adoptStream* methods.

#include <coil/core/IConnector.hpp>
#include <coil/core/IListeningPort.hpp>
#include <coil/core/IReactorTCP.hpp>
#include <coil/core/ReactorBase.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace coil::stream {

/// IReactorTCP::listenTCP() over `reactor`. Thread: reactor.
std::shared_ptr<IListeningPort> listenTCP(ReactorBase& reactor, int port,
                                          std::shared_ptr<Factory> factory, int backlog,
                                          std::string_view interface);
/// IReactorTCP::connectTCP() over `reactor` (connect() already called). Thread: reactor.
std::shared_ptr<IConnector> connectTCP(ReactorBase& reactor, std::string_view host, int port,
                                       std::shared_ptr<ClientFactory> factory, double timeout,
                                       std::optional<BindAddress> bindAddress);
/// IReactorUNIX::listenUNIX() over `reactor`. Thread: reactor.
std::shared_ptr<IListeningPort> listenUNIX(ReactorBase& reactor, std::string address,
                                           std::shared_ptr<Factory> factory, int backlog, int mode,
                                           bool wantPID);
/// IReactorUNIX::connectUNIX() over `reactor` (connect() already called). Thread: reactor.
std::shared_ptr<IConnector> connectUNIX(ReactorBase& reactor, std::string address,
                                        std::shared_ptr<ClientFactory> factory, double timeout,
                                        bool checkPID);
/// IReactorSocket::adoptStreamPort() over `reactor`. Thread: reactor.
std::shared_ptr<IListeningPort> adoptStreamPort(ReactorBase& reactor, int fd, int addressFamily,
                                                std::shared_ptr<Factory> factory);
/// IReactorSocket::adoptStreamConnection() over `reactor`. Thread: reactor.
void adoptStreamConnection(ReactorBase& reactor, int fd, int addressFamily,
                           std::shared_ptr<Factory> factory);

}  // namespace coil::stream
