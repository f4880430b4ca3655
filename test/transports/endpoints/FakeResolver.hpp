#pragma once
/// @file FakeResolver: an IHostnameResolver whose answers the test gives, for endpoint tests.

#include <coil/core/IHostnameResolver.hpp>

#include <string>
#include <vector>

namespace coil::test {

/// Records each resolveHostName() call and returns an unfired Deferred the test fires.
/// Thread: the test's.
class FakeResolver : public IHostnameResolver {
 public:
  /// One call.
  struct Call {
    /// The arguments given.
    std::string hostName;
    int port;                        ///< as given
    AddressTypes types;              ///< as given
    std::string transportSemantics;  ///< as given
    /// The Deferred returned (fire it with callback/errback).
    Deferred<std::vector<Address>> result;
  };

  /// Records the call; returns its unfired Deferred.
  Deferred<std::vector<Address>> resolveHostName(std::string hostName, int port, AddressTypes types,
                                                 std::string transportSemantics) override {
    Deferred<std::vector<Address>> d;
    calls.push_back({std::move(hostName), port, types, std::move(transportSemantics), d});
    return d;
  }

  /// Every call, in order.
  std::vector<Call> calls;
};

}  // namespace coil::test
