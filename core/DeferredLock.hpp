#pragma once
/// @file DeferredLock: Twisted's DeferredLock and DeferredSemaphore.
///
/// `acquire()` returns a `Deferred<void>` that fires, in FIFO order, once the lock (or a token)
/// is the caller's. Twisted fires it with the lock itself; coil fires it with nothing because the
/// caller already holds the lock by name, a raw `DeferredLock*` in a chain could outlive the
/// lock, and `void` composes with run(), gatherResults() and coroutines (`co_await
/// lock.acquire();`). Cancelling a waiting acquire() removes it from the queue (it fails with
/// CancelledError); cancelling one that already fired does nothing.
///
/// `run(f, args...)` acquires, calls `f(args...)` through maybeDeferred (arguments are
/// decay-copied and moved in, like std::thread), releases on both paths and returns a
/// `Deferred<U>` of what f produced. Releasing more than was acquired throws LockReleaseError
/// (Twisted's AssertionError).
///
/// A lock or semaphore is one object (neither copyable nor movable); its queue lives in a shared
/// state that cancellers and run() steps hold weakly, so destroying the lock while Deferreds are
/// still waiting is safe: they are dropped unfired (and a run() in flight no longer releases).
/// Thread: reactor.

#include <coil/core/Deferred.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/Result.hpp>

#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>

namespace coil {

/// release() on an unlocked DeferredLock, or on a DeferredSemaphore whose tokens are all back
/// (Twisted's AssertionError).
class LockReleaseError : public LogicError {
 public:
  /// Builds the error; `detail` says which primitive was over-released.
  explicit LockReleaseError(std::string detail = {})
      : LogicError("Released more times than acquired", std::move(detail)) {}
};

namespace detail {

/// The state behind a DeferredLock or DeferredSemaphore: free tokens and a FIFO of waiters.
class TokenPool : public std::enable_shared_from_this<TokenPool> {
 public:
  /// `limit` tokens, all free; `overReleased` is the detail of the release() error.
  TokenPool(int limit, const char* overReleased) noexcept
      : tokens_(limit), limit_(limit), overReleased_(overReleased) {}

  /// Takes a token now, or queues a Deferred fired when one is released.
  Deferred<void> acquire();
  /// Returns a token; hands it to the oldest waiter, if any.
  void release();
  /// Free tokens.
  int tokens() const noexcept { return tokens_; }
  /// Tokens in all.
  int limit() const noexcept { return limit_; }
  /// Queued acquire() Deferreds.
  std::size_t waiting() const noexcept { return waiting_.size(); }

 private:
  void cancelAcquire(const Deferred<void>& d);

  int tokens_;
  int limit_;
  const char* overReleased_;
  std::deque<Deferred<void>> waiting_;
};

/// Twisted's _ConcurrencyPrimitive.run over `pool`.
template <class F, class... A>
auto runWithToken(const std::shared_ptr<TokenPool>& pool, F&& f, A&&... args) {
  using D =
      decltype(maybeDeferred(std::declval<std::decay_t<F>>(), std::declval<std::decay_t<A>>()...));
  using U = typename D::value_type;
  std::weak_ptr<TokenPool> weak = pool;
  return pool->acquire().addCallback(
      [weak, f = std::forward<F>(f), ... args = std::forward<A>(args)]() mutable {
        auto release = [weak] {
          if (auto p = weak.lock()) p->release();
        };
        D d = maybeDeferred(std::move(f), std::move(args)...);
        try {
          return d.addBoth([release](Result<U> r) {
            release();
            return r;
          });
        } catch (...) {  // f returned a stale Deferred view (DeferredTypeError): still release
          release();
          throw;
        }
      });
}

}  // namespace detail

/// Twisted's DeferredLock: a FIFO lock whose acquire() is a Deferred. Thread: reactor.
class DeferredLock {
 public:
  /// An unlocked lock.
  DeferredLock();
  DeferredLock(const DeferredLock&) = delete;
  DeferredLock& operator=(const DeferredLock&) = delete;

  /// True while someone holds the lock (Twisted's `locked` attribute).
  bool locked() const noexcept { return pool_->tokens() == 0; }
  /// Number of acquire() Deferreds waiting for the lock.
  std::size_t waiting() const noexcept { return pool_->waiting(); }

  /// A Deferred that fires when the lock is the caller's: at once if it is free, else after
  /// the earlier waiters (FIFO). Cancelling it while it waits removes it (CancelledError).
  Deferred<void> acquire() { return pool_->acquire(); }

  /// Unlocks, or hands the lock to the oldest waiter. Throws LockReleaseError when unlocked.
  void release() { pool_->release(); }

  /// Acquires, calls f(args...) through maybeDeferred, releases on success and on failure, and
  /// returns a Deferred of f's result.
  template <class F, class... A>
  auto run(F&& f, A&&... args) {
    return detail::runWithToken(pool_, std::forward<F>(f), std::forward<A>(args)...);
  }

 private:
  std::shared_ptr<detail::TokenPool> pool_;
};

/// Twisted's DeferredSemaphore: at most `limit()` holders at once; acquire() is a Deferred.
/// Thread: reactor.
class DeferredSemaphore {
 public:
  /// A semaphore with `tokens` free tokens; throws std::invalid_argument when tokens < 1.
  explicit DeferredSemaphore(int tokens);
  DeferredSemaphore(const DeferredSemaphore&) = delete;
  DeferredSemaphore& operator=(const DeferredSemaphore&) = delete;

  /// Free tokens now (Twisted's `tokens`).
  int tokens() const noexcept { return pool_->tokens(); }
  /// Tokens in all, as constructed (Twisted's `limit`).
  int limit() const noexcept { return pool_->limit(); }
  /// Number of acquire() Deferreds waiting for a token.
  std::size_t waiting() const noexcept { return pool_->waiting(); }

  /// A Deferred that fires when a token is the caller's (FIFO). Cancelling it while it waits
  /// removes it (CancelledError).
  Deferred<void> acquire() { return pool_->acquire(); }

  /// Returns a token (to the oldest waiter, if any). Throws LockReleaseError when every token is
  /// already free.
  void release() { pool_->release(); }

  /// Acquires a token, calls f(args...) through maybeDeferred, releases on both paths, and
  /// returns a Deferred of f's result.
  template <class F, class... A>
  auto run(F&& f, A&&... args) {
    return detail::runWithToken(pool_, std::forward<F>(f), std::forward<A>(args)...);
  }

 private:
  std::shared_ptr<detail::TokenPool> pool_;
};

}  // namespace coil
