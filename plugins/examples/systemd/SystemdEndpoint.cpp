// SystemdEndpoint: the `systemd:` server endpoint parser and its endpoint.
// Tests: test/plugins/SystemdEndpointTest.cpp
#include <coil/plugins/examples/systemd/SystemdEndpoint.hpp>

#include <coil/core/Log.hpp>

#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <optional>
#include <variant>

namespace coil::systemd {

namespace {

using endpoints::EndpointDescription;
using endpoints::EndpointSyntaxError;

constexpr std::string_view kSystem = "coil.systemd";

// Twisted's _parseServer(reactor, domain, index=None, name=None): positional or keyword.
constexpr std::array<std::string_view, 3> kParameters = {"domain", "index", "name"};

struct Arguments {
  std::optional<std::string> domain, index, name;

  std::optional<std::string>& operator[](std::size_t i) {
    return i == 0 ? domain : i == 1 ? index : name;
  }
};

Arguments bind(const EndpointDescription& d) {
  Arguments out;
  if (d.args.size() > kParameters.size())
    throw EndpointSyntaxError(d.description, "too many positional parameters for '" + d.type +
                                                 "' (it takes domain, index, name)");
  for (std::size_t i = 0; i < d.args.size(); ++i) out[i] = d.args[i];
  for (const auto& [key, value] : d.kwargs) {
    std::size_t i = 0;
    while (i < kParameters.size() && kParameters[i] != key) ++i;
    if (i == kParameters.size())
      throw d.badValue(key, "unknown parameter (" + d.type + " takes domain, index, name)");
    if (out[i]) throw d.badValue(key, "given both by position and by keyword");
    out[i] = value;
  }
  return out;
}

struct Family {
  std::string_view domain;
  int value;
  std::string_view name;
};

constexpr std::array<Family, 3> kFamilies = {{
    {"INET", AF_INET, "AF_INET"},
    {"INET6", AF_INET6, "AF_INET6"},
    {"UNIX", AF_UNIX, "AF_UNIX"},
}};

std::string familyName(int family) {
  for (const auto& f : kFamilies)
    if (f.value == family) return std::string(f.name);
  return "family " + std::to_string(family);
}

const Family& takeDomain(const EndpointDescription& d, const std::optional<std::string>& domain) {
  if (!domain) throw d.badValue("domain", "missing (a required parameter)");
  for (const auto& f : kFamilies)
    if (f.domain == *domain) return f;
  throw d.badValue("domain", "expected INET, INET6 or UNIX");
}

// The inherited descriptor that index= or name= selects, and its label for the log.
std::pair<int, std::string> select(const EndpointDescription& d, const Arguments& a,
                                   const ListenFDs& inherited) {
  if (a.index && a.name) throw d.badValue("name", "give either index= or name=, not both");
  if (!a.index && !a.name) throw d.badValue("index", "missing (give index= or name=)");
  const auto& fds = inherited.descriptors();
  if (a.index) {
    const int index = d.takeInt("index", *a.index);
    if (fds.empty())
      throw d.badValue("index", "no descriptor inherited at index " + std::to_string(index) + ": " +
                                    inherited.whyNoDescriptors());
    if (index < 0 || static_cast<std::size_t>(index) >= fds.size())
      throw d.badValue("index", "no descriptor inherited at index " + std::to_string(index) +
                                    " (LISTEN_FDS passed " + std::to_string(fds.size()) +
                                    ": indexes 0 to " + std::to_string(fds.size() - 1) + ")");
    const int fd = fds[static_cast<std::size_t>(index)];
    return {fd, "descriptor " + std::to_string(fd) + " (index " + *a.index + ")"};
  }
  if (std::optional<int> fd = inherited.byName(*a.name))
    return {*fd, "descriptor " + std::to_string(*fd) + " ('" + *a.name + "')"};
  std::string why = inherited.names().empty() ? inherited.whyNoNames() : "LISTEN_FDNAMES has ";
  for (std::size_t i = 0; i < inherited.names().size(); ++i)
    why += (i ? ", '" : "'") + inherited.names()[i] + "'";
  throw d.badValue("name", "no descriptor inherited with name '" + *a.name + "': " + why);
}

// Checks that `fd` is a stream socket of `family`; `selector` is the parameter that chose it.
void checkSocket(const EndpointDescription& d, int fd, const Family& family,
                 std::string_view selector) {
  int value = 0;
  socklen_t size = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_TYPE, &value, &size) != 0)
    throw d.badValue(selector, "descriptor " + std::to_string(fd) + " is not a socket (" +
                                   std::strerror(errno) + ")");
  if (value != SOCK_STREAM)
    throw d.badValue(selector, "descriptor " + std::to_string(fd) + " is not a stream socket");
  size = sizeof value;
  if (::getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &value, &size) != 0 || value != family.value)
    throw d.badValue("domain", "descriptor " + std::to_string(fd) + " is an " + familyName(value) +
                                   " socket, not " + std::string(family.name));
}

std::string describeAddress(const Address& address) {
  return std::visit([](const auto& a) { return toString(a); }, address);
}

}  // namespace

SystemdServerEndpoint::SystemdServerEndpoint(ReactorBase& reactor, int fd, int addressFamily,
                                             std::string label)
    : AdoptedStreamServerEndpoint(reactor, fd, addressFamily), label_(std::move(label)) {}

Deferred<std::shared_ptr<IListeningPort>> SystemdServerEndpoint::listen(
    std::shared_ptr<Factory> factory) {
  // systemd passes blocking sockets (unless NonBlocking=yes): AdoptedStreamServerEndpoint
  // makes the descriptor non-blocking before adopting it, as Twisted's does.
  // The chain is made by the host's AdoptedStreamServerEndpoint and extended here: it works
  // only because this plugin shares the host's Deferred type tags (see PluginApi.hpp).
  return AdoptedStreamServerEndpoint::listen(std::move(factory))
      .addCallback([label = label_](std::shared_ptr<IListeningPort> port) {
        log::info(kSystem, "listening on " + label + ": " + describeAddress(port->getHost()));
        return port;
      });
}

std::shared_ptr<endpoints::IStreamServerEndpoint> parseSystemdServer(
    ReactorBase& reactor, const EndpointDescription& description, const ListenFDs& inherited) {
  const Arguments arguments = bind(description);
  const Family& family = takeDomain(description, arguments.domain);
  auto [fd, label] = select(description, arguments, inherited);
  checkSocket(description, fd, family, arguments.index ? "index" : "name");
  return std::make_shared<SystemdServerEndpoint>(reactor, fd, family.value, std::move(label));
}

}  // namespace coil::systemd
