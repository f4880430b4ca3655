#pragma once
/// @file ReactorBase: everything a reactor does that is not I/O — timers, thread calls, system
/// event triggers, run/stop/crash/iterate, the thread pool (Twisted's internet/base.py).
///
/// Backends derive from it and implement the fd-set operations, doIteration() and wakeUp().
/// backends/PosixReactor does so once over a Multiplexer.

#include <coil/core/IHostnameResolver.hpp>
#include <coil/core/IReactorCore.hpp>
#include <coil/core/IReactorFDSet.hpp>
#include <coil/core/IReactorMulticast.hpp>
#include <coil/core/IReactorSocket.hpp>
#include <coil/core/IReactorTCP.hpp>
#include <coil/core/IReactorThreads.hpp>
#include <coil/core/IReactorTime.hpp>
#include <coil/core/IReactorUDP.hpp>
#include <coil/core/IReactorUNIX.hpp>
#include <coil/core/IReactorUNIXDatagram.hpp>

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

/// Debug builds: `reactor.assertReactorThread(method)`; release builds: nothing.
#ifndef NDEBUG
#define COIL_ASSERT_REACTOR_THREAD(reactor, method) (reactor).assertReactorThread(method)
#else
#define COIL_ASSERT_REACTOR_THREAD(reactor, method) ((void)0)
#endif

namespace coil {

class ThreadPool;

/// The abstract reactor. Thread: reactor, except where a method says "Thread: any".
///
/// It offers every capability interface so that code holding a ReactorBase& can call
/// listenTCP() and the rest directly; a backend overrides what it supports, and the others
/// throw NotImplementedError naming the backend and the method.
class ReactorBase : public IReactorCore,
                    public IReactorTime,
                    public IReactorFDSet,
                    public IReactorThreads,
                    public IReactorTCP,
                    public IReactorUNIX,
                    public IReactorSocket,
                    public IReactorUDP,
                    public IReactorMulticast,
                    public IReactorUNIXDatagram {
 public:
  /// A reactor that has not run yet.
  ReactorBase();
  /// Stops the thread pool (if one was made) and cancels pending calls.
  ~ReactorBase() override;
  ReactorBase(const ReactorBase&) = delete;
  ReactorBase& operator=(const ReactorBase&) = delete;

  // ---- IReactorTime (monotonic seconds)
  double seconds() const override;
  DelayedCallPtr callLater(double delay, DelayedFunction f) override;
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

  /// Aborts with a message naming `method` unless the caller is on the reactor thread (the
  /// thread that made the reactor, or the one in run()). Backends and transports call it through
  /// COIL_ASSERT_REACTOR_THREAD, which debug builds (NDEBUG undefined) keep and release builds
  /// drop. Thread: any.
  void assertReactorThread(const char* method) const noexcept;

  // ---- name resolution (IReactorPluggableNameResolver)
  /// The resolver used for host names (backends install a getaddrinfo one running in the
  /// thread pool). Throws NotImplementedError when none is installed.
  IHostnameResolver& nameResolver();
  /// Replaces the resolver; returns the previous one (may be null).
  std::shared_ptr<IHostnameResolver> installNameResolver(
      std::shared_ptr<IHostnameResolver> resolver);
  /// Twisted's reactor.resolve(): "" is "0.0.0.0", an IPv4 literal is itself, anything else is
  /// the first IPv4 address nameResolver() finds. Fails with error::DNSLookupError ("address
  /// 'x' not found"), also when the sum of `timeout` (60 s if empty) passes first.
  Deferred<std::string> resolve(std::string name,
                                std::vector<double> timeout = {1.0, 3.0, 11.0, 45.0});

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

  // ---- capabilities a backend may lack: each throws NotImplementedError unless overridden
  std::shared_ptr<IListeningPort> doListenTCP(int port, std::shared_ptr<Factory> factory,
                                              int backlog, std::string_view interface) override;
  std::shared_ptr<IConnector> doConnectTCP(std::string_view host, int port,
                                           std::shared_ptr<ClientFactory> factory, double timeout,
                                           std::optional<BindAddress> bindAddress) override;
  std::shared_ptr<IListeningPort> doListenUNIX(std::string address,
                                               std::shared_ptr<Factory> factory, int backlog,
                                               int mode, bool wantPID) override;
  std::shared_ptr<IConnector> doConnectUNIX(std::string address,
                                            std::shared_ptr<ClientFactory> factory, double timeout,
                                            bool checkPID) override;
  std::shared_ptr<IListeningPort> doAdoptStreamPort(int fd, int addressFamily,
                                                    std::shared_ptr<Factory> factory) override;
  void doAdoptStreamConnection(int fd, int addressFamily,
                               std::shared_ptr<Factory> factory) override;
  std::shared_ptr<IUDPPort> doAdoptDatagramPort(int fd, int addressFamily,
                                                std::shared_ptr<DatagramProtocol> protocol,
                                                std::size_t maxPacketSize) override;
  std::shared_ptr<IUDPPort> doListenUDP(int port, std::shared_ptr<DatagramProtocol> protocol,
                                        std::string_view interface,
                                        std::size_t maxPacketSize) override;
  std::shared_ptr<IMulticastPort> doListenMulticast(int port,
                                                    std::shared_ptr<DatagramProtocol> protocol,
                                                    std::string_view interface,
                                                    std::size_t maxPacketSize,
                                                    bool listenMultiple) override;
  std::shared_ptr<IUNIXDatagramPort> doListenUNIXDatagram(
      std::string address, std::shared_ptr<DatagramProtocol> protocol, std::size_t maxPacketSize,
      int mode) override;
  std::shared_ptr<IUNIXDatagramConnectedPort> doConnectUNIXDatagram(
      std::string address, std::shared_ptr<ConnectedDatagramProtocol> protocol,
      std::size_t maxPacketSize, int mode, std::optional<std::string> bindAddress) override;
  /// Throws NotImplementedError("<backend> does not implement <method>").
  [[noreturn]] void notImplemented(std::string_view method) const;
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
