#pragma once
/// @file StringEndpoints: endpoints from strings (Twisted's serverFromString, clientFromString)
/// and the built-in endpoint types they know.
///
/// A description is "type:arg:...:key=value:..." (grammar in Description.hpp). The type is
/// looked up in a Registry: apps pass coil::defaultRegistry() (plugins/Reactors.hpp), which
/// holds the built-ins and every plugin's types; the overloads without a registry know only the
/// built-ins. Built-in types:
///  - server `tcp:PORT[:interface=][:backlog=50]` (positional order: port, interface, backlog),
///  - server `tcp6:PORT[:backlog=50][:interface=::]` (positional order: port, backlog,
///    interface),
///  - server `unix:ADDRESS[:mode=666][:backlog=50][:lockfile=1]` (mode octal; lockfile: a PID
///    lock file, on by default unlike listenUNIX),
///  - client `tcp:HOST:PORT` or `host=`/`port=` (one positional fills the missing one)
///    `[:timeout=30][:bindAddress=IP]`,
///  - client `unix:PATH` or `path=` `[:lockfile=0][:timeout=30]` (lockfile: checkPID).
/// Built-in server types match exactly (lowercase), plugin server types and every client type
/// ignoring case (Twisted's rules).

#include <coil/core/Registry.hpp>
#include <coil/transports/endpoints/IStreamClientEndpoint.hpp>
#include <coil/transports/endpoints/IStreamServerEndpoint.hpp>

#include <memory>
#include <string_view>

namespace coil {
class ReactorBase;
}

namespace coil::endpoints {

/// Adds the built-in server types (tcp, tcp6, unix) and client types (tcp, unix) to
/// `registry`. Throws std::invalid_argument if a prefix is taken. Thread: any (at startup).
void registerBuiltinParsers(Registry& registry);

/// A registry holding only the built-in parsers (no backends). Thread: any.
const Registry& builtinParsers();

/// The server endpoint `description` names, for `reactor`, with the types in `registry`.
/// Throws EndpointSyntaxError (a std::invalid_argument) for a malformed description, an
/// unknown type ("Unknown endpoint type: 'x'") or a bad parameter — its what() quotes the whole
/// description and names the parameter. Thread: reactor.
std::shared_ptr<IStreamServerEndpoint> serverFromString(ReactorBase& reactor,
                                                        std::string_view description,
                                                        const Registry& registry);
/// serverFromString() with the built-in types only. Thread: reactor.
std::shared_ptr<IStreamServerEndpoint> serverFromString(ReactorBase& reactor,
                                                        std::string_view description);

/// The client endpoint `description` names; errors as serverFromString(). Thread: reactor.
std::shared_ptr<IStreamClientEndpoint> clientFromString(ReactorBase& reactor,
                                                        std::string_view description,
                                                        const Registry& registry);
/// clientFromString() with the built-in types only. Thread: reactor.
std::shared_ptr<IStreamClientEndpoint> clientFromString(ReactorBase& reactor,
                                                        std::string_view description);

}  // namespace coil::endpoints
