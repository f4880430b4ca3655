#pragma once
/// @file DeferredQueue: Twisted's DeferredQueue — a FIFO whose get() is a Deferred.
///
/// `put(item)` hands the item to the oldest waiting get(), else buffers it (up to `size`), else
/// throws QueueOverflow. `get()` returns `succeed(item)` when one is buffered, else a waiting
/// Deferred (up to `backlog` of them), else throws QueueUnderflow. Both errors are synchronous,
/// as in Twisted. A cancelled get() leaves the queue (it fails with CancelledError and a later
/// put() goes to the next waiter). Items are moved, so move-only T works.
///
/// The queue is one object (neither copyable nor movable); its buffers live in a shared state
/// that the get() cancellers hold weakly, so cancelling a get() after the queue is gone is safe.
/// Destroying the queue drops its waiting Deferreds unfired. Thread: reactor.

#include <coil/core/Deferred.hpp>
#include <coil/core/Errors.hpp>

#include <algorithm>
#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace coil {

/// Twisted's DeferredQueue of T. Thread: reactor.
template <class T>
class DeferredQueue {
  static_assert(!std::is_void_v<T>, "a DeferredQueue carries items");

 public:
  /// A queue buffering at most `size` items and `backlog` waiting get()s; nullopt (the
  /// default) is unlimited, as Twisted's None.
  explicit DeferredQueue(std::optional<std::size_t> size = std::nullopt,
                         std::optional<std::size_t> backlog = std::nullopt)
      : state_(std::make_shared<State>()) {
    state_->size = size;
    state_->backlog = backlog;
  }
  DeferredQueue(const DeferredQueue&) = delete;
  DeferredQueue& operator=(const DeferredQueue&) = delete;

  /// Gives `item` to the oldest waiting get(), or buffers it; throws QueueOverflow when the
  /// buffer already holds `size` items (the item is then dropped).
  void put(T item) {
    State& s = *state_;
    if (!s.waiting.empty()) {
      Deferred<T> d = std::move(s.waiting.front());
      s.waiting.pop_front();
      d.callback(std::move(item));
    } else if (!s.size || s.pending.size() < *s.size) {
      s.pending.push_back(std::move(item));
    } else {
      throw QueueOverflow();
    }
  }

  /// The oldest buffered item as an already-fired Deferred, or a Deferred fired by a later
  /// put(); throws QueueUnderflow when `backlog` get()s are already waiting.
  Deferred<T> get() {
    State& s = *state_;
    if (!s.pending.empty()) {
      T item = std::move(s.pending.front());
      s.pending.pop_front();
      return succeed(std::move(item));
    }
    if (s.backlog && s.waiting.size() >= *s.backlog) throw QueueUnderflow();
    std::weak_ptr<State> weak = state_;
    Deferred<T> d([weak](Deferred<T>& self) {
      if (auto st = weak.lock()) st->cancelGet(self);
    });
    s.waiting.push_back(d);
    return d;
  }

  /// Number of buffered items (Twisted's `len(pending)`).
  std::size_t pending() const noexcept { return state_->pending.size(); }
  /// Number of get() Deferreds waiting for an item (Twisted's `len(waiting)`).
  std::size_t waiting() const noexcept { return state_->waiting.size(); }
  /// The buffer limit; nullopt when unlimited.
  std::optional<std::size_t> size() const noexcept { return state_->size; }
  /// The limit on waiting get()s; nullopt when unlimited.
  std::optional<std::size_t> backlog() const noexcept { return state_->backlog; }

 private:
  struct State {
    std::deque<T> pending;
    std::deque<Deferred<T>> waiting;
    std::optional<std::size_t> size;
    std::optional<std::size_t> backlog;

    // The canceller runs only while `d` is unfired, hence still queued (put() pops first).
    void cancelGet(const Deferred<T>& d) {
      auto it = std::find(waiting.begin(), waiting.end(), d);
      if (it != waiting.end()) waiting.erase(it);
    }
  };

  std::shared_ptr<State> state_;
};

}  // namespace coil
