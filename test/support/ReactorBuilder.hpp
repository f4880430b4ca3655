#pragma once
/// @file ReactorBuilder: a fresh reactor per test, on the backend CTest asks for (Twisted's
/// ReactorBuilder). Teardown fails the test on leftover delayed calls, readers or writers.
///
/// CTest runs reactor-touching executables once per built-in backend with COIL_REACTOR=<name>
/// (test/backends/CMakeLists.txt: coil_add_backend_test), so a suite written once runs on all.

#include <coil/backends/Backends.hpp>
#include <coil/backends/PosixReactor.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/plugins/Reactors.hpp>

#include <boost/test/unit_test.hpp>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace coil::test {

/// The backend tests run on: COIL_REACTOR when set and not empty, else the first available
/// built-in (epoll on Linux). Thread: any.
inline std::string defaultReactorName() {
  if (const char* name = std::getenv("COIL_REACTOR"); name && *name) return name;
  std::vector<std::string> available = availableBuiltinBackends();
  if (available.empty()) throw std::runtime_error("no built-in reactor backend is available");
  return available.front();
}

/// Owns one fresh reactor for one test; use as a Boost.Test fixture
/// (`BOOST_FIXTURE_TEST_CASE(name, coil::test::ReactorBuilder)`) or as a local. Thread: the test's.
class ReactorBuilder {
 public:
  /// A new reactor on `backend` (default: defaultReactorName()), built-in or from a plugin
  /// (coil::makeReactor). An unknown name throws NoSuchReactor listing the available ones.
  explicit ReactorBuilder(const std::string& backend = defaultReactorName())
      : backend_(backend), reactor_(coil::makeReactor(backend)) {}

  /// Adopts a reactor built by the test (e.g. over a wrapping Multiplexer).
  explicit ReactorBuilder(std::unique_ptr<ReactorBase> reactor)
      : backend_(std::string(reactor->backendName())), reactor_(std::move(reactor)) {}

  /// Checks the reactor is clean (BOOST_ERROR otherwise), then destroys it.
  ~ReactorBuilder() {
    if (reactor_) checkClean();
  }
  ReactorBuilder(const ReactorBuilder&) = delete;
  ReactorBuilder& operator=(const ReactorBuilder&) = delete;

  /// The reactor under test.
  ReactorBase& reactor() { return *reactor_; }
  /// The reactor as a PosixReactor, or nullptr for another kind.
  PosixReactor* posixReactor() { return dynamic_cast<PosixReactor*>(reactor_.get()); }
  /// The backend name ("epoll").
  const std::string& backend() const { return backend_; }

  /// Iterates (each pass waiting at most `step` seconds) until `done()` is true or `seconds`
  /// have passed; returns done(). Bounded: a test never hangs on a missing event.
  bool iterateUntil(const std::function<bool()>& done, double seconds = 5.0, double step = 0.05) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!done()) {
      if (std::chrono::steady_clock::now() >= deadline) return done();
      reactor_->iterate(step);
    }
    return true;
  }

  /// Fails the test (BOOST_ERROR) for every leftover delayed call, reader or writer, then
  /// cancels the calls and removes the descriptors (calling their connectionLost), so the next
  /// check passes. Called by the destructor; tests may call it earlier.
  void checkClean() {
    std::vector<DelayedCallPtr> calls = reactor_->getDelayedCalls();
    if (!calls.empty()) {
      BOOST_ERROR("reactor [" << backend_ << "] left " << calls.size() << " delayed call(s)");
      for (const DelayedCallPtr& call : calls) {
        try {
          call->cancel();
        } catch (const std::exception&) {
        }
      }
    }
    std::vector<FileDescriptorPtr> readers = reactor_->getReaders();
    std::vector<FileDescriptorPtr> writers = reactor_->getWriters();
    if (!readers.empty() || !writers.empty()) {
      std::string names;
      for (const auto* list : {&readers, &writers})
        for (const FileDescriptorPtr& d : *list) names += " " + d->logPrefix();
      BOOST_ERROR("reactor [" << backend_ << "] left " << readers.size() << " reader(s) and "
                              << writers.size() << " writer(s):" << names);
      for (const FileDescriptorPtr& d : reactor_->removeAll()) {
        try {
          d->connectionLost(Failure(error::ConnectionLost("left over by the test")));
        } catch (...) {
        }
      }
    }
  }

 private:
  std::string backend_;
  std::unique_ptr<ReactorBase> reactor_;
};

}  // namespace coil::test
