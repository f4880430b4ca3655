#pragma once
/// @file PluginApi: the one header an out-of-tree coil plugin includes — the ABI version, the
/// host API handed to the plugin's entry point, and COIL_PLUGIN() to define that entry point.
///
/// A plugin exports exactly one symbol, `extern "C" int coil_plugin_entry(PluginHost*)`, and
/// registers backends (ABI 1) and endpoint string types (ABI 2) through PluginHost. There are
/// two kinds of plugin, chosen by how it is linked (plugins/CMakeLists.txt, coil_add_plugin):
///  - self-contained: it needs no coil symbol at link time (linked with --no-undefined). It uses
///    coil's header-only parts (BackendEntry, Multiplexer, io:: bits) and everything else comes
///    through PluginHost's function pointers (building a PosixReactor, logging). Any program
///    using coil can load it. The uring backend is one.
///  - USES_COIL: it calls coil's C++ API (Deferred, Failure, ReactorBase, endpoint classes,
///    EndpointDescription's helpers, coil::log) and leaves those symbols undefined, to be
///    resolved at dlopen() from the host executable. coil's libraries are static, and a plugin
///    linking its own copy would carry second copies of coil's globals (log observers, type
///    tags), so there is exactly one copy: the host's. Only a host linked with
///    coil_plugin_host() (it exports its symbols and links coil's libraries whole) can load
///    one; any other program refuses it, naming the missing symbol. The systemd endpoint is one.
///
/// @code
///   void registerMine(coil::plugins::Registrar& r) {
///     auto make = r.posixReactorFactory();
///     r.addBackend({"mine", "my multiplexer", [] { return std::nullopt; },
///                   [make] { return make(std::make_unique<MyMultiplexer>()); }});
///   }
///   COIL_PLUGIN(registerMine)
/// @endcode
/// What a plugin adds is staged: if any addition is refused, or the entry point fails, nothing
/// of it is committed. Plugins are never unloaded once they registered something: the registry
/// holds their code.

#include <coil/core/Multiplexer.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/core/Registry.hpp>

#include <cstdint>
#include <exception>
#include <memory>
#include <string_view>

/// The plugin ABI version. Bumped whenever PluginHost after its frozen prefix, BackendEntry,
/// the endpoint parser entries, Multiplexer, ReactorBase's layout or the compiler/standard
/// library changes incompatibly. Host and plugin must agree exactly: a plugin built for another
/// version (older or newer) is refused before it touches anything. History: 1, backends only;
/// 2, endpoint string types (addServerParser, addClientParser) and USES_COIL plugins; 3,
/// IFileDescriptor carries the reactor's bookkeeping (its layout changed).
#define COIL_PLUGIN_ABI_VERSION 3

/// The name of the one symbol a plugin exports (see PluginEntryFn).
#define COIL_PLUGIN_ENTRY_NAME "coil_plugin_entry"

namespace coil::plugins {

/// What a plugin's entry point returns.
enum PluginStatus : int {
  /// Registered; the host commits what the plugin added.
  kPluginOk = 0,
  /// Refused (ABI mismatch, or an exception); the host discards what the plugin added.
  kPluginFailed = 1,
};

/// Registers `entry` with the host (moves from *entry). Returns false when refused (the reason
/// is recorded by the host and reported for the plugin file). Thread: the loading thread.
using AddBackendFn = bool (*)(void* context, BackendEntry* entry);
/// Builds the host's PosixReactor over `multiplexer`; may throw std::system_error. Valid for
/// the life of the process: create() functions capture it. Thread: any.
using MakePosixReactorFn = std::unique_ptr<ReactorBase> (*)(std::unique_ptr<Multiplexer> mux);
/// Registers a server endpoint type with the host (moves from *entry); false when refused.
/// Thread: the loading thread.
using AddServerParserFn = bool (*)(void* context, ServerEndpointParserEntry* entry);
/// Registers a client endpoint type with the host (moves from *entry); false when refused.
/// Thread: the loading thread.
using AddClientParserFn = bool (*)(void* context, ClientEndpointParserEntry* entry);
/// Logs through the host's coil::log (level: coil::log::Level as int). Valid for the life of
/// the process. Thread: any.
using LogFn = void (*)(int level, const char* system, const char* message);
/// Records why the plugin refuses to load. Thread: the loading thread.
using SetErrorFn = void (*)(void* context, const char* message);

/// The host API a plugin's entry point receives. The struct itself lives only during the call;
/// the function pointers it carries (other than the add* ones and setError) live as long as the
/// host. Fields are only ever appended, each group under the ABI version that added it.
struct PluginHost {
  // ---- frozen prefix: plain C types whose layout never changes between ABI versions.
  /// The host's COIL_PLUGIN_ABI_VERSION.
  std::uint32_t hostAbiVersion;
  /// Out: the plugin writes its own COIL_PLUGIN_ABI_VERSION here before anything else. The host
  /// refuses the plugin when it differs from hostAbiVersion (or stays 0).
  std::uint32_t pluginAbiVersion;
  /// Opaque host state for addBackend/setError.
  void* context;
  /// Records a refusal reason.
  SetErrorFn setError;
  /// The absolute path of the file being loaded (NUL-terminated; valid during the call).
  const char* pluginPath;
  // ---- version 1
  /// Adds a backend (the host sets its origin to the plugin's absolute path).
  AddBackendFn addBackend;
  /// Builds a PosixReactor over a Multiplexer.
  MakePosixReactorFn makePosixReactor;
  /// Logs through the host.
  LogFn log;
  // ---- version 2
  /// Adds a server endpoint type (the host sets its origin to the plugin's absolute path and
  /// matches it ignoring case; a prefix taken, ignoring case, is refused).
  AddServerParserFn addServerParser;
  /// Adds a client endpoint type (same rules).
  AddClientParserFn addClientParser;
};

/// The type of the entry point `coil_plugin_entry`. Returns a PluginStatus; must not throw.
using PluginEntryFn = int (*)(PluginHost* host);

/// The C++ face of PluginHost handed to a plugin's register function. Header-only: it calls
/// the host through PluginHost's function pointers. Thread: the loading thread.
class Registrar {
 public:
  /// Wraps the host API for one entry-point call. Thread: the loading thread.
  explicit Registrar(PluginHost& host) noexcept : host_(host) {}

  /// Adds a backend; false when the host refused it (e.g. its name is taken), in which case
  /// the whole plugin is refused once the entry point returns. Thread: the loading thread.
  bool addBackend(BackendEntry entry) { return host_.addBackend(host_.context, &entry); }

  /// Adds a server endpoint type for serverFromString(); false when the host refused it (e.g.
  /// its prefix is taken), in which case the whole plugin is refused. Thread: the loading thread.
  bool addServerParser(ServerEndpointParserEntry entry) {
    return host_.addServerParser(host_.context, &entry);
  }

  /// Adds a client endpoint type for clientFromString(); as addServerParser(). Thread: the
  /// loading thread.
  bool addClientParser(ClientEndpointParserEntry entry) {
    return host_.addClientParser(host_.context, &entry);
  }

  /// The host's PosixReactor factory, to capture in create() functions. Thread: any.
  MakePosixReactorFn posixReactorFactory() const noexcept { return host_.makePosixReactor; }

  /// The host's logger, to capture where logging is needed after loading. Thread: any.
  LogFn logger() const noexcept { return host_.log; }

  /// The absolute path of the plugin being loaded. Thread: the loading thread.
  std::string_view path() const noexcept { return host_.pluginPath; }

 private:
  PluginHost& host_;
};

}  // namespace coil::plugins

/// Defines the plugin's entry point around `registerFunction(coil::plugins::Registrar&)`: it
/// declares the plugin's ABI version, refuses a host of another version without touching
/// anything, and turns exceptions into a refusal with their message.
#define COIL_PLUGIN(registerFunction)                                                           \
  extern "C" __attribute__((visibility("default"))) int coil_plugin_entry(                      \
      ::coil::plugins::PluginHost* host) {                                                      \
    host->pluginAbiVersion = COIL_PLUGIN_ABI_VERSION;                                           \
    if (host->hostAbiVersion != COIL_PLUGIN_ABI_VERSION) return ::coil::plugins::kPluginFailed; \
    try {                                                                                       \
      ::coil::plugins::Registrar registrar(*host);                                              \
      registerFunction(registrar);                                                              \
      return ::coil::plugins::kPluginOk;                                                        \
    } catch (const std::exception& e) {                                                         \
      host->setError(host->context, e.what());                                                  \
    } catch (...) {                                                                             \
      host->setError(host->context, "unknown exception");                                       \
    }                                                                                           \
    return ::coil::plugins::kPluginFailed;                                                      \
  }
