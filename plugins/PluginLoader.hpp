#pragma once
/// @file PluginLoader: loads out-of-tree plugins (shared libraries exporting coil_plugin_entry,
/// see PluginApi.hpp) into a Registry, from explicit directories and from COIL_PLUGIN_PATH.
///
/// Every `*.so` of a directory is loaded, in name order, with dlopen(RTLD_NOW | RTLD_LOCAL).
/// A plugin is refused — with a result naming the file and the reason, and a warning in the
/// log, never an abort — when dlopen fails (dlerror()'s text; for a USES_COIL plugin in a host
/// that lacks a coil symbol, the symbol, demangled, and what to do), the entry point is
/// missing, its ABI version is not the host's, it reports an error, or a backend name or
/// endpoint type it registers is already taken. What a plugin registers is staged and committed
/// only if the whole plugin is accepted. Accepted plugins are never unloaded (the registry
/// holds their code).

#include <coil/core/Registry.hpp>

#include <filesystem>
#include <set>
#include <string>
#include <vector>

namespace coil::plugins {

/// What happened to one plugin file (or to a directory that could not be read).
struct LoadResult {
  /// The file (or directory) concerned.
  std::filesystem::path file;
  /// True when the plugin was accepted (or had already been loaded).
  bool ok = false;
  /// Why it was refused, or what it registered ("registered backends: uring", "registered
  /// server endpoint types: systemd", joined by "; ").
  std::string message;
  /// The backends it registered.
  std::vector<std::string> backends;
  /// The server endpoint types it registered.
  std::vector<std::string> serverParsers;
  /// The client endpoint types it registered.
  std::vector<std::string> clientParsers;
};

/// True when the process runs setuid/setgid or with other elevated privileges
/// (getauxval(AT_SECURE)): environment variables such as COIL_PLUGIN_PATH and COIL_REACTOR are
/// then ignored. Thread: any.
bool isSecureProcess() noexcept;

/// True when this program exports coil's symbols to plugins (it was linked with
/// coil_plugin_host(), see plugins/CMakeLists.txt), so that it can load USES_COIL plugins.
/// Thread: any.
bool hostExportsCoil() noexcept;

/// The directories of COIL_PLUGIN_PATH (colon-separated, empty entries dropped), or nothing
/// when the variable is unset or isSecureProcess(). Thread: any.
std::vector<std::filesystem::path> pluginSearchPath();

/// Loads plugins into one registry, remembering which files it loaded. Thread: not thread-safe;
/// use it at startup, before reactors are made from the registry.
class PluginLoader {
 public:
  /// A loader adding to `registry`, which must outlive it. Thread: startup.
  explicit PluginLoader(Registry& registry) noexcept : registry_(registry) {}

  /// Loads one shared library. A file already loaded by this loader is not loaded again (ok,
  /// "already loaded"). Thread: startup.
  LoadResult loadFile(const std::filesystem::path& file);

  /// Loads every `*.so` in `dir`, sorted by name. An unreadable directory gives one failed
  /// result for the directory itself. Thread: startup.
  std::vector<LoadResult> loadDirectory(const std::filesystem::path& dir);

  /// loadDirectory() on each of `dirs`, in order. Thread: startup.
  std::vector<LoadResult> loadDirectories(const std::vector<std::filesystem::path>& dirs);

  /// Loads the directories of pluginSearchPath(); missing directories are skipped silently.
  /// Thread: startup.
  std::vector<LoadResult> loadSearchPath();

  /// Every result so far, in load order. Thread: startup.
  const std::vector<LoadResult>& results() const noexcept { return results_; }

 private:
  LoadResult record(LoadResult result);
  LoadResult refuse(const std::filesystem::path& file, std::string message);

  Registry& registry_;
  std::set<std::filesystem::path> loaded_;  // canonical paths of accepted plugins
  std::vector<LoadResult> results_;
};

}  // namespace coil::plugins
