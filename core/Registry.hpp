#pragma once
/// @file Registry: the one table through which coil finds backends (and, later, endpoint parsers
/// and service makers), whether built in or loaded from a plugin.
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

/// An ordered table of what coil can be configured with. Thread: any thread, but not
/// concurrently with changes (fill it at startup).
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

 private:
  std::vector<BackendEntry> backends_;
};

}  // namespace coil
