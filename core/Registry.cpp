// Registry: the ordered table of backends and endpoint parsers (later also service makers).
// Tests: test/plugins/RegistryTest.cpp
#include <coil/core/Registry.hpp>

#include <stdexcept>

namespace coil {

bool sameEndpointType(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
    if (lower(a[i]) != lower(b[i])) return false;
  }
  return true;
}

namespace {

template <class Entry>
void checkParser(const Entry& entry, const Entry* taken, const char* kind) {
  if (entry.prefix.empty())
    throw std::invalid_argument(std::string("a ") + kind + " needs a prefix");
  if (!entry.parse)
    throw std::invalid_argument(std::string(kind) + " '" + entry.prefix + "' has no parse()");
  if (taken) {
    throw std::invalid_argument(std::string(kind) + " prefix '" + entry.prefix + "' from " +
                                entry.origin + " is already taken by '" + taken->prefix +
                                "' from " + taken->origin);
  }
}

}  // namespace

void Registry::addBackend(BackendEntry entry) {
  if (entry.name.empty()) throw std::invalid_argument("a backend needs a name");
  if (!entry.create) throw std::invalid_argument("backend '" + entry.name + "' has no create()");
  if (const BackendEntry* taken = findBackend(entry.name)) {
    throw std::invalid_argument("backend name '" + entry.name + "' from " + entry.origin +
                                " is already taken by " + taken->origin);
  }
  backends_.push_back(std::move(entry));
}

const BackendEntry* Registry::findBackend(std::string_view name) const noexcept {
  for (const auto& b : backends_)
    if (b.name == name) return &b;
  return nullptr;
}

std::vector<std::string> Registry::availableBackends() const {
  std::vector<std::string> out;
  for (const auto& b : backends_)
    if (!b.probe || !b.probe()) out.push_back(b.name);
  return out;
}

void Registry::addServerParser(ServerEndpointParserEntry entry) {
  checkParser(entry, findEndpointType(serverParsers_, entry.prefix), "server endpoint parser");
  serverParsers_.push_back(std::move(entry));
}

const ServerEndpointParserEntry* Registry::findServerParser(std::string_view type) const noexcept {
  for (const auto& e : serverParsers_)
    if (e.exactCase ? e.prefix == type : sameEndpointType(e.prefix, type)) return &e;
  return nullptr;
}

void Registry::addClientParser(ClientEndpointParserEntry entry) {
  checkParser(entry, findEndpointType(clientParsers_, entry.prefix), "client endpoint parser");
  clientParsers_.push_back(std::move(entry));
}

const ClientEndpointParserEntry* Registry::findClientParser(std::string_view type) const noexcept {
  return findEndpointType(clientParsers_, type);
}

}  // namespace coil
