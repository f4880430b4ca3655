#pragma once
/// @file IReactorThreads: crossing between threads and the reactor.

#include <cstddef>
#include <functional>

namespace coil {

/// Thread support (Twisted's IReactorThreads / IReactorFromThreads).
class IReactorThreads {
 public:
  virtual ~IReactorThreads() = default;
  /// Runs `f` on the reactor thread, in FIFO order with other such calls, before timed calls of
  /// the same pass; wakes the reactor. Never runs before run(). Thread: any.
  virtual void callFromThread(std::function<void()> f) = 0;
  /// Runs `f` on the reactor's thread pool (created on first use, stopped at shutdown).
  /// Thread: reactor.
  virtual void callInThread(std::function<void()> f) = 0;
  /// Sets the pool's maximum size (Twisted: the minimum stays 0). Thread: reactor.
  virtual void suggestThreadPoolSize(std::size_t size) = 0;
};

}  // namespace coil
