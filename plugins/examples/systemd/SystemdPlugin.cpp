// SystemdPlugin: the entry point of coil_systemd.so, registering the `systemd:` server
// endpoint type. A USES_COIL plugin: it calls coil's C++ API, bound at load to the host's.
// Tests: test/plugins/SystemdEndpointTest.cpp
#include <coil/core/Log.hpp>
#include <coil/plugins/PluginApi.hpp>
#include <coil/plugins/examples/systemd/ListenFDs.hpp>
#include <coil/plugins/examples/systemd/SystemdEndpoint.hpp>

#include <memory>

namespace {

void registerSystemd(coil::plugins::Registrar& registrar) {
  // Read once, when loaded (Twisted reads it once, at import).
  auto inherited =
      std::make_shared<const coil::systemd::ListenFDs>(coil::systemd::ListenFDs::fromEnvironment());
  if (!inherited->descriptors().empty()) coil::log::info("coil.systemd", inherited->describe());
  registrar.addServerParser({
      .prefix = "systemd",
      .description = "socket activation: systemd:domain=INET|INET6|UNIX:index=N (or :name=NAME)",
      .parse = [inherited](coil::ReactorBase& reactor,
                           const coil::endpoints::EndpointDescription& description)
          -> std::shared_ptr<coil::endpoints::IStreamServerEndpoint> {
        return coil::systemd::parseSystemdServer(reactor, description, *inherited);
      },
  });
}

}  // namespace

COIL_PLUGIN(registerSystemd)
