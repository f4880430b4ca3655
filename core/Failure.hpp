#pragma once
/// @file Failure: a copyable value that carries an exception, as Twisted's python/failure.py.

#include <cstddef>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

namespace coil {

/// Raised by Failure::current() when no exception is being handled.
class NoCurrentExceptionError : public std::logic_error {
 public:
  /// Builds the error with its fixed message.
  NoCurrentExceptionError()
      : std::logic_error("Failure::current() called with no exception in flight") {}
};

/// A copyable value over std::exception_ptr: the error half of a Deferred's result.
///
/// Thread: any (a Failure is an immutable value; copies share the exception object).
class Failure {
 public:
  /// Wraps an exception pointer; a null pointer throws NoCurrentExceptionError.
  explicit Failure(std::exception_ptr e) : ptr_(std::move(e)) {
    if (!ptr_) throw NoCurrentExceptionError();
  }

  /// Wraps an exception object by value (`Failure(CancelledError())`). Given a base-class
  /// reference to the exception being handled (`catch (const std::exception& e) { fail(e); }`),
  /// it keeps that exception, with its dynamic type, instead of copying a sliced base.
  template <class E>
  requires(!std::is_same_v<std::decay_t<E>, Failure> &&
           !std::is_same_v<std::decay_t<E>, std::exception_ptr>) explicit Failure(E&& e)
      : ptr_(capture(std::forward<E>(e))) {}

  /// The exception being handled now; throws NoCurrentExceptionError outside a catch block.
  static Failure current() { return Failure(std::current_exception()); }

  /// Index of the first of E... that the exception is (or derives from), in argument order.
  template <class... E>
  std::optional<std::size_t> check() const {
    if constexpr (sizeof...(E) == 0) {
      return std::nullopt;
    } else {
      try {
        std::rethrow_exception(ptr_);
      } catch (...) {
        return matchCurrent<E...>(0);
      }
    }
  }

  /// Like check<E...>(), but rethrows the original exception when nothing matches.
  template <class... E>
  std::size_t trap() const {
    if (auto i = check<E...>()) return *i;
    raise();
  }

  /// Rethrows the carried exception.
  [[noreturn]] void raise() const { std::rethrow_exception(ptr_); }

  /// The exception's message: what() for std::exception, a description otherwise.
  std::string getErrorMessage() const;

  /// The demangled dynamic type name of the exception ("coil::CancelledError").
  std::string typeName() const;

  /// "Type: message", as logged.
  std::string describe() const { return typeName() + ": " + getErrorMessage(); }

  /// The carried exception pointer (never null).
  const std::exception_ptr& exception() const noexcept { return ptr_; }

  /// The exception object if it is an E (or derived from E), else nullptr. The pointer lives as
  /// long as any copy of this Failure.
  template <class E>
  const E* value() const {
    try {
      std::rethrow_exception(ptr_);
    } catch (const E& e) {
      return &e;
    } catch (...) {
      return nullptr;
    }
  }

 private:
  // Called inside a handler: rethrows the exception being handled and tries E0, then E....
  template <class E0, class... E>
  static std::optional<std::size_t> matchCurrent(std::size_t index) {
    try {
      throw;
    } catch (const E0&) {
      return index;
    } catch (...) {
      if constexpr (sizeof...(E) == 0) {
        return std::nullopt;
      } else {
        return matchCurrent<E...>(index + 1);
      }
    }
  }

  template <class E>
  static std::exception_ptr capture(E&& e) {
    using D = std::decay_t<E>;
    if constexpr (std::is_polymorphic_v<D>) {
      if (typeid(e) != typeid(D)) {  // copying would slice a more-derived object
        if (std::exception_ptr handled = std::current_exception()) {
          try {
            std::rethrow_exception(handled);
          } catch (const D& h) {
            if (&h == &e) return handled;
          } catch (...) {
          }
        }
      }
    }
    return std::make_exception_ptr(std::forward<E>(e));
  }

  std::exception_ptr ptr_;
};

}  // namespace coil
