#pragma once
/// @file ReactorBase: everything a reactor does that is not I/O — timers, thread calls, system
/// event triggers, run/stop/crash/iterate, the thread pool (Twisted's internet/base.py).
///
/// Backends derive from it and implement the fd-set operations, doIteration() and wakeUp().
/// backends/PosixReactor does so once over a Multiplexer.

#include <coil/core/IReactorCore.hpp>
#include <coil/core/IReactorFDSet.hpp>
#include <coil/core/IReactorThreads.hpp>
#include <coil/core/IReactorTime.hpp>

#include <memory>
#include <optional>
#include <string_view>

namespace coil {

class ThreadPool;

/// The abstract reactor. Thread: reactor, except where a method says "Thread: any".
class ReactorBase : public IReactorCore,
                    public IReactorTime,
                    public IReactorFDSet,
                    public IReactorThreads {
 public:
  /// A reactor that has not run yet.
  ReactorBase();
  /// Stops the thread pool (if one was made) and cancels pending calls.
  ~ReactorBase() override;
  ReactorBase(const ReactorBase&) = delete;
  ReactorBase& operator=(const ReactorBase&) = delete;

  // ---- IReactorTime (monotonic seconds)
  double seconds() const override;
  DelayedCallPtr callLater(double delay, std::function<void()> f) override;
  using IReactorTime::callLater;
  std::vector<DelayedCallPtr> getDelayedCalls() const override;

  // ---- IReactorCore
  bool running() const override;
  void run(bool installSignalHandlers = true) override;
  void stop() override;
  void crash() override;
  void iterate(double delay = 0) override;
  std::optional<TriggerId> callWhenRunning(std::function<void()> f) override;
  TriggerId addSystemEventTrigger(Phase phase, std::string_view event,
                                  SystemEventTrigger f) override;
  void removeSystemEventTrigger(TriggerId id) override;
  void fireSystemEvent(std::string_view event) override;

  // ---- IReactorThreads
  void callFromThread(std::function<void()> f) override;  // Thread: any
  void callInThread(std::function<void()> f) override;
  void suggestThreadPoolSize(std::size_t size) override;
  /// The pool behind callInThread(), created on first use and stopped by a during-shutdown
  /// trigger.
  ThreadPool& getThreadPool();

  // ---- the backend seam
  /// Waits for I/O for at most `timeout` seconds (nullopt: until woken) and dispatches it.
  virtual void doIteration(std::optional<double> timeout) = 0;
  /// Makes a blocked doIteration() return soon. Thread: any; async-signal-safe.
  virtual void wakeUp() = 0;
  /// The backend's registry name ("epoll").
  virtual std::string_view backendName() const = 0;

 protected:
  /// Installs SIGINT/SIGTERM (and SIGCHLD) handling; called during startup by run(true).
  virtual void installSignalHandlers() {}
  /// Runs pending thread calls (those present at entry), then due timed calls; fires
  /// "shutdown" at the end of the pass after stop(). Exceptions are logged.
  void runUntilCurrent();
  /// Seconds until the next timed call, clamped to [0, 2147483]; 0 when thread calls are
  /// pending; nullopt when nothing is scheduled.
  std::optional<double> timeout();
  /// Removes every user descriptor and calls connectionLost(ConnectionLost) on each.
  void disconnectAll();
  /// Stops and joins the thread pool now, if one was made (a during-shutdown trigger does it
  /// too). Backends call it first in their destructor, so that no pool thread calls wakeUp() on
  /// a half-destroyed reactor. Idempotent. Thread: reactor.
  void stopThreadPool();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace coil
