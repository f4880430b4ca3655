#pragma once
/// @file PluginTesting: helpers for the plugin tests — fake backends, environment guards,
/// scratch directories.

#include <coil/core/ReactorBase.hpp>
#include <coil/core/Registry.hpp>

#include <unistd.h>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

namespace coil::test {

/// A backend that is never created; `reason` makes its probe fail.
inline BackendEntry fakeBackend(std::string name, std::optional<std::string> reason = {},
                                std::string origin = "built-in") {
  return {std::move(name), "fake", [reason] { return reason; },
          [] { return std::unique_ptr<ReactorBase>(); }, std::move(origin)};
}

/// Sets (or unsets, with nullopt) an environment variable for its lifetime.
class EnvGuard {
 public:
  /// Sets `name` to `value`, remembering the old value.
  EnvGuard(std::string name, std::optional<std::string> value) : name_(std::move(name)) {
    if (const char* old = std::getenv(name_.c_str())) old_ = old;
    if (value)
      ::setenv(name_.c_str(), value->c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }
  /// Restores the old value.
  ~EnvGuard() {
    if (old_)
      ::setenv(name_.c_str(), old_->c_str(), 1);
    else
      ::unsetenv(name_.c_str());
  }
  EnvGuard(const EnvGuard&) = delete;
  EnvGuard& operator=(const EnvGuard&) = delete;

 private:
  std::string name_;
  std::optional<std::string> old_;
};

/// A fresh directory under the temporary directory, removed with its contents at the end.
class ScratchDir {
 public:
  /// Creates it.
  ScratchDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "coil-plugins-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  /// Removes it.
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  /// Its path.
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

}  // namespace coil::test
