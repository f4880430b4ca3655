// Registry: the ordered table of backends (and later endpoint parsers and service makers).
// Tests: test/plugins/RegistryTest.cpp
#include <coil/core/Registry.hpp>

#include <stdexcept>

namespace coil {

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

}  // namespace coil
