// ServerEndpoints: TCP4/TCP6/UNIX/adopted stream server endpoints.
// Tests: test/transports/endpoints/ServerEndpointTest.cpp
#include <coil/transports/endpoints/ServerEndpoints.hpp>

#include <coil/core/Errors.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

namespace coil::endpoints {

namespace {

using PortDeferred = Deferred<std::shared_ptr<IListeningPort>>;

// Twisted's defer.execute(): the call's result, or its exception, as a fired Deferred.
template <class F>
PortDeferred execute(F&& listen) {
  try {
    return succeed(listen());
  } catch (...) {
    return fail<std::shared_ptr<IListeningPort>>(Failure::current());
  }
}

}  // namespace

TCP4ServerEndpoint::TCP4ServerEndpoint(ReactorBase& reactor, int port, int backlog,
                                       std::string interface)
    : reactor_(reactor), port_(port), backlog_(backlog), interface_(std::move(interface)) {}

PortDeferred TCP4ServerEndpoint::listen(std::shared_ptr<Factory> factory) {
  return execute(
      [&] { return reactor_.listenTCP(port_, std::move(factory), backlog_, interface_); });
}

TCP6ServerEndpoint::TCP6ServerEndpoint(ReactorBase& reactor, int port, int backlog,
                                       std::string interface)
    : TCP4ServerEndpoint(reactor, port, backlog, std::move(interface)) {}

UNIXServerEndpoint::UNIXServerEndpoint(ReactorBase& reactor, std::string address, int backlog,
                                       int mode, bool wantPID)
    : reactor_(reactor),
      address_(std::move(address)),
      backlog_(backlog),
      mode_(mode),
      wantPID_(wantPID) {}

PortDeferred UNIXServerEndpoint::listen(std::shared_ptr<Factory> factory) {
  return execute(
      [&] { return reactor_.listenUNIX(address_, std::move(factory), backlog_, mode_, wantPID_); });
}

AdoptedStreamServerEndpoint::AdoptedStreamServerEndpoint(ReactorBase& reactor, int fd,
                                                         int addressFamily)
    : reactor_(reactor), fd_(fd), family_(addressFamily) {}

PortDeferred AdoptedStreamServerEndpoint::listen(std::shared_ptr<Factory> factory) {
  if (used_) return fail<std::shared_ptr<IListeningPort>>(error::AlreadyListened());
  used_ = true;
  return execute([&] {
    // adoptStreamPort() wants a non-blocking socket; inherited ones (systemd's, inetd's) are
    // usually blocking, and a blocking accept would stall the reactor. Twisted sets it here too.
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0 || ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK) < 0) {
      const int err = errno;
      std::string what = "adopting fd ";
      what += std::to_string(fd_);
      what += ": cannot make it non-blocking";
      throw std::system_error(err, std::generic_category(), what);
    }
    auto port = reactor_.adoptStreamPort(fd_, family_, std::move(factory));
    ::close(fd_);
    return port;
  });
}

}  // namespace coil::endpoints
