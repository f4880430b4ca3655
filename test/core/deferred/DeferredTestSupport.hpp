#pragma once
/// @file DeferredTestSupport: names and small helpers shared by the Deferred test files.

#include <coil/core/Deferred.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/Failure.hpp>
#include <coil/core/Result.hpp>

#include <test/support/DeferredTesting.hpp>
#include <test/support/Testing.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

using coil::AlreadyCalledError;
using coil::Deferred;
using coil::DeferredTypeError;
using coil::Failure;
using coil::Result;
using coil::test::assertNoResult;
using coil::test::failureResultOf;
using coil::test::LogCapture;
using coil::test::successResultOf;

namespace coil::test {

/// A plain error for tests to throw and trap.
struct GenericError : std::runtime_error {
  /// With the message "generic".
  GenericError() : std::runtime_error("generic") {}
  using std::runtime_error::runtime_error;
};

/// Strings collected in order.
using Strings = std::vector<std::string>;

/// The address of this function's frame: equal values mean equal stack depth of the caller.
[[gnu::noinline]] inline std::uintptr_t frameAddress() {
  return reinterpret_cast<std::uintptr_t>(__builtin_frame_address(0));
}

/// Counts live instances, to prove values are neither leaked nor destroyed twice.
struct Counted {
  /// Instances alive now.
  static inline int live = 0;
  /// The payload.
  int v;
  /// A new instance.
  explicit Counted(int value) : v(value) { ++live; }
  /// A copy.
  Counted(const Counted& o) : v(o.v) { ++live; }
  /// A move (the source stays counted until destroyed).
  Counted(Counted&& o) noexcept : v(o.v) { ++live; }
  /// Assignment keeps the count.
  Counted& operator=(const Counted&) = default;
  ~Counted() { --live; }
};

}  // namespace coil::test

using coil::test::Counted;
using coil::test::frameAddress;
using coil::test::GenericError;
using coil::test::Strings;
