// DeferredLock: the token pool behind DeferredLock and DeferredSemaphore (FIFO waiters, cancel).
// Tests: test/core/deferred/DeferredLockTest.cpp
#include <coil/core/DeferredLock.hpp>

#include <algorithm>
#include <stdexcept>

namespace coil {

namespace detail {

Deferred<void> TokenPool::acquire() {
  std::weak_ptr<TokenPool> weak = weak_from_this();
  Deferred<void> d([weak](Deferred<void>& self) {
    if (auto pool = weak.lock()) pool->cancelAcquire(self);
  });
  if (tokens_ == 0) {
    waiting_.push_back(d);
  } else {
    --tokens_;
    d.callback();
  }
  return d;
}

void TokenPool::release() {
  if (tokens_ >= limit_) throw LockReleaseError(overReleased_);
  ++tokens_;
  if (!waiting_.empty()) {
    --tokens_;
    Deferred<void> next = std::move(waiting_.front());
    waiting_.pop_front();
    next.callback();
  }
}

void TokenPool::cancelAcquire(const Deferred<void>& d) {
  // Only called while `d` is unfired, hence still queued (release() pops before firing).
  auto it = std::find(waiting_.begin(), waiting_.end(), d);
  if (it != waiting_.end()) waiting_.erase(it);
}

}  // namespace detail

DeferredLock::DeferredLock()
    : pool_(std::make_shared<detail::TokenPool>(1, "tried to release an unlocked lock")) {}

DeferredSemaphore::DeferredSemaphore(int tokens) {
  if (tokens < 1) throw std::invalid_argument("DeferredSemaphore requires tokens >= 1");
  pool_ = std::make_shared<detail::TokenPool>(
      tokens, "someone released me too many times: too many tokens");
}

}  // namespace coil
