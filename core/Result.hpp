#pragma once
/// @file Result: a value of type T or a Failure — what addBoth() callbacks receive.

#include <coil/core/Failure.hpp>

#include <optional>
#include <type_traits>
#include <utility>
#include <variant>

namespace coil {

/// Either a T or a Failure. Returned from a callback, it continues the chain on the matching
/// path, so `addBoth([](Result<T> r) { cleanup(); return r; })` passes any result through.
template <class T>
class Result {
  static_assert(!std::is_same_v<T, Failure>, "Result<Failure> is ambiguous");

 public:
  /// A success.
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit on purpose
  /// A failure.
  Result(Failure f) : v_(std::in_place_index<1>, std::move(f)) {}  // NOLINT: implicit on purpose

  /// True for a success.
  bool ok() const noexcept { return v_.index() == 0; }
  /// True for a success.
  explicit operator bool() const noexcept { return ok(); }
  /// The value; raises the failure if there is none.
  T& value() & {
    if (!ok()) failure().raise();
    return std::get<0>(v_);
  }
  /// The value; raises the failure if there is none.
  const T& value() const& {
    if (!ok()) failure().raise();
    return std::get<0>(v_);
  }
  /// The value, moved out; raises the failure if there is none.
  T&& value() && {
    if (!ok()) failure().raise();
    return std::get<0>(std::move(v_));
  }
  /// The failure (precondition: !ok()).
  const Failure& failure() const { return std::get<1>(v_); }

 private:
  std::variant<T, Failure> v_;
};

/// The result of a Deferred<void>: success or a Failure.
template <>
class Result<void> {
 public:
  /// A success.
  Result() noexcept = default;
  /// A failure.
  Result(Failure f) : f_(std::move(f)) {}  // NOLINT: implicit on purpose
  /// True for a success.
  bool ok() const noexcept { return !f_.has_value(); }
  /// True for a success.
  explicit operator bool() const noexcept { return ok(); }
  /// Raises the failure, if any.
  void value() const {
    if (f_) f_->raise();
  }
  /// The failure (precondition: !ok()).
  const Failure& failure() const { return *f_; }

 private:
  std::optional<Failure> f_;
};

}  // namespace coil
