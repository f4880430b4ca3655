#pragma once
/// @file Threads: running blocking code on threads and crossing back to the reactor (Twisted's
/// internet/threads.py): deferToThread, deferToThreadPool, blockingCallFromThread.
///
/// Deferreds are not thread-safe (see docs/architecture.md), so a Deferred made here is created,
/// fired and destroyed on the reactor thread only; the worker thread sees nothing but the
/// function it runs and the slot it writes the result into, and hands that slot back with
/// callFromThread().

#include <coil/core/Deferred.hpp>
#include <coil/core/Failure.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/core/Result.hpp>
#include <coil/core/ThreadPool.hpp>

#include <condition_variable>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>

namespace coil {

namespace detail {

/// What a function run by deferToThreadPool() produced; written by the worker, read (and the
/// Deferred fired and destroyed) on the reactor thread.
template <class R>
struct ThreadCallSlot {
  /// Created on the reactor thread; only ever touched there.
  Deferred<R> deferred;
  /// The function's value (Unit for void).
  std::optional<std::conditional_t<std::is_void_v<R>, Unit, R>> value;
  /// What the function threw.
  std::exception_ptr error;

  /// Fires `deferred` (reactor thread).
  void deliver() {
    if (error) {
      deferred.errback(Failure(error));
    } else if constexpr (std::is_void_v<R>) {
      deferred.callback();
    } else {
      deferred.callback(std::move(*value));
    }
  }
};

/// The pool work item of deferToThreadPool(). Shared (std::function needs a copyable target),
/// but only one copy ever exists in practice.
template <class R, class F>
struct ThreadCallJob {
  /// The user's function, run on the worker.
  F f;
  /// Handed back to the reactor thread once f has run; if the pool drops the job unrun, the slot
  /// is destroyed by whoever drops it (the reactor thread, for the reactor's own pool), and the
  /// Deferred never fires, as in Twisted.
  std::shared_ptr<ThreadCallSlot<R>> slot;
  /// The reactor to hand the slot back to.
  ReactorBase* reactor;

  /// Runs on the worker.
  void run() {
    std::shared_ptr<ThreadCallSlot<R>> s = std::move(slot);
    try {
      if constexpr (std::is_void_v<R>) {
        f();
        s->value.emplace();
      } else {
        s->value.emplace(f());
      }
    } catch (...) {
      s->error = std::current_exception();
    }
    // The lambda holds the only reference from now on, and is run and destroyed on the reactor
    // thread: the Deferred inside never changes threads.
    reactor->callFromThread([s = std::move(s)] { s->deliver(); });
  }
};

/// The meeting point of blockingCallFromThread(): the reactor thread deliver()s, the blocked
/// thread take()s. The reactor thread gives up every reference to the exception before it
/// signals, so the exception object lives and dies on the blocked thread.
template <class U>
class BlockingCallSlot {
 public:
  /// Stores the result and wakes the waiter (reactor thread).
  void deliver(Result<U> r) {
    std::optional<std::conditional_t<std::is_void_v<U>, Unit, U>> value;
    std::exception_ptr error;
    {
      Result<U> local = std::move(r);
      if (!local.ok()) {
        error = local.failure().exception();
      } else if constexpr (std::is_void_v<U>) {
        value.emplace();
      } else {
        value.emplace(std::move(local).value());
      }
    }  // `local` (and its reference to the exception) is gone before the waiter can run
    {
      std::lock_guard lock(mutex_);
      value_ = std::move(value);
      error_ = std::move(error);
      done_ = true;
    }
    ready_.notify_one();
  }

  /// Fails the call with CancelledError unless it has a result: nothing will deliver one (the
  /// reactor dropped the call, or f's Deferred was destroyed unfired).
  void abandon() {
    {
      std::lock_guard lock(mutex_);
      if (done_) return;
      error_ = std::make_exception_ptr(CancelledError(
          "blockingCallFromThread: the call was dropped before it produced a result"));
      done_ = true;
    }
    ready_.notify_one();
  }

  /// Waits for deliver(); returns the value or rethrows (the calling thread).
  U take() {
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [this] { return done_; });
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
    if constexpr (!std::is_void_v<U>) return std::move(*value_);
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  bool done_ = false;
  std::optional<std::conditional_t<std::is_void_v<U>, Unit, U>> value_;
  std::exception_ptr error_;
};

/// Held only by the reactor-side closures of blockingCallFromThread(): when the last one goes
/// without having delivered, the waiter is released with CancelledError.
template <class U>
struct BlockingCallOwner {
  /// The slot the waiter blocks on.
  std::shared_ptr<BlockingCallSlot<U>> slot;
  /// Abandons the slot (a no-op once delivered).
  ~BlockingCallOwner() {
    if (slot) slot->abandon();
  }
};

}  // namespace detail

/// Runs `f()` on `pool` and returns a Deferred that fires on the reactor thread (through
/// callFromThread) with f's value, or fails with what it threw. `f` is moved to the worker and
/// destroyed there; it must not touch reactor-thread objects (Deferreds, transports). If the pool
/// is stopped before f runs, the Deferred never fires. `pool` must be stopped before `reactor`
/// is destroyed. Thread: reactor.
template <class F>
auto deferToThreadPool(ReactorBase& reactor, ThreadPool& pool, F&& f) {
  using Fn = std::decay_t<F>;
  using R = std::decay_t<std::invoke_result_t<Fn&>>;
  static_assert(!detail::IsDeferred<R>::value,
                "deferToThread: the function runs on another thread and must not return a "
                "Deferred");
  auto slot = std::make_shared<detail::ThreadCallSlot<R>>();
  Deferred<R> result = slot->deferred;
  auto job = std::make_shared<detail::ThreadCallJob<R, Fn>>(
      detail::ThreadCallJob<R, Fn>{std::forward<F>(f), std::move(slot), &reactor});
  pool.callInThread([job] { job->run(); });
  return result;
}

/// deferToThreadPool() on the reactor's own pool (reactor.getThreadPool(), started when the
/// reactor runs). Thread: reactor.
template <class F>
auto deferToThread(ReactorBase& reactor, F&& f) {
  return deferToThreadPool(reactor, reactor.getThreadPool(), std::forward<F>(f));
}

/// Runs `f()` on the reactor thread (through callFromThread) and blocks the calling thread until
/// its result is ready: returns f's value — or, when f returns a Deferred<U>, that Deferred's
/// value once it fires — and rethrows what f threw or the Deferred failed with. Must be called
/// from a thread other than the reactor's (which would deadlock), while the reactor runs or will
/// run. If the call is dropped unrun (the reactor is destroyed first) or f's Deferred is
/// destroyed unfired, it throws CancelledError instead of blocking for good. Thread: any but the
/// reactor's.
template <class F>
auto blockingCallFromThread(ReactorBase& reactor, F&& f) {
  using Fn = std::decay_t<F>;
  using U = detail::ChainTypeT<std::invoke_result_t<Fn&>>;
  auto slot = std::make_shared<detail::BlockingCallSlot<U>>();
  auto owner = std::make_shared<detail::BlockingCallOwner<U>>(slot);
  auto fn = std::make_shared<Fn>(std::forward<F>(f));
  // Both move into the call: f is destroyed on the reactor thread, where it ran, and only
  // reactor-side closures own `owner`.
  reactor.callFromThread([owner = std::move(owner), fn = std::move(fn)] {
    maybeDeferred(*fn).addBoth([owner](Result<U> r) { owner->slot->deliver(std::move(r)); });
  });
  return slot->take();
}

}  // namespace coil
