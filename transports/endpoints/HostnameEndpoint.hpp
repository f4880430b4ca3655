#pragma once
/// @file HostnameEndpoint: a TCP client endpoint for a host name that tries each of its
/// addresses, IPv4 and IPv6, staggered in time (Twisted's HostnameEndpoint, "happy eyeballs").

#include <coil/core/ReactorBase.hpp>
#include <coil/transports/endpoints/IStreamClientEndpoint.hpp>

#include <optional>
#include <string>

namespace coil::endpoints {

/// Resolves `host` with reactor.nameResolver(), then starts one connection attempt now (a
/// TCP4ClientEndpoint or TCP6ClientEndpoint per address, in the resolver's order) and another
/// every `attemptDelay` seconds until one succeeds or all were tried. The first success wins
/// and the other attempts are cancelled; when all fail the connect() Deferred fails with the
/// last failure. Time comes from the reactor's IReactorTime side, so a reactor whose time is a
/// task::Clock drives it in tests. Thread: reactor.
class HostnameEndpoint : public IStreamClientEndpoint {
 public:
  /// The default `attemptDelay`, seconds (Twisted's).
  static constexpr double kDefaultAttemptDelay = 0.3;

  /// Connects to `host`:`port`; `timeout` and `bindAddress` apply to each attempt.
  HostnameEndpoint(ReactorBase& reactor, std::string host, int port, double timeout = 30,
                   std::optional<BindAddress> bindAddress = std::nullopt,
                   double attemptDelay = kDefaultAttemptDelay);
  /// See the class comment. Fails with error::DNSLookupError "Couldn't find the hostname
  /// '<host>'" when resolution fails, "no results for hostname lookup: <host>" when it finds
  /// nothing; cancelling fails it with error::ConnectingCancelledError naming the
  /// HostnameAddress and cancels the resolution or every pending attempt.
  Deferred<std::shared_ptr<IProtocol>> connect(std::shared_ptr<Factory> factory) override;

  /// The host name given.
  const std::string& host() const noexcept { return host_; }
  /// The port given.
  int port() const noexcept { return port_; }
  /// The per-attempt timeout, seconds.
  double timeout() const noexcept { return timeout_; }
  /// The local address each attempt binds.
  const std::optional<BindAddress>& bindAddress() const noexcept { return bindAddress_; }
  /// Seconds between the starts of two attempts.
  double attemptDelay() const noexcept { return attemptDelay_; }

 private:
  ReactorBase& reactor_;
  std::string host_;
  int port_;
  double timeout_;
  std::optional<BindAddress> bindAddress_;
  double attemptDelay_;
};

}  // namespace coil::endpoints
