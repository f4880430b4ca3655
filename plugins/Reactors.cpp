// Reactors: the default registry and the choice of a backend (explicit, COIL_REACTOR, default).
// Tests: test/plugins/ReactorsTest.cpp
#include <coil/plugins/Reactors.hpp>

#include <coil/backends/Backends.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/transports/endpoints/StringEndpoints.hpp>

#include <cstdlib>

namespace coil {

namespace {

std::string describe(const std::string& name, const std::string& reason,
                     const std::vector<std::string>& available, const std::string& source) {
  std::string text = name.empty() ? "no reactor available" : "no such reactor '" + name + "'";
  if (!source.empty()) text += " (from " + source + ")";
  text += ": " + reason + " (available:";
  if (available.empty()) text += " none";
  for (std::size_t i = 0; i < available.size(); ++i) text += (i ? ", " : " ") + available[i];
  return text + ")";
}

struct Defaults {
  Registry registry;
  plugins::PluginLoader loader{registry};
  Defaults() {
    registerBuiltins(registry);
    endpoints::registerBuiltinParsers(registry);
    loader.loadSearchPath();
  }
};

// Never destroyed: registry entries hold code of plugins, and reactors may be made during
// static teardown.
Defaults& defaults() {
  static Defaults* d = new Defaults;
  return *d;
}

}  // namespace

NoSuchReactor::NoSuchReactor(std::string name, std::string reason,
                             std::vector<std::string> available, std::string source)
    : std::invalid_argument(describe(name, reason, available, source)),
      name_(std::move(name)),
      reason_(std::move(reason)),
      available_(std::move(available)) {}

Registry& defaultRegistry() {
  return defaults().registry;
}

plugins::PluginLoader& defaultPluginLoader() {
  return defaults().loader;
}

std::optional<std::string> reactorFromEnvironment() {
  const char* value = std::getenv("COIL_REACTOR");
  if (!value || !*value || plugins::isSecureProcess()) return std::nullopt;
  return std::string(value);
}

const BackendEntry& chooseBackend(const Registry& registry, std::string_view name) {
  std::string chosen(name);
  std::string source;
  if (chosen.empty()) {
    if (auto env = reactorFromEnvironment()) {
      chosen = std::move(*env);
      source = "COIL_REACTOR";
    }
  }
  if (chosen.empty()) {
    auto available = registry.availableBackends();
    if (available.empty()) {
      std::string why = "every backend's probe failed";
      for (const auto& b : registry.backends())
        if (b.probe)
          if (auto reason = b.probe()) why += "; " + b.name + ": " + *reason;
      if (registry.backends().empty()) why = "no backend is registered";
      throw NoSuchReactor({}, why, {});
    }
    return *registry.findBackend(available.front());
  }
  const BackendEntry* entry = registry.findBackend(chosen);
  if (!entry) throw NoSuchReactor(chosen, "unknown backend", registry.availableBackends(), source);
  if (entry->probe)
    if (auto reason = entry->probe())
      throw NoSuchReactor(chosen, "not available here: " + *reason, registry.availableBackends(),
                          source);
  return *entry;
}

std::unique_ptr<ReactorBase> makeReactor(const Registry& registry, std::string_view name) {
  const BackendEntry& entry = chooseBackend(registry, name);
  std::unique_ptr<ReactorBase> reactor = entry.create();
  if (!reactor) throw std::runtime_error("backend '" + entry.name + "' made no reactor");
  return reactor;
}

std::unique_ptr<ReactorBase> makeReactor(std::string_view name) {
  return makeReactor(defaultRegistry(), name);
}

std::vector<std::string> availableReactors() {
  return defaultRegistry().availableBackends();
}

}  // namespace coil
