#pragma once
/// @file IDelayedCall: a call scheduled by IReactorTime::callLater(), and DelayedCallPtr, the
/// counted handle to it.

#include <compare>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <utility>

namespace coil {

class DelayedCallPtr;

/// A scheduled call (Twisted's IDelayedCall). Owned through DelayedCallPtr handles, whose count
/// is a plain integer: like everything on the reactor, handles must be used on the reactor
/// thread only. Thread: reactor.
class IDelayedCall {
 public:
  /// When the call will run, in the scheduler's seconds() time base.
  virtual double getTime() const = 0;
  /// Cancels the call. Throws error::AlreadyCancelled or error::AlreadyCalled.
  virtual void cancel() = 0;
  /// Postpones the call by `secondsLater` (may be negative). Same errors as cancel().
  virtual void delay(double secondsLater) = 0;
  /// Reschedules the call to `secondsFromNow` from now. Same errors as cancel().
  virtual void reset(double secondsFromNow) = 0;
  /// True until the call has run or been cancelled.
  virtual bool active() const = 0;

 protected:
  /// An object no handle refers to yet.
  IDelayedCall() noexcept = default;
  /// A copy has handles of its own (none yet).
  IDelayedCall(const IDelayedCall&) noexcept {}
  /// Assignment leaves the count of handles alone.
  IDelayedCall& operator=(const IDelayedCall&) noexcept { return *this; }
  /// Only destroy() destroys.
  virtual ~IDelayedCall() = default;
  /// Called when the last handle goes away; deletes the object unless overridden.
  virtual void destroy() noexcept { delete this; }

  /// Adds a reference (for implementations that hold themselves, like a scheduler's queue).
  void addRef() noexcept { ++refs_; }
  /// Drops a reference; true when it was the last one (the caller must then destroy).
  bool dropRef() noexcept { return --refs_ == 0; }
  /// The number of references (handles plus those taken with addRef()).
  std::uint32_t refCount() const noexcept { return refs_; }

 private:
  friend class DelayedCallPtr;
  std::uint32_t refs_ = 0;
};

/// The handle callLater() returns; keeping it is optional (the scheduler holds the call). A
/// counted, nullable, copyable pointer, like the std::shared_ptr it replaced, but with a
/// non-atomic count (see IDelayedCall). Thread: reactor.
class DelayedCallPtr {
 public:
  /// A null handle.
  DelayedCallPtr() noexcept = default;
  /// A null handle.
  DelayedCallPtr(std::nullptr_t) noexcept {}  // NOLINT: implicit like std::shared_ptr
  /// A new handle to `call` (may be null).
  explicit DelayedCallPtr(IDelayedCall* call) noexcept : p_(call) {
    if (p_) ++p_->refs_;
  }
  /// Another handle to the same call.
  DelayedCallPtr(const DelayedCallPtr& other) noexcept : DelayedCallPtr(other.p_) {}
  /// Takes `other`'s reference; `other` becomes null.
  DelayedCallPtr(DelayedCallPtr&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  /// Refers to `other`'s call.
  DelayedCallPtr& operator=(const DelayedCallPtr& other) noexcept {
    DelayedCallPtr(other).swap(*this);
    return *this;
  }
  /// Takes `other`'s reference; `other` becomes null.
  DelayedCallPtr& operator=(DelayedCallPtr&& other) noexcept {
    DelayedCallPtr(std::move(other)).swap(*this);
    return *this;
  }
  /// Drops the reference (the last one destroys the call).
  ~DelayedCallPtr() { release(p_); }

  /// The call, or null.
  IDelayedCall* get() const noexcept { return p_; }
  /// The call (must not be null).
  IDelayedCall* operator->() const noexcept { return p_; }
  /// The call (must not be null).
  IDelayedCall& operator*() const noexcept { return *p_; }
  /// True unless null.
  explicit operator bool() const noexcept { return p_ != nullptr; }
  /// Becomes null, dropping the reference.
  void reset() noexcept { release(std::exchange(p_, nullptr)); }
  /// Exchanges the calls of two handles.
  void swap(DelayedCallPtr& other) noexcept { std::swap(p_, other.p_); }

  /// Same call (or both null).
  friend bool operator==(const DelayedCallPtr&, const DelayedCallPtr&) noexcept = default;
  /// Null.
  friend bool operator==(const DelayedCallPtr& p, std::nullptr_t) noexcept { return !p.p_; }
  /// Orders by address, like std::shared_ptr.
  friend std::strong_ordering operator<=>(const DelayedCallPtr& a,
                                          const DelayedCallPtr& b) noexcept {
    return std::compare_three_way()(a.p_, b.p_);
  }
  /// Prints the address.
  friend std::ostream& operator<<(std::ostream& os, const DelayedCallPtr& p);

 private:
  static void release(IDelayedCall* p) noexcept {
    if (p && --p->refs_ == 0) p->destroy();
  }

  IDelayedCall* p_ = nullptr;
};

}  // namespace coil

/// Hashes the address, like std::shared_ptr.
template <>
struct std::hash<coil::DelayedCallPtr> {
  /// The hash of the call's address.
  std::size_t operator()(const coil::DelayedCallPtr& p) const noexcept {
    return std::hash<const coil::IDelayedCall*>()(p.get());
  }
};
