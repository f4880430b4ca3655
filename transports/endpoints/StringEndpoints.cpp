// StringEndpoints: serverFromString/clientFromString and the built-in endpoint parsers.
// Tests: test/transports/endpoints/StringEndpointTest.cpp
#include <coil/transports/endpoints/StringEndpoints.hpp>

#include <coil/core/ReactorBase.hpp>
#include <coil/transports/endpoints/ClientEndpoints.hpp>
#include <coil/transports/endpoints/Description.hpp>
#include <coil/transports/endpoints/ServerEndpoints.hpp>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace coil::endpoints {

namespace {

// Binds a description's positional and keyword parameters to a parser's parameter names, the
// way a Python call binds them to a signature (Twisted's parsers are Python functions).
class Parameters {
 public:
  // `positional`: how many of `names` may be given by position (default: all).
  Parameters(const EndpointDescription& d, std::initializer_list<const char*> names,
             std::size_t positional = SIZE_MAX)
      : d_(d), names_(names.begin(), names.end()), values_(names_.size()) {
    if (d.args.size() > std::min(positional, names_.size()))
      throw EndpointSyntaxError(d.description, "too many positional parameters for '" + d.type +
                                                   "' (it takes " + list(positional) + ")");
    for (std::size_t i = 0; i < d.args.size(); ++i) values_[i] = d.args[i];
    for (const auto& [key, value] : d.kwargs) {
      const std::size_t i = index(key);
      if (i == names_.size())
        throw d.badValue(key, "unknown parameter (" + d.type + " takes " + list() + ")");
      if (values_[i]) throw d.badValue(key, "given both by position and by keyword");
      values_[i] = value;
    }
  }

  // The value of `name`, or nullptr when not given.
  const std::string* get(std::string_view name) const {
    const auto& v = values_[index(name)];
    return v ? &*v : nullptr;
  }

  // The value of `name`; throws when not given.
  const std::string& required(std::string_view name) const {
    if (const std::string* v = get(name)) return *v;
    throw d_.badValue(name, "missing (a required parameter)");
  }

  int integer(std::string_view name, int fallback, int min, int max) const {
    const std::string* v = get(name);
    return v ? d_.takeInt(name, *v, min, max) : fallback;
  }

 private:
  std::size_t index(std::string_view name) const {
    std::size_t i = 0;
    while (i < names_.size() && names_[i] != name) ++i;
    return i;
  }

  std::string list(std::size_t positional = SIZE_MAX) const {
    std::string out;
    for (std::size_t i = 0; i < names_.size(); ++i) {
      if (!out.empty()) out += ", ";
      out += i < positional ? names_[i] : names_[i] + "=";
    }
    return out;
  }

  const EndpointDescription& d_;
  std::vector<std::string> names_;
  std::vector<std::optional<std::string>> values_;
};

constexpr int kMaxPort = 65535;

double takeTimeout(const EndpointDescription& d, const std::string* value) {
  if (!value) return 30;
  const double t = d.takeFloat("timeout", *value);
  if (t < 0) throw d.badValue("timeout", "expected a number of seconds >= 0");
  return t;
}

std::shared_ptr<IStreamServerEndpoint> parseTCPServer(ReactorBase& reactor,
                                                      const EndpointDescription& d) {
  Parameters p(d, {"port", "interface", "backlog"});
  const int port = d.takeInt("port", p.required("port"), 0, kMaxPort);
  const std::string* interface = p.get("interface");
  return std::make_shared<TCP4ServerEndpoint>(reactor, port, p.integer("backlog", 50, 0, INT_MAX),
                                              interface ? *interface : "");
}

std::shared_ptr<IStreamServerEndpoint> parseTCP6Server(ReactorBase& reactor,
                                                       const EndpointDescription& d) {
  Parameters p(d, {"port", "backlog", "interface"});
  const int port = d.takeInt("port", p.required("port"), 0, kMaxPort);
  const std::string* interface = p.get("interface");
  return std::make_shared<TCP6ServerEndpoint>(reactor, port, p.integer("backlog", 50, 0, INT_MAX),
                                              interface ? *interface : "::");
}

std::shared_ptr<IStreamServerEndpoint> parseUNIXServer(ReactorBase& reactor,
                                                       const EndpointDescription& d) {
  Parameters p(d, {"address", "mode", "backlog", "lockfile"});
  int mode = 0666;
  if (const std::string* m = p.get("mode")) {
    const unsigned bits = d.takeOctal("mode", *m);
    if (bits > 07777) throw d.badValue("mode", "expected permission bits (at most 7777)");
    mode = static_cast<int>(bits);
  }
  const std::string* lockfile = p.get("lockfile");
  return std::make_shared<UNIXServerEndpoint>(reactor, p.required("address"),
                                              p.integer("backlog", 50, 0, INT_MAX), mode,
                                              lockfile ? d.takeBool("lockfile", *lockfile) : true);
}

// Twisted's _parseClientTCP: two positionals are host and port; one fills whichever of host
// and port was not given by keyword.
std::shared_ptr<IStreamClientEndpoint> parseTCPClient(ReactorBase& reactor,
                                                      const EndpointDescription& d) {
  EndpointDescription named = d;
  if (d.args.size() == 1 && d.kwarg("host")) {
    named.args.clear();
    named.kwargs.emplace_back("port", d.args.front());  // a "port=" too: given twice
  }
  Parameters p(named, {"host", "port", "timeout", "bindAddress"}, 2);
  const std::string& host = p.required("host");
  const int port = d.takeInt("port", p.required("port"), 0, kMaxPort);
  std::optional<BindAddress> bindAddress;
  if (const std::string* b = p.get("bindAddress")) bindAddress = BindAddress{*b, 0};
  return std::make_shared<TCP4ClientEndpoint>(reactor, host, port, takeTimeout(d, p.get("timeout")),
                                              std::move(bindAddress));
}

std::shared_ptr<IStreamClientEndpoint> parseUNIXClient(ReactorBase& reactor,
                                                       const EndpointDescription& d) {
  Parameters p(d, {"path", "lockfile", "timeout"}, 1);
  const std::string* lockfile = p.get("lockfile");
  return std::make_shared<UNIXClientEndpoint>(reactor, p.required("path"),
                                              takeTimeout(d, p.get("timeout")),
                                              lockfile && d.takeBool("lockfile", *lockfile));
}

[[noreturn]] void unknownType(const EndpointDescription& d) {
  throw EndpointSyntaxError(d.description, "Unknown endpoint type: '" + d.type + "'");
}

}  // namespace

void registerBuiltinParsers(Registry& registry) {
  registry.addServerParser({"tcp", "TCP over IPv4: tcp:PORT[:interface=][:backlog=50]",
                            parseTCPServer, /*exactCase=*/true});
  registry.addServerParser({"tcp6", "TCP over IPv6: tcp6:PORT[:backlog=50][:interface=::]",
                            parseTCP6Server, /*exactCase=*/false});
  registry.addServerParser({"unix",
                            "UNIX stream socket: unix:ADDRESS[:mode=666][:backlog=50][:lockfile=1]",
                            parseUNIXServer, /*exactCase=*/true});
  registry.addClientParser(
      {"tcp", "TCP: tcp:HOST:PORT[:timeout=30][:bindAddress=IP]", parseTCPClient});
  registry.addClientParser(
      {"unix", "UNIX stream socket: unix:PATH[:lockfile=0][:timeout=30]", parseUNIXClient});
}

const Registry& builtinParsers() {
  static const Registry registry = [] {
    Registry r;
    registerBuiltinParsers(r);
    return r;
  }();
  return registry;
}

// Parses `description`, finds its type's entry with `find` and lets the entry build the endpoint.
template <class Entry>
auto parseWith(ReactorBase& reactor, std::string_view description, const Registry& registry,
               const Entry* (Registry::*find)(std::string_view) const) {
  EndpointDescription d = parseEndpointDescription(description);
  const Entry* entry = (registry.*find)(d.type);
  if (!entry) unknownType(d);
  auto endpoint = entry->parse(reactor, d);
  if (!endpoint)
    throw EndpointSyntaxError(d.description, "the '" + entry->prefix + "' parser from " +
                                                 entry->origin + " made no endpoint");
  return endpoint;
}

std::shared_ptr<IStreamServerEndpoint> serverFromString(ReactorBase& reactor,
                                                        std::string_view description,
                                                        const Registry& registry) {
  return parseWith(reactor, description, registry, &Registry::findServerParser);
}

std::shared_ptr<IStreamServerEndpoint> serverFromString(ReactorBase& reactor,
                                                        std::string_view description) {
  return serverFromString(reactor, description, builtinParsers());
}

std::shared_ptr<IStreamClientEndpoint> clientFromString(ReactorBase& reactor,
                                                        std::string_view description,
                                                        const Registry& registry) {
  return parseWith(reactor, description, registry, &Registry::findClientParser);
}

std::shared_ptr<IStreamClientEndpoint> clientFromString(ReactorBase& reactor,
                                                        std::string_view description) {
  return clientFromString(reactor, description, builtinParsers());
}

}  // namespace coil::endpoints
