#pragma once
/// @file ValueBox: a type-erased, move-only value with inline storage (private to core).

#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace coil::detail {

/// The value type of a Deferred<void>'s chain.
struct Unit {};

/// A unique address per type, used to check typed views of a Deferred chain at run time.
template <class T>
inline constexpr char kTypeTag = 0;

/// Returns the tag of T (void maps to Unit).
template <class T>
constexpr const void* typeTag() noexcept {
  if constexpr (std::is_void_v<T>) {
    return &kTypeTag<Unit>;
  } else {
    return &kTypeTag<std::remove_cvref_t<T>>;
  }
}

/// Holds at most one value of any move-constructible type. Values up to kInline bytes with a
/// nothrow move constructor live inline; larger ones on the heap.
class ValueBox {
 public:
  /// Bytes stored inline.
  static constexpr std::size_t kInline = 32;

  /// An empty box.
  ValueBox() noexcept = default;
  ValueBox(const ValueBox&) = delete;
  ValueBox& operator=(const ValueBox&) = delete;
  /// Moves the value out of `other`, leaving it empty.
  ValueBox(ValueBox&& other) noexcept { moveFrom(other); }
  /// Replaces this value with `other`'s.
  ValueBox& operator=(ValueBox&& other) noexcept {
    if (this != &other) {
      reset();
      moveFrom(other);
    }
    return *this;
  }
  /// Destroys the value.
  ~ValueBox() { reset(); }

  /// True when no value is held.
  bool empty() const noexcept { return ops_ == nullptr; }

  /// Stores a T built from args, destroying any previous value.
  template <class T, class... A>
  T& emplace(A&&... args) {
    reset();
    T* p;
    if constexpr (fitsInline<T>()) {
      p = ::new (static_cast<void*>(buf_)) T(std::forward<A>(args)...);
    } else {
      p = new T(std::forward<A>(args)...);
      *reinterpret_cast<T**>(buf_) = p;
    }
    ops_ = &kOps<T>;
    return *p;
  }

  /// The held T; the caller knows the type.
  template <class T>
  T& get() noexcept {
    if constexpr (fitsInline<T>()) {
      return *std::launder(reinterpret_cast<T*>(buf_));
    } else {
      return **reinterpret_cast<T**>(buf_);
    }
  }

  /// Moves the held T out and empties the box.
  template <class T>
  T take() {
    T out(std::move(get<T>()));
    reset();
    return out;
  }

  /// Destroys the value, if any.
  void reset() noexcept {
    if (ops_) {
      const Ops* ops = ops_;
      ops_ = nullptr;
      ops->destroy(buf_);
    }
  }

 private:
  struct Ops {
    void (*move)(unsigned char* dst, unsigned char* src) noexcept;
    void (*destroy)(unsigned char* buf) noexcept;
  };

  template <class T>
  static constexpr bool fitsInline() {
    return sizeof(T) <= kInline && alignof(T) <= alignof(std::max_align_t) &&
           std::is_nothrow_move_constructible_v<T>;
  }

  template <class T>
  static void moveImpl(unsigned char* dst, unsigned char* src) noexcept {
    if constexpr (fitsInline<T>()) {
      T* s = std::launder(reinterpret_cast<T*>(src));
      ::new (static_cast<void*>(dst)) T(std::move(*s));
      s->~T();
    } else {
      *reinterpret_cast<T**>(dst) = *reinterpret_cast<T**>(src);
    }
  }

  template <class T>
  static void destroyImpl(unsigned char* buf) noexcept {
    if constexpr (fitsInline<T>()) {
      std::launder(reinterpret_cast<T*>(buf))->~T();
    } else {
      delete *reinterpret_cast<T**>(buf);
    }
  }

  template <class T>
  static constexpr Ops kOps{&moveImpl<T>, &destroyImpl<T>};

  void moveFrom(ValueBox& other) noexcept {
    if (other.ops_) {
      other.ops_->move(buf_, other.buf_);
      ops_ = other.ops_;
      other.ops_ = nullptr;
    }
  }

  const Ops* ops_ = nullptr;
  alignas(std::max_align_t) unsigned char buf_[kInline];
};

}  // namespace coil::detail
