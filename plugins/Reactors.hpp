#pragma once
/// @file Reactors: choosing a backend by name — the process's default registry (built-ins plus
/// loaded plugins), makeReactor() and NoSuchReactor (Twisted's application.reactors).
///
/// The choice, in order: an explicit name (code, or the runner's --reactor); else the
/// COIL_REACTOR environment variable, ignored when the process is setuid/setgid; else the
/// default, the first available backend in registration order.

#include <coil/core/Registry.hpp>
#include <coil/plugins/PluginLoader.hpp>

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace coil {

class ReactorBase;

/// The backend asked for is unknown or cannot run here (Twisted's NoSuchReactor). what() names
/// the choice and where it came from, says why, and lists the available backends.
class NoSuchReactor : public std::invalid_argument {
 public:
  /// `source` says where the name came from ("COIL_REACTOR"; empty for an explicit name).
  /// Thread: any.
  NoSuchReactor(std::string name, std::string reason, std::vector<std::string> available,
                std::string source = {});
  /// The name asked for (empty when no backend at all is available). Thread: any.
  const std::string& name() const noexcept { return name_; }
  /// "unknown backend", or the probe's reason it is not available. Thread: any.
  const std::string& reason() const noexcept { return reason_; }
  /// The backends that are available, in registration order. Thread: any.
  const std::vector<std::string>& available() const noexcept { return available_; }

 private:
  std::string name_;
  std::string reason_;
  std::vector<std::string> available_;
};

/// The process's registry: the built-in backends (registered once, on first use) and the
/// plugins of COIL_PLUGIN_PATH (loaded on first use; refusals are logged), plus whatever
/// defaultPluginLoader() has loaded since. Never destroyed. Thread: first use is thread-safe;
/// do not load plugins concurrently with other uses.
Registry& defaultRegistry();

/// The loader that feeds defaultRegistry() (e.g. with the runner's --plugin-dir). Thread: as
/// defaultRegistry().
plugins::PluginLoader& defaultPluginLoader();

/// COIL_REACTOR if set, non-empty and the process is not setuid/setgid. Thread: any.
std::optional<std::string> reactorFromEnvironment();

/// The entry the choice order picks in `registry`: `name` if not empty, else
/// reactorFromEnvironment(), else the first available. Throws NoSuchReactor when the chosen
/// name is unknown or its probe fails, or when nothing is available. Thread: any.
const BackendEntry& chooseBackend(const Registry& registry, std::string_view name = {});

/// A new, not yet running reactor from chooseBackend(registry, name). Throws NoSuchReactor, or
/// whatever the backend's create() throws (std::system_error). Thread: any.
std::unique_ptr<ReactorBase> makeReactor(const Registry& registry, std::string_view name);

/// makeReactor(defaultRegistry(), name). Thread: any.
std::unique_ptr<ReactorBase> makeReactor(std::string_view name = {});

/// defaultRegistry().availableBackends(): names whose probe passes; the first is the default.
/// Thread: any.
std::vector<std::string> availableReactors();

}  // namespace coil
