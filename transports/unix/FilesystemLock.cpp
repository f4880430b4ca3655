// FilesystemLock: PID lock files for UNIX socket paths.
// Tests: test/transports/stream/UNIXTest.cpp
#include <coil/transports/unix/FilesystemLock.hpp>

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <optional>

namespace coil::detail {

namespace {

// The PID a lock link names, or nullopt when there is no link (or it is not a number).
std::optional<long> holder(const std::string& path, bool& exists) {
  char target[32];
  ssize_t n = ::readlink(path.c_str(), target, sizeof target - 1);
  exists = n >= 0 || errno != ENOENT;
  if (n <= 0) return std::nullopt;
  long pid = 0;
  auto [end, ec] = std::from_chars(target, target + n, pid);
  if (ec != std::errc() || end != target + n || pid <= 0) return std::nullopt;
  return pid;
}

bool alive(long pid) {
  return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

}  // namespace

bool FilesystemLock::lock() {
  clean_ = true;
  std::string self = std::to_string(::getpid());
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (::symlink(self.c_str(), path_.c_str()) == 0) {
      locked_ = true;
      return true;
    }
    if (errno != EEXIST) return false;
    bool exists = false;
    std::optional<long> pid = holder(path_, exists);
    if (!exists) continue;  // released meanwhile: try again
    if (pid && alive(*pid)) return false;
    // Stale (dead holder or garbage): break it.
    if (::unlink(path_.c_str()) != 0 && errno != ENOENT) return false;
    clean_ = false;
  }
  return false;
}

void FilesystemLock::unlock() noexcept {
  if (!locked_) return;
  locked_ = false;
  ::unlink(path_.c_str());
}

bool isLocked(const std::string& path) {
  bool exists = false;
  std::optional<long> pid = holder(path, exists);
  return pid && alive(*pid);
}

}  // namespace coil::detail
