#pragma once
/// @file FilesystemLock: a PID lock file for UNIX socket paths (Twisted's
/// python/lockfile.FilesystemLock: a symbolic link whose target is the holder's PID).

#include <string>

namespace coil::detail {

/// A lock held by creating the symbolic link `path` → "<pid>". A link naming a process that no
/// longer exists is stale and is broken by the next lock(). Thread: any (one owner).
class FilesystemLock {
 public:
  /// A lock on `path` (not taken yet).
  explicit FilesystemLock(std::string path) : path_(std::move(path)) {}
  /// Releases the lock if held.
  ~FilesystemLock() { unlock(); }
  FilesystemLock(const FilesystemLock&) = delete;
  FilesystemLock& operator=(const FilesystemLock&) = delete;

  /// Takes the lock for this process; false when a live process (this one included) holds it.
  /// clean() tells whether a stale lock had to be broken.
  bool lock();
  /// Removes the link if this object holds the lock.
  void unlock() noexcept;
  /// True when lock() found no stale lock to break.
  bool clean() const noexcept { return clean_; }
  /// True while this object holds the lock.
  bool locked() const noexcept { return locked_; }

 private:
  std::string path_;
  bool locked_ = false;
  bool clean_ = true;
};

/// True when `path` is a lock held by a live process (Twisted's lockfile.isLocked).
/// Thread: any.
bool isLocked(const std::string& path);

}  // namespace coil::detail
