#pragma once
/// @file ClientEndpoints: the built-in stream client endpoints (Twisted's TCP4ClientEndpoint,
/// TCP6ClientEndpoint, UNIXClientEndpoint).

#include <coil/core/ReactorBase.hpp>
#include <coil/transports/endpoints/IStreamClientEndpoint.hpp>

#include <optional>
#include <string>

namespace coil::endpoints {

/// Connects over TCP with reactor.connectTCP() (a host name is resolved by the reactor, IPv4
/// only, as Twisted's). Thread: reactor.
class TCP4ClientEndpoint : public IStreamClientEndpoint {
 public:
  /// Connects to `host`:`port`, giving up after `timeout` seconds, from `bindAddress` if given.
  TCP4ClientEndpoint(ReactorBase& reactor, std::string host, int port, double timeout = 30,
                     std::optional<BindAddress> bindAddress = std::nullopt);
  /// See IStreamClientEndpoint::connect(); an exception from connectTCP() fails the Deferred.
  Deferred<std::shared_ptr<IProtocol>> connect(std::shared_ptr<Factory> factory) override;
  /// The host given.
  const std::string& host() const noexcept { return host_; }
  /// The port given.
  int port() const noexcept { return port_; }
  /// The timeout given, seconds.
  double timeout() const noexcept { return timeout_; }
  /// The local address given.
  const std::optional<BindAddress>& bindAddress() const noexcept { return bindAddress_; }

 protected:
  /// The reactor given.
  ReactorBase& reactor() const noexcept { return reactor_; }

 private:
  ReactorBase& reactor_;
  std::string host_;
  int port_;
  double timeout_;
  std::optional<BindAddress> bindAddress_;
};

/// Connects over TCP to an IPv6 address: a host name is first resolved to its first IPv6
/// address through reactor.nameResolver() (AddressTypes::ipv6); an IPv6 literal is used as is.
/// Resolution failure fails the Deferred with error::DNSLookupError. Thread: reactor.
class TCP6ClientEndpoint : public TCP4ClientEndpoint {
 public:
  /// As TCP4ClientEndpoint's.
  TCP6ClientEndpoint(ReactorBase& reactor, std::string host, int port, double timeout = 30,
                     std::optional<BindAddress> bindAddress = std::nullopt);
  /// Resolves (unless the host is an IPv6 literal), then connects; cancelling during the
  /// resolution cancels it.
  Deferred<std::shared_ptr<IProtocol>> connect(std::shared_ptr<Factory> factory) override;
};

/// Connects to a UNIX stream socket with reactor.connectUNIX(). Thread: reactor.
class UNIXClientEndpoint : public IStreamClientEndpoint {
 public:
  /// Connects to `path`, giving up after `timeout` seconds; `checkPID` requires a live lock
  /// file next to it.
  UNIXClientEndpoint(ReactorBase& reactor, std::string path, double timeout = 30,
                     bool checkPID = false);
  /// See IStreamClientEndpoint::connect().
  Deferred<std::shared_ptr<IProtocol>> connect(std::shared_ptr<Factory> factory) override;
  /// The path given.
  const std::string& path() const noexcept { return path_; }
  /// The timeout given, seconds.
  double timeout() const noexcept { return timeout_; }
  /// Whether a live lock file is required.
  bool checkPID() const noexcept { return checkPID_; }

 private:
  ReactorBase& reactor_;
  std::string path_;
  double timeout_;
  bool checkPID_;
};

}  // namespace coil::endpoints
