// Backends: the ordered, conditionally compiled table of built-in readiness backends.
// Tests: test/backends/BackendsTest.cpp
#include <coil/backends/Backends.hpp>

#include <coil/backends/PosixReactor.hpp>
#include <coil/backends/poll/PollMultiplexer.hpp>
#include <coil/backends/select/SelectMultiplexer.hpp>
#ifdef __linux__
#include <sys/epoll.h>
#include <unistd.h>
#include <coil/backends/epoll/EpollMultiplexer.hpp>
#endif

#include <cerrno>
#include <cstring>
#include <optional>
#include <stdexcept>

namespace coil {

namespace {

struct Builtin {
  const char* name;
  const char* description;
  std::optional<std::string> (*probe)();
  std::unique_ptr<Multiplexer> (*make)();
};

std::optional<std::string> alwaysAvailable() {
  return std::nullopt;
}

#ifdef __linux__
std::optional<std::string> probeEpoll() {
  int fd = ::epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return std::string("epoll_create1 failed: ") + std::strerror(errno);
  ::close(fd);
  return std::nullopt;
}
#endif

template <class M>
std::unique_ptr<Multiplexer> make() {
  return std::make_unique<M>();
}

// Registry order: the first available is the default (Twisted: epoll on Linux, else poll).
const Builtin kBuiltins[] = {
#ifdef __linux__
    {"epoll", "epoll(7), level-triggered; regular files are polled continuously", probeEpoll,
     make<EpollMultiplexer>},
#endif
    {"poll", "poll(2)", alwaysAvailable, make<PollMultiplexer>},
    {"select", "select(2); only descriptors below FD_SETSIZE", alwaysAvailable,
     make<SelectMultiplexer>},
};

const Builtin& find(std::string_view name) {
  for (const Builtin& b : kBuiltins)
    if (name == b.name) return b;
  std::string names;
  for (const Builtin& b : kBuiltins) names += std::string(names.empty() ? "" : ", ") + b.name;
  throw std::invalid_argument("unknown reactor backend '" + std::string(name) +
                              "'; built-in backends: " + names);
}

}  // namespace

void registerBuiltins(Registry& registry) {
  for (const Builtin& b : kBuiltins) {
    auto make = b.make;
    registry.addBackend(BackendEntry{
        b.name, b.description, b.probe,
        [make]() -> std::unique_ptr<ReactorBase> { return std::make_unique<PosixReactor>(make()); },
        "built-in"});
  }
}

std::vector<std::string> builtinBackendNames() {
  std::vector<std::string> out;
  for (const Builtin& b : kBuiltins) out.emplace_back(b.name);
  return out;
}

std::vector<std::string> availableBuiltinBackends() {
  std::vector<std::string> out;
  for (const Builtin& b : kBuiltins)
    if (!b.probe()) out.emplace_back(b.name);
  return out;
}

std::unique_ptr<Multiplexer> makeBuiltinMultiplexer(std::string_view name) {
  return find(name).make();
}

std::unique_ptr<ReactorBase> makeBuiltinReactor(std::string_view name) {
  return std::make_unique<PosixReactor>(makeBuiltinMultiplexer(name));
}

}  // namespace coil
