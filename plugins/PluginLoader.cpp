// PluginLoader: dlopen()s plugin files, checks their ABI and commits what they register.
// Tests: test/plugins/LoaderTest.cpp
#include <coil/plugins/PluginLoader.hpp>

#include <coil/backends/PosixReactor.hpp>
#include <coil/core/Log.hpp>
#include <coil/plugins/PluginApi.hpp>

#include <cxxabi.h>
#include <dlfcn.h>
#include <sys/auxv.h>

#include <algorithm>
#include <cstdlib>
#include <exception>
#include <memory>
#include <system_error>

namespace coil::plugins {

namespace {

constexpr std::string_view kSystem = "coil.plugins";

/// What the host functions handed to one entry-point call work on.
struct LoadContext {
  Registry* registry;
  std::string path;
  std::vector<BackendEntry> staged;
  std::vector<ServerEndpointParserEntry> stagedServers;
  std::vector<ClientEndpointParserEntry> stagedClients;
  std::vector<std::string> errors;
};

void hostSetError(void* context, const char* message) {
  static_cast<LoadContext*>(context)->errors.emplace_back(message ? message : "(no message)");
}

bool hostAddBackend(void* context, BackendEntry* entry) {
  auto& ctx = *static_cast<LoadContext*>(context);
  try {
    entry->origin = ctx.path;
    if (entry->name.empty()) {
      ctx.errors.push_back("it registers a backend with no name");
    } else if (!entry->create) {
      ctx.errors.push_back("backend '" + entry->name + "' has no create()");
    } else if (const BackendEntry* taken = ctx.registry->findBackend(entry->name)) {
      ctx.errors.push_back("backend name '" + entry->name + "' is already taken by " +
                           taken->origin);
    } else if (std::any_of(ctx.staged.begin(), ctx.staged.end(),
                           [&](const BackendEntry& b) { return b.name == entry->name; })) {
      ctx.errors.push_back("it registers backend '" + entry->name + "' twice");
    } else {
      ctx.staged.push_back(std::move(*entry));
      return true;
    }
  } catch (const std::exception& e) {
    ctx.errors.emplace_back(e.what());
  }
  return false;
}

// Stages an endpoint type (`kind` is "server" or "client") under the same rules as backends.
template <class Entry>
bool stageParser(LoadContext& ctx, Entry* entry, const std::vector<Entry>& registered,
                 std::vector<Entry>& staged, const char* kind) {
  try {
    entry->origin = ctx.path;
    const std::string what = std::string(kind) + " endpoint type '" + entry->prefix + "'";
    if (entry->prefix.empty()) {
      ctx.errors.push_back(std::string("it registers a ") + kind + " endpoint type with no prefix");
    } else if (!entry->parse) {
      ctx.errors.push_back(what + " has no parse()");
    } else if (const Entry* taken = findEndpointType(registered, entry->prefix)) {
      ctx.errors.push_back(what + " is already taken by '" + taken->prefix + "' from " +
                           taken->origin);
    } else if (findEndpointType(staged, entry->prefix)) {
      ctx.errors.push_back("it registers " + what + " twice");
    } else {
      staged.push_back(std::move(*entry));
      return true;
    }
  } catch (const std::exception& e) {
    ctx.errors.emplace_back(e.what());
  }
  return false;
}

bool hostAddServerParser(void* context, ServerEndpointParserEntry* entry) {
  auto& ctx = *static_cast<LoadContext*>(context);
  entry->exactCase = false;  // Twisted matches plugin server types ignoring case
  return stageParser(ctx, entry, ctx.registry->serverParsers(), ctx.stagedServers, "server");
}

bool hostAddClientParser(void* context, ClientEndpointParserEntry* entry) {
  auto& ctx = *static_cast<LoadContext*>(context);
  return stageParser(ctx, entry, ctx.registry->clientParsers(), ctx.stagedClients, "client");
}

std::unique_ptr<ReactorBase> hostMakePosixReactor(std::unique_ptr<Multiplexer> mux) {
  return std::make_unique<PosixReactor>(std::move(mux));
}

void hostLog(int level, const char* system, const char* message) {
  int clamped = std::clamp(level, static_cast<int>(log::Level::debug),
                           static_cast<int>(log::Level::critical));
  log::emit(static_cast<log::Level>(clamped), system ? system : "plugin", message ? message : "");
}

std::string joined(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& p : parts) {
    if (!out.empty()) out += separator;
    out += p;
  }
  return out;
}

// dlopen()'s error, and for a missing symbol the symbol demangled and what to do about it.
std::string explainDlopenFailure(const char* why) {
  std::string text = std::string("dlopen failed: ") + (why ? why : "unknown error");
  constexpr std::string_view kUndefined = "undefined symbol: ";
  const std::size_t at = text.find(kUndefined);
  if (at == std::string::npos) return text;
  std::string symbol = text.substr(at + kUndefined.size());
  symbol = symbol.substr(0, symbol.find_first_of(", \t"));  // glibc may add ", version X"
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> demangled(
      abi::__cxa_demangle(symbol.c_str(), nullptr, nullptr, &status), &std::free);
  if (status == 0 && demangled) text += std::string(" (") + demangled.get() + ")";
  text += hostExportsCoil()
              ? "; this program exports coil's symbols but not that one: the plugin was built "
                "against another version of coil, or this program is not linked with "
                "coil_plugin_host() (which links coil's libraries whole)"
              : "; this program does not export coil's symbols: a plugin built USES_COIL loads "
                "only into a program linked with coil_plugin_host()";
  return text;
}

}  // namespace

// The marker hostExportsCoil() looks up: visible to dlsym(RTLD_DEFAULT) only when the program
// exports its symbols.
extern "C" __attribute__((visibility("default"), used)) const int coil_plugin_host_marker = 2;

bool hostExportsCoil() noexcept {
  return ::dlsym(RTLD_DEFAULT, "coil_plugin_host_marker") != nullptr;
}

bool isSecureProcess() noexcept {
  return ::getauxval(AT_SECURE) != 0;
}

std::vector<std::filesystem::path> pluginSearchPath() {
  std::vector<std::filesystem::path> dirs;
  const char* value = std::getenv("COIL_PLUGIN_PATH");
  if (value && !isSecureProcess()) {
    std::string_view rest = value;
    while (!rest.empty()) {
      std::size_t colon = rest.find(':');
      std::string_view entry = rest.substr(0, colon);
      if (!entry.empty()) dirs.emplace_back(entry);
      if (colon == std::string_view::npos) break;
      rest.remove_prefix(colon + 1);
    }
  }
#ifdef COIL_DEFAULT_PLUGIN_DIR
  // The directory coil's own plugins were built into: trusted, so searched even when setuid.
  std::error_code ec;
  std::filesystem::path builtIn(COIL_DEFAULT_PLUGIN_DIR);
  if (std::filesystem::is_directory(builtIn, ec) &&
      std::find(dirs.begin(), dirs.end(), builtIn) == dirs.end()) {
    dirs.push_back(builtIn);
  }
#endif
  return dirs;
}

LoadResult PluginLoader::record(LoadResult result) {
  if (!result.ok) {
    log::warn(kSystem, "plugin " + result.file.string() + " refused: " + result.message);
  } else {
    log::debug(kSystem, "plugin " + result.file.string() + ": " + result.message);
  }
  results_.push_back(result);
  return result;
}

LoadResult PluginLoader::refuse(const std::filesystem::path& file, std::string message) {
  LoadResult result;
  result.file = file;
  result.message = std::move(message);
  return record(std::move(result));
}

LoadResult PluginLoader::loadFile(const std::filesystem::path& file) {
  std::error_code ec;
  std::filesystem::path canonical = std::filesystem::weakly_canonical(file, ec);
  if (ec) canonical = file;
  if (loaded_.count(canonical)) {
    LoadResult again;
    again.file = file;
    again.ok = true;
    again.message = "already loaded";
    return record(std::move(again));
  }

  // A name with no slash would make dlopen search the library path: always pass a path.
  std::string path = file.has_parent_path() ? file.string() : "./" + file.string();
  ::dlerror();
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    return refuse(file, explainDlopenFailure(::dlerror()));
  }
  auto entry = reinterpret_cast<PluginEntryFn>(::dlsym(handle, COIL_PLUGIN_ENTRY_NAME));
  if (!entry) {
    ::dlclose(handle);
    return refuse(file, "no entry point " COIL_PLUGIN_ENTRY_NAME "()");
  }

  std::filesystem::path absolute = std::filesystem::absolute(file, ec);
  LoadContext ctx{&registry_, (ec ? file : absolute).string(), {}, {}, {}, {}};
  PluginHost host{};
  host.hostAbiVersion = COIL_PLUGIN_ABI_VERSION;
  host.pluginAbiVersion = 0;
  host.context = &ctx;
  host.setError = &hostSetError;
  host.pluginPath = ctx.path.c_str();
  host.addBackend = &hostAddBackend;
  host.makePosixReactor = &hostMakePosixReactor;
  host.log = &hostLog;
  host.addServerParser = &hostAddServerParser;
  host.addClientParser = &hostAddClientParser;

  int status = kPluginFailed;
  try {
    status = entry(&host);
  } catch (const std::exception& e) {
    ctx.errors.push_back(std::string("the entry point threw: ") + e.what());
  } catch (...) {
    ctx.errors.push_back("the entry point threw");
  }

  std::string refusal;
  if (host.pluginAbiVersion != COIL_PLUGIN_ABI_VERSION) {
    refusal = host.pluginAbiVersion == 0
                  ? "the entry point did not declare its ABI version"
                  : "ABI version mismatch: plugin built for ABI " +
                        std::to_string(host.pluginAbiVersion) + ", host has ABI " +
                        std::to_string(COIL_PLUGIN_ABI_VERSION);
  } else if (!ctx.errors.empty()) {
    refusal = joined(ctx.errors, "; ");
  } else if (status != kPluginOk) {
    refusal = "the entry point failed (status " + std::to_string(status) + ")";
  }
  if (!refusal.empty()) {
    // Their code lives in the library: destroy them before unloading it.
    ctx.staged.clear();
    ctx.stagedServers.clear();
    ctx.stagedClients.clear();
    ::dlclose(handle);
    return refuse(file, refusal);
  }

  // Nothing can clash any more: every name was checked against the registry when staged.
  LoadResult result;
  result.file = file;
  result.ok = true;
  for (auto& backend : ctx.staged) {
    result.backends.push_back(backend.name);
    registry_.addBackend(std::move(backend));
  }
  for (auto& parser : ctx.stagedServers) {
    result.serverParsers.push_back(parser.prefix);
    registry_.addServerParser(std::move(parser));
  }
  for (auto& parser : ctx.stagedClients) {
    result.clientParsers.push_back(parser.prefix);
    registry_.addClientParser(std::move(parser));
  }
  loaded_.insert(canonical);
  std::vector<std::string> what;
  if (!result.backends.empty())
    what.push_back("registered backends: " + joined(result.backends, ", "));
  if (!result.serverParsers.empty())
    what.push_back("registered server endpoint types: " + joined(result.serverParsers, ", "));
  if (!result.clientParsers.empty())
    what.push_back("registered client endpoint types: " + joined(result.clientParsers, ", "));
  result.message = what.empty() ? "registered nothing" : joined(what, "; ");
  return record(std::move(result));
}

std::vector<LoadResult> PluginLoader::loadDirectory(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  std::filesystem::directory_iterator it(dir, ec);
  for (; !ec && it != std::filesystem::directory_iterator(); it.increment(ec)) {
    const auto& p = it->path();
    std::error_code typeEc;
    if (p.extension() == ".so" && !std::filesystem::is_directory(p, typeEc)) files.push_back(p);
  }
  if (ec) return {refuse(dir, "cannot read plugin directory: " + ec.message())};
  std::sort(files.begin(), files.end());
  std::vector<LoadResult> results;
  for (const auto& f : files) results.push_back(loadFile(f));
  return results;
}

std::vector<LoadResult> PluginLoader::loadDirectories(
    const std::vector<std::filesystem::path>& dirs) {
  std::vector<LoadResult> results;
  for (const auto& d : dirs) {
    auto some = loadDirectory(d);
    results.insert(results.end(), some.begin(), some.end());
  }
  return results;
}

std::vector<LoadResult> PluginLoader::loadSearchPath() {
  std::vector<LoadResult> results;
  for (const auto& d : pluginSearchPath()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(d, ec)) continue;
    auto some = loadDirectory(d);
    results.insert(results.end(), some.begin(), some.end());
  }
  return results;
}

}  // namespace coil::plugins
