#pragma once
/// @file ServerEndpoints: the built-in stream server endpoints (Twisted's TCP4ServerEndpoint,
/// TCP6ServerEndpoint, UNIXServerEndpoint, AdoptedStreamServerEndpoint).

#include <coil/core/ReactorBase.hpp>
#include <coil/transports/endpoints/IStreamServerEndpoint.hpp>

#include <string>

namespace coil::endpoints {

/// Listens on an IPv4 TCP port with reactor.listenTCP(). Thread: reactor.
class TCP4ServerEndpoint : public IStreamServerEndpoint {
 public:
  /// `port` 0 picks an ephemeral port; `interface` "" listens on every IPv4 address.
  TCP4ServerEndpoint(ReactorBase& reactor, int port, int backlog = 50, std::string interface = "");
  /// listenTCP(port, factory, backlog, interface); an already-fired Deferred with the port, or
  /// with the exception listenTCP threw (error::CannotListenError).
  Deferred<std::shared_ptr<IListeningPort>> listen(std::shared_ptr<Factory> factory) override;
  /// The port given.
  int port() const noexcept { return port_; }
  /// The backlog given.
  int backlog() const noexcept { return backlog_; }
  /// The interface given.
  const std::string& interface() const noexcept { return interface_; }

 private:
  ReactorBase& reactor_;
  int port_;
  int backlog_;
  std::string interface_;
};

/// Listens on an IPv6 TCP port: a TCP4ServerEndpoint whose interface defaults to "::".
/// Thread: reactor.
class TCP6ServerEndpoint : public TCP4ServerEndpoint {
 public:
  /// `interface` must be an IPv6 literal ("::" = every IPv6 address).
  TCP6ServerEndpoint(ReactorBase& reactor, int port, int backlog = 50,
                     std::string interface = "::");
};

/// Listens on a UNIX stream socket with reactor.listenUNIX(). Thread: reactor.
class UNIXServerEndpoint : public IStreamServerEndpoint {
 public:
  /// `address` is the socket path; `mode` its permissions; `wantPID` uses a PID lock file.
  UNIXServerEndpoint(ReactorBase& reactor, std::string address, int backlog = 50, int mode = 0666,
                     bool wantPID = false);
  /// listenUNIX(address, factory, backlog, mode, wantPID), as an already-fired Deferred.
  Deferred<std::shared_ptr<IListeningPort>> listen(std::shared_ptr<Factory> factory) override;
  /// The path given.
  const std::string& address() const noexcept { return address_; }
  /// The backlog given.
  int backlog() const noexcept { return backlog_; }
  /// The permission bits given.
  int mode() const noexcept { return mode_; }
  /// Whether a PID lock file is used.
  bool wantPID() const noexcept { return wantPID_; }

 private:
  ReactorBase& reactor_;
  std::string address_;
  int backlog_;
  int mode_;
  bool wantPID_;
};

/// Listens on a socket that is already bound and listening (reactor.adoptStreamPort()). It can
/// listen once: it closes `fd` after adopting it (the reactor keeps its own duplicate).
/// Thread: reactor.
class AdoptedStreamServerEndpoint : public IStreamServerEndpoint {
 public:
  /// Takes ownership of `fd` (closed by the first listen(), not by the destructor, as Twisted).
  AdoptedStreamServerEndpoint(ReactorBase& reactor, int fd, int addressFamily);
  /// adoptStreamPort(fd, family, factory), then closes fd; a second call fails with
  /// error::AlreadyListened. Already-fired Deferred.
  Deferred<std::shared_ptr<IListeningPort>> listen(std::shared_ptr<Factory> factory) override;
  /// The descriptor given.
  int fileno() const noexcept { return fd_; }
  /// The address family given.
  int addressFamily() const noexcept { return family_; }

 private:
  ReactorBase& reactor_;
  int fd_;
  int family_;
  bool used_ = false;
};

}  // namespace coil::endpoints
