#pragma once
/// @file SystemdEndpoint: the `systemd:` server endpoint type (Twisted's _SystemdParser):
/// listen on a socket inherited through systemd's socket activation.
///
/// Syntax (Twisted's parameters; positional order domain, index, name):
///  - `systemd:domain=INET:index=0` — the inherited descriptor 3 + index,
///  - `systemd:domain=UNIX:name=control` — the descriptor LISTEN_FDNAMES calls "control" (the
///    last one if several share the name),
/// with `domain` one of INET, INET6, UNIX (the address family without "AF_", matched exactly)
/// and exactly one of `index` and `name`. Stricter than Twisted, which accepts any AF_ name and
/// Python's negative indexes and finds mistakes only when listening: the descriptor must exist,
/// be a stream socket, and be of `domain`'s family, or parsing fails, naming the parameter.

#include <coil/core/ReactorBase.hpp>
#include <coil/plugins/examples/systemd/ListenFDs.hpp>
#include <coil/transports/endpoints/Description.hpp>
#include <coil/transports/endpoints/ServerEndpoints.hpp>

#include <memory>
#include <string>

namespace coil::systemd {

/// An AdoptedStreamServerEndpoint over an inherited descriptor that logs, once listening,
/// which inherited descriptor it serves on. Listens once (the descriptor is closed after
/// adoption). Thread: reactor.
class SystemdServerEndpoint : public endpoints::AdoptedStreamServerEndpoint {
 public:
  /// Adopts `fd` of `addressFamily`; `label` names it in the log ("descriptor 4 ('web')").
  SystemdServerEndpoint(ReactorBase& reactor, int fd, int addressFamily, std::string label);
  /// AdoptedStreamServerEndpoint::listen() (which makes the descriptor non-blocking), then logs
  /// "listening on <label>: <host>" (system "coil.systemd").
  Deferred<std::shared_ptr<IListeningPort>> listen(std::shared_ptr<Factory> factory) override;
  /// The label given.
  const std::string& label() const noexcept { return label_; }

 private:
  std::string label_;
};

/// The `systemd:` parser: the endpoint `description` names among `inherited`. Throws
/// endpoints::EndpointSyntaxError, quoting the description and naming the parameter, for an
/// unknown or missing parameter, a bad domain, not exactly one of index and name, an index or
/// name that selects nothing, or a descriptor that is not a stream socket of that domain.
/// Thread: reactor.
std::shared_ptr<endpoints::IStreamServerEndpoint> parseSystemdServer(
    ReactorBase& reactor, const endpoints::EndpointDescription& description,
    const ListenFDs& inherited);

}  // namespace coil::systemd
