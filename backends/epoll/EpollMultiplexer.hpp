#pragma once
/// @file EpollMultiplexer: Linux epoll(7), level-triggered (Twisted's epollreactor).

#include <coil/core/Multiplexer.hpp>

#include <sys/epoll.h>

#include <vector>

namespace coil {

/// Readiness through one epoll descriptor, level-triggered. Regular files are refused by the
/// kernel (EPERM); PosixReactor then polls them itself. Owns only the epoll descriptor.
/// Thread: reactor.
class EpollMultiplexer final : public Multiplexer {
 public:
  /// Creates the epoll descriptor (EPOLL_CLOEXEC); throws std::system_error if the kernel
  /// refuses. Thread: any.
  EpollMultiplexer();
  /// Closes the epoll descriptor. Thread: reactor.
  ~EpollMultiplexer() override;
  EpollMultiplexer(const EpollMultiplexer&) = delete;
  EpollMultiplexer& operator=(const EpollMultiplexer&) = delete;

  /// "epoll". Thread: any.
  std::string_view name() const override { return "epoll"; }
  /// Edge-triggered capable, constant time; no regular files. Thread: any.
  unsigned features() const override;
  /// epoll_ctl ADD/MOD/DEL. A stale kernel view is repaired (MOD on ENOENT adds, ADD on EEXIST
  /// modifies) and removing a descriptor the kernel already dropped succeeds. Thread: reactor.
  std::error_code update(int fd, std::uint8_t oldMask, std::uint8_t newMask) override;
  /// epoll_wait; the event buffer doubles whenever a wait fills it. Thread: reactor.
  std::error_code wait(std::optional<double> timeout, ReadyList& ready) override;
  /// Re-creates the epoll descriptor (the child must not share the parent's interest set) and
  /// registers `interest` again. Returns the first error. Thread: reactor (in the child).
  std::error_code afterFork(const std::vector<std::pair<int, std::uint8_t>>& interest) override;

  /// The epoll descriptor (for tests and diagnostics). Thread: reactor.
  int epollFd() const noexcept { return epollFd_; }
  /// Current capacity of the event buffer (maxevents). Thread: reactor.
  std::size_t capacity() const noexcept { return events_.size(); }

 private:
  int epollFd_ = -1;
  std::vector<epoll_event> events_;
};

}  // namespace coil
