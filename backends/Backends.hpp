#pragma once
/// @file Backends: the built-in readiness backends (epoll on Linux, poll, select) as registry
/// entries, and direct factories for tests.

#include <coil/core/Multiplexer.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/core/Registry.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace coil {

/// Adds the built-in backends to `registry`, default first: epoll (Linux only), poll, select.
/// Each entry's probe says whether it can run here and create() makes a PosixReactor over it.
/// Throws std::invalid_argument if a name is already taken. Thread: any (at startup).
void registerBuiltins(Registry& registry);

/// Names of the compiled-in built-in backends, in registry order. Thread: any.
std::vector<std::string> builtinBackendNames();

/// The built-in backends whose probe passes here, in registry order (the first is the
/// default). Thread: any.
std::vector<std::string> availableBuiltinBackends();

/// A fresh multiplexer of the built-in backend `name`. An unknown name throws
/// std::invalid_argument listing the built-in names; a backend the kernel refuses throws
/// std::system_error. Thread: any.
std::unique_ptr<Multiplexer> makeBuiltinMultiplexer(std::string_view name);

/// A fresh, not yet running PosixReactor over the built-in backend `name` (for tests and the
/// registry's create()). Errors as makeBuiltinMultiplexer(). Thread: any.
std::unique_ptr<ReactorBase> makeBuiltinReactor(std::string_view name);

}  // namespace coil
