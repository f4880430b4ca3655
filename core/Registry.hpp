#pragma once
/// @file Registry: the one table through which coil finds backends and endpoint string parsers
/// (and, later, service makers), whether built in or loaded from a plugin.
///
/// Entries are plain values added in order — no self-registering statics, which vanish from
/// static libraries. Each folder exposes `registerBuiltins(Registry&)`; plugins/ composes them
/// and loads out-of-tree plugins into the same table.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coil {

class ReactorBase;

// The endpoint types live in transports/endpoints; core only names them (the parsers are
// std::functions, which need no complete types), so core still includes nothing above it.
namespace endpoints {
class IStreamServerEndpoint;
class IStreamClientEndpoint;
struct EndpointDescription;
}  // namespace endpoints

/// A reactor backend as the registry knows it.
struct BackendEntry {
  /// The name users pick it by ("epoll"); unique in a registry.
  std::string name;
  /// One line for --list-reactors.
  std::string description;
  /// nullopt when the backend can run here; otherwise why not ("kernel lacks io_uring").
  std::function<std::optional<std::string>()> probe;
  /// Makes a new, not yet running reactor.
  std::function<std::unique_ptr<ReactorBase>()> create;
  /// "built-in", or the path of the plugin that brought it.
  std::string origin = "built-in";
};

/// A server endpoint type for serverFromString() (Twisted's
/// IStreamServerEndpointStringParser plugins): "prefix:args...".
struct ServerEndpointParserEntry {
  /// The endpoint type it parses ("tcp"); unique (ignoring case) among server parsers.
  std::string prefix;
  /// One line for listings ("TCP over IPv4: tcp:PORT[:interface=][:backlog=50]").
  std::string description;
  /// Builds the endpoint from the parsed description (its type, positional arguments, keyword
  /// arguments, and the whole text for error messages). Throws std::invalid_argument
  /// (endpoints::EndpointSyntaxError) for bad parameters.
  std::function<std::shared_ptr<endpoints::IStreamServerEndpoint>(
      ReactorBase& reactor, const endpoints::EndpointDescription& description)>
      parse;
  /// Twisted matches its built-in server types ("tcp", "unix") exactly and plugin types
  /// ignoring case; true for the former. Plugins' entries are always matched ignoring case.
  bool exactCase = false;
  /// "built-in", or the path of the plugin that brought it.
  std::string origin = "built-in";
};

/// A client endpoint type for clientFromString() (Twisted's
/// IStreamClientEndpointStringParserWithReactor plugins). Client types match ignoring case.
struct ClientEndpointParserEntry {
  /// The endpoint type it parses ("tcp"); unique (ignoring case) among client parsers.
  std::string prefix;
  /// One line for listings.
  std::string description;
  /// Builds the endpoint from the parsed description; throws std::invalid_argument for bad
  /// parameters.
  std::function<std::shared_ptr<endpoints::IStreamClientEndpoint>(
      ReactorBase& reactor, const endpoints::EndpointDescription& description)>
      parse;
  /// "built-in", or the path of the plugin that brought it.
  std::string origin = "built-in";
};

/// An ordered table of what coil can be configured with. Thread: any thread, but not
/// concurrently with changes (fill it at startup).
/// True when endpoint types `a` and `b` are the same type: equal ignoring ASCII case (the rule
/// by which a prefix is taken, whatever an entry's exactCase). Thread: any.
bool sameEndpointType(std::string_view a, std::string_view b) noexcept;

/// The entry of `entries` (server or client parsers) whose prefix is the same type as
/// `prefix` (sameEndpointType()), or nullptr. Thread: any.
template <class Entry>
const Entry* findEndpointType(const std::vector<Entry>& entries, std::string_view prefix) noexcept {
  for (const auto& e : entries)
    if (sameEndpointType(e.prefix, prefix)) return &e;
  return nullptr;
}

class Registry {
 public:
  /// Adds a backend at the end. A name already taken throws std::invalid_argument naming both
  /// origins.
  void addBackend(BackendEntry entry);
  /// Every backend, in registration order (available or not).
  const std::vector<BackendEntry>& backends() const noexcept { return backends_; }
  /// The backend called `name`, or nullptr.
  const BackendEntry* findBackend(std::string_view name) const noexcept;
  /// Names of the backends whose probe passes, in registration order; the first is the default.
  std::vector<std::string> availableBackends() const;

  /// Adds a server endpoint parser. An empty prefix, no parse function, or a prefix already
  /// taken (ignoring case) throws std::invalid_argument naming both origins.
  void addServerParser(ServerEndpointParserEntry entry);
  /// Every server endpoint parser, in registration order.
  const std::vector<ServerEndpointParserEntry>& serverParsers() const noexcept {
    return serverParsers_;
  }
  /// The server parser for endpoint type `type` (exactly for exactCase entries, else ignoring
  /// case), or nullptr.
  const ServerEndpointParserEntry* findServerParser(std::string_view type) const noexcept;

  /// Adds a client endpoint parser; same rules as addServerParser().
  void addClientParser(ClientEndpointParserEntry entry);
  /// Every client endpoint parser, in registration order.
  const std::vector<ClientEndpointParserEntry>& clientParsers() const noexcept {
    return clientParsers_;
  }
  /// The client parser for endpoint type `type` (ignoring case), or nullptr.
  const ClientEndpointParserEntry* findClientParser(std::string_view type) const noexcept;

 private:
  std::vector<BackendEntry> backends_;
  std::vector<ServerEndpointParserEntry> serverParsers_;
  std::vector<ClientEndpointParserEntry> clientParsers_;
};

}  // namespace coil
