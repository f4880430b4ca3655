#pragma once
/// @file DelayedFunction: the move-only, type-erased callable that callLater() runs.

#include <cstddef>
#include <cstring>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace coil {

namespace detail {

/// True for the callables whose emptiness std::function tests: null function and member
/// pointers, and empty std::function objects.
template <class F>
struct IsNullableCallable
    : std::bool_constant<std::is_pointer_v<F> || std::is_member_pointer_v<F>> {};
/// A std::function may be empty.
template <class S>
struct IsNullableCallable<std::function<S>> : std::true_type {};

}  // namespace detail

/// Any callable taking no arguments (its result, if any, is discarded), stored without an
/// allocation when it is at most kInlineSize bytes, pointer-aligned and nothrow-movable (a lambda
/// capturing up to four pointers, or a std::function). Move-only, so callables capturing
/// move-only things are accepted. Built implicitly from any such callable; a null function
/// pointer or an empty std::function makes an empty DelayedFunction. Thread: any, but one at a
/// time.
class DelayedFunction {
 public:
  /// Bytes of inline storage.
  static constexpr std::size_t kInlineSize = 32;

  /// An empty function.
  DelayedFunction() noexcept = default;
  /// An empty function.
  DelayedFunction(std::nullptr_t) noexcept {}  // NOLINT: implicit like std::function

  /// Wraps `f` (moved or copied in).
  template <class F, class D = std::decay_t<F>>
  requires(!std::is_same_v<D, DelayedFunction> && std::is_invocable_v<D&> &&
           std::is_constructible_v<D, F&&>)
      DelayedFunction(F&& f) {  // NOLINT: implicit, so that callLater(d, lambda) reads naturally
    if constexpr (detail::IsNullableCallable<D>::value) {
      if (!f) return;
    }
    if constexpr (fitsInline<D>()) {
      ::new (static_cast<void*>(storage_)) D(std::forward<F>(f));
      ops_ = &kInlineOps<D>;
    } else {
      D* p = new D(std::forward<F>(f));
      std::memcpy(storage_, &p, sizeof p);
      ops_ = &kHeapOps<D>;
    }
  }

  /// Takes `other`'s callable; `other` becomes empty.
  DelayedFunction(DelayedFunction&& other) noexcept { take(other); }

  /// Destroys the current callable, then takes `other`'s.
  DelayedFunction& operator=(DelayedFunction&& other) noexcept {
    if (this != &other) {
      reset();
      take(other);
    }
    return *this;
  }

  /// Destroys the callable.
  ~DelayedFunction() { reset(); }

  DelayedFunction(const DelayedFunction&) = delete;
  DelayedFunction& operator=(const DelayedFunction&) = delete;

  /// True when a callable is held.
  explicit operator bool() const noexcept { return ops_ != nullptr; }

  /// Calls the callable (which must be present); its exceptions propagate.
  void operator()() { ops_->invoke(storage_); }

  /// Destroys the callable now. The function is already empty while the callable's destructor
  /// runs, so re-entrant code sees it empty.
  void reset() noexcept {
    if (const Ops* ops = std::exchange(ops_, nullptr); ops && ops->destroy) ops->destroy(storage_);
  }

 private:
  // How to use the stored callable. Null relocate: the storage may be copied bytewise. Null
  // destroy: nothing to do.
  struct Ops {
    void (*invoke)(void* storage);
    void (*relocate)(void* to, void* from) noexcept;
    void (*destroy)(void* storage) noexcept;
  };

  template <class D>
  static constexpr bool fitsInline() {
    return sizeof(D) <= kInlineSize && alignof(D) <= alignof(void*) &&
           std::is_nothrow_move_constructible_v<D>;
  }

  template <class D>
  static void invokeInline(void* storage) {
    std::invoke(*std::launder(static_cast<D*>(storage)));
  }
  template <class D>
  static void relocateInline(void* to, void* from) noexcept {
    D* source = std::launder(static_cast<D*>(from));
    ::new (to) D(std::move(*source));
    source->~D();
  }
  template <class D>
  static void destroyInline(void* storage) noexcept {
    std::launder(static_cast<D*>(storage))->~D();
  }
  template <class D>
  static D* heapObject(void* storage) noexcept {
    D* p;
    std::memcpy(&p, storage, sizeof p);
    return p;
  }
  template <class D>
  static void invokeHeap(void* storage) {
    std::invoke(*heapObject<D>(storage));
  }
  template <class D>
  static void destroyHeap(void* storage) noexcept {
    delete heapObject<D>(storage);
  }

  template <class D>
  static constexpr Ops kInlineOps{
      &invokeInline<D>, std::is_trivially_copyable_v<D> ? nullptr : &relocateInline<D>,
      std::is_trivially_destructible_v<D> ? nullptr : &destroyInline<D>};
  template <class D>
  static constexpr Ops kHeapOps{&invokeHeap<D>, nullptr, &destroyHeap<D>};

  void take(DelayedFunction& other) noexcept {
    ops_ = std::exchange(other.ops_, nullptr);
    if (!ops_) return;
    if (ops_->relocate)
      ops_->relocate(storage_, other.storage_);
    else
      std::memcpy(storage_, other.storage_, kInlineSize);
  }

  alignas(void*) unsigned char storage_[kInlineSize];
  const Ops* ops_ = nullptr;
};

}  // namespace coil
