// ReactorBase: the reactor without I/O — lifecycle, system event triggers, timers, thread calls.
// Tests: test/core/reactor/ (LifecycleTest, TriggerTest, TimeTest, ThreadsTest, NullReactorTest)
#include <coil/core/ReactorBase.hpp>

#include <coil/core/DeferredList.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/Log.hpp>
#include <coil/core/Protocol.hpp>
#include <coil/core/Result.hpp>
#include <coil/core/ThreadPool.hpp>

#include <coil/core/detail/TimerQueue.hpp>
#include <cstdio>
#include <cstdlib>

#include <boost/signals2/dummy_mutex.hpp>
#include <boost/signals2/signal.hpp>
#include <boost/signals2/signal_type.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace coil {

namespace {

namespace bs2 = boost::signals2;

constexpr const char* kLogSystem = "coil.reactor";

// Twisted's isIPAddress for AF_INET: four decimal parts of at most 255 (core knows no
// inet_pton).
bool isIPv4Literal(std::string_view s) {
  int parts = 0;
  std::size_t i = 0;
  while (i <= s.size()) {
    std::size_t start = i;
    int value = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9' && i - start < 3) {
      value = value * 10 + (s[i] - '0');
      ++i;
    }
    if (i == start || value > 255) return false;
    ++parts;
    if (i == s.size()) break;
    if (s[i] != '.') return false;
    ++i;
  }
  return parts == 4;
}

// The longest wait timeout() returns: 2**31 ms, the most epoll_wait's int accepts.
constexpr double kLongestTimeout = 2147483.0;

double steadySeconds() {
  using std::chrono::duration;
  using std::chrono::steady_clock;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}

using TriggerResult = std::optional<Deferred<void>>;

// The Signals2 combiner of a trigger phase: calls every connected trigger in connection order
// (each one disconnects itself first: triggers are consumed) and gathers the Deferreds they
// returned. Exceptions never reach it: each slot logs its own.
struct GatherDeferreds {
  using result_type = std::vector<Deferred<void>>;
  template <class It>
  result_type operator()(It first, It last) const {
    result_type gathered;
    for (; first != last; ++first) {
      auto&& returned = *first;
      if (returned) gathered.push_back(std::move(*returned));
    }
    return gathered;
  }
};

// One phase of one event. Reactor-thread only, hence no locking.
using TriggerSignal =
    bs2::signal_type<TriggerResult(), bs2::keywords::combiner_type<GatherDeferreds>,
                     bs2::keywords::mutex_type<bs2::dummy_mutex>>::type;

std::size_t phaseIndex(Phase phase) {
  auto index = static_cast<std::size_t>(phase);
  if (index > 2) throw std::invalid_argument("addSystemEventTrigger: invalid phase");
  return index;
}

// Twisted's _ThreePhaseEvent for every event name, with Signals2 doing the fan-out.
class TriggerTable : public std::enable_shared_from_this<TriggerTable> {
 public:
  TriggerId add(Phase phase, std::string_view name, SystemEventTrigger f) {
    if (!f) throw std::invalid_argument("addSystemEventTrigger: an empty trigger");
    std::size_t index = phaseIndex(phase);
    auto it = events_.find(name);
    if (it == events_.end())
      it = events_.emplace(std::string(name), std::make_shared<Event>()).first;
    std::uint64_t id = nextId_++;
    Entry entry{it->second, phase, {}, std::move(f)};
    entry.connection =
        it->second->phases[index].connect_extended([this, id](const bs2::connection& self) {
          self.disconnect();
          return consume(id);
        });
    entries_.emplace(id, std::move(entry));
    return TriggerId{id};
  }

  void remove(TriggerId id) {
    if (auto it = entries_.find(id.value); it != entries_.end()) {
      it->second.connection.disconnect();
      SystemEventTrigger released = std::move(it->second.f);
      entries_.erase(it);
      return;  // `released` dies with the table consistent
    }
    // Twisted only warns when a before-trigger that already ran is removed while its event is
    // still in the before phase (waiting for the Deferreds).
    for (auto& [name, event] : events_) {
      if (!event->firingBefore) continue;
      auto& done = event->finishedBefore;
      if (auto found = std::find(done.begin(), done.end(), id.value); found != done.end()) {
        done.erase(found);
        log::warn(kLogSystem, "Removing a before-trigger of \"" + name +
                                  "\" that has already run while the event is firing");
        return;
      }
    }
    throw std::invalid_argument("removeSystemEventTrigger: no such trigger (id " +
                                std::to_string(id.value) + "): unknown, removed or already run");
  }

  void fire(std::string_view name) {
    auto it = events_.find(name);
    if (it == events_.end()) return;
    std::shared_ptr<Event> event = it->second;
    event->firingBefore = true;
    event->finishedBefore.clear();
    std::vector<Deferred<void>> waits;
    drain(event->phases[0], &waits);
    if (waits.empty()) {
      continueFiring(*event);
      return;
    }
    // During and after run once every gathered Deferred has fired, successfully or not (the
    // failures stay in their own chains, as in Twisted).
    std::weak_ptr<TriggerTable> table = weak_from_this();
    std::weak_ptr<Event> weakEvent = event;
    DeferredList<void>(std::move(waits)).addCallback([table, weakEvent](std::vector<Result<void>>) {
      std::shared_ptr<TriggerTable> t = table.lock();
      std::shared_ptr<Event> e = weakEvent.lock();
      if (t && e) t->continueFiring(*e);
    });
  }

 private:
  struct Event {
    std::array<TriggerSignal, 3> phases;  // before, during, after
    bool firingBefore = false;            // Twisted's state "BEFORE"
    std::vector<std::uint64_t> finishedBefore;
  };

  struct Entry {
    std::shared_ptr<Event> event;
    Phase phase;
    bs2::connection connection;
    SystemEventTrigger f;
  };

  // Calls the triggers connected when each round starts, in order; the ones connected meanwhile
  // run in the next round, so triggers added while firing also run, after the others (FIFO).
  static void drain(TriggerSignal& signal, std::vector<Deferred<void>>* gathered) {
    while (!signal.empty()) {
      std::vector<Deferred<void>> returned = signal();
      if (gathered)
        for (Deferred<void>& d : returned) gathered->push_back(std::move(d));
    }
  }

  void continueFiring(Event& event) {
    event.firingBefore = false;
    event.finishedBefore.clear();
    drain(event.phases[1], nullptr);
    drain(event.phases[2], nullptr);
  }

  // The body of every slot: forgets the trigger (consumed), then runs it, logging exceptions.
  TriggerResult consume(std::uint64_t id) {
    auto it = entries_.find(id);
    if (it == entries_.end()) return std::nullopt;
    SystemEventTrigger f = std::move(it->second.f);
    Phase phase = it->second.phase;
    std::shared_ptr<Event> event = std::move(it->second.event);
    entries_.erase(it);
    if (phase == Phase::before && event->firingBefore) event->finishedBefore.push_back(id);
    try {
      return f();
    } catch (...) {
      log::currentException("Unhandled error in a system event trigger", kLogSystem);
      return std::nullopt;
    }
  }

  std::map<std::string, std::shared_ptr<Event>, std::less<>> events_;
  std::unordered_map<std::uint64_t, Entry> entries_;
  std::uint64_t nextId_ = 1;  // 0 is never issued
};

}  // namespace

struct ReactorBase::Impl {
  explicit Impl(ReactorBase& owner)
      : self(owner),
        timers([this] { return self.seconds(); }),
        triggers(std::make_shared<TriggerTable>()) {}

  ReactorBase& self;

  // Twisted's flags: _started (run() in progress), _stopped (true before run and after stop),
  // _startedBefore (set by stop: not restartable), _justStopped (fire "shutdown" at the end of
  // this pass), running (from during-startup to during-shutdown).
  bool started = false;
  bool stopped = true;
  bool startedBefore = false;
  bool justStopped = false;
  bool running = false;
  bool installSignals = false;
  // threadCalls.size(), written under the mutex: lets a pass with no thread calls (the common
  // case) skip the lock. A call queued just after the check is safe: its wakeUp() ends the
  // next wait. Next to the flags: every pass reads both.
  std::atomic<std::size_t> threadCallCount{0};

  detail::TimerQueue timers;
  std::shared_ptr<TriggerTable> triggers;

  std::mutex threadCallMutex;
  std::vector<std::function<void()>> threadCalls;  // guarded by threadCallMutex
  std::atomic<bool> destroying{false};

  std::unique_ptr<ThreadPool> pool;
  std::vector<std::unique_ptr<ThreadPool>> retiredPools;  // stopped; kept so references stay valid
  std::shared_ptr<IHostnameResolver> resolver;
  // The reactor thread: the constructing one, then the one that calls run().
  std::atomic<std::thread::id> owner{std::this_thread::get_id()};
  std::optional<TriggerId> poolStartupId;
  std::optional<TriggerId> poolShutdownId;

  // Twisted's "during startup" _reallyStartRunning, (re-)added by the constructor and crash().
  void addStartupTrigger() {
    triggers->add(Phase::during, "startup", [this]() -> TriggerResult {
      reallyStartRunning();
      return std::nullopt;
    });
  }

  void reallyStartRunning() {
    if (running) return;  // crash() before the first run() left two of these triggers
    running = true;
    if (installSignals) self.installSignalHandlers();
  }

  void startRunning(bool installSignalHandlers) {
    if (started) throw error::ReactorAlreadyRunning();
    if (startedBefore) throw error::ReactorNotRestartable();
    started = true;
    stopped = false;
    installSignals = installSignalHandlers;
    self.fireSystemEvent("startup");
  }

  void mainLoop() {
    while (started) {
      try {
        while (started) {
          self.runUntilCurrent();
          // Crashed or shut down during the pass: leave without waiting again. (Twisted polls
          // once more with timeout 0; nothing is left to dispatch once disconnectAll has run.)
          if (!started) break;
          // Twisted waits 0 while not yet running (a before-startup Deferred pending), which
          // busy-polls; coil waits for the next timed call or a wake-up instead.
          self.doIteration(self.timeout());
        }
      } catch (...) {
        log::currentException("Unexpected error in main loop.", kLogSystem);
      }
    }
  }

  bool threadCallsPending() const noexcept {
    return threadCallCount.load(std::memory_order_acquire) != 0;
  }
};

ReactorBase::ReactorBase() : impl_(std::make_unique<Impl>(*this)) {
  // Registered first, so they precede every user trigger of the same phase.
  impl_->addStartupTrigger();
  impl_->triggers->add(Phase::during, "shutdown", [this]() -> TriggerResult {
    crash();
    return std::nullopt;
  });
  impl_->triggers->add(Phase::during, "shutdown", [this]() -> TriggerResult {
    disconnectAll();
    return std::nullopt;
  });
}

ReactorBase::~ReactorBase() {
  // The derived part is gone: pool threads still calling callFromThread() must not wakeUp().
  impl_->destroying.store(true, std::memory_order_release);
  stopThreadPool();
}

// ---- IReactorTime

double ReactorBase::seconds() const {
  return steadySeconds();
}

DelayedCallPtr ReactorBase::callLater(double delay, DelayedFunction f) {
  COIL_ASSERT_REACTOR_THREAD(*this, "callLater");
  detail::checkDelay("callLater", delay);
  if (!f) throw std::invalid_argument("callLater: an empty function");
  return impl_->timers.schedule(seconds() + delay, std::move(f));
}

std::vector<DelayedCallPtr> ReactorBase::getDelayedCalls() const {
  return impl_->timers.pending();
}

// ---- IReactorCore

bool ReactorBase::running() const {
  return impl_->running;
}

void ReactorBase::run(bool installSignalHandlers) {
  impl_->owner.store(std::this_thread::get_id(), std::memory_order_relaxed);
  impl_->startRunning(installSignalHandlers);
  impl_->mainLoop();
}

void ReactorBase::stop() {
  Impl& m = *impl_;
  if (m.stopped) throw error::ReactorNotRunning();
  m.stopped = true;
  m.justStopped = true;
  m.startedBefore = true;
}

void ReactorBase::crash() {
  COIL_ASSERT_REACTOR_THREAD(*this, "crash");
  Impl& m = *impl_;
  m.started = false;
  m.running = false;
  m.addStartupTrigger();
}

void ReactorBase::iterate(double delay) {
  COIL_ASSERT_REACTOR_THREAD(*this, "iterate");
  detail::checkDelay("iterate", delay);
  runUntilCurrent();
  doIteration(delay);
}

std::optional<TriggerId> ReactorBase::callWhenRunning(std::function<void()> f) {
  COIL_ASSERT_REACTOR_THREAD(*this, "callWhenRunning");
  if (!f) throw std::invalid_argument("callWhenRunning: an empty function");
  if (impl_->running) {
    f();
    return std::nullopt;
  }
  return impl_->triggers->add(Phase::after, "startup", [f = std::move(f)]() -> TriggerResult {
    f();
    return std::nullopt;
  });
}

TriggerId ReactorBase::addSystemEventTrigger(Phase phase, std::string_view event,
                                             SystemEventTrigger f) {
  COIL_ASSERT_REACTOR_THREAD(*this, "addSystemEventTrigger");
  return impl_->triggers->add(phase, event, std::move(f));
}

void ReactorBase::removeSystemEventTrigger(TriggerId id) {
  COIL_ASSERT_REACTOR_THREAD(*this, "removeSystemEventTrigger");
  impl_->triggers->remove(id);
}

void ReactorBase::fireSystemEvent(std::string_view event) {
  COIL_ASSERT_REACTOR_THREAD(*this, "fireSystemEvent");
  std::shared_ptr<TriggerTable> triggers = impl_->triggers;
  triggers->fire(event);
}

// ---- IReactorThreads

void ReactorBase::callFromThread(std::function<void()> f) {
  if (!f) throw std::invalid_argument("callFromThread: an empty function");
  Impl& m = *impl_;
  {
    std::lock_guard lock(m.threadCallMutex);
    m.threadCalls.push_back(std::move(f));
    m.threadCallCount.store(m.threadCalls.size(), std::memory_order_release);
  }
  if (!m.destroying.load(std::memory_order_acquire)) wakeUp();
}

void ReactorBase::callInThread(std::function<void()> f) {
  if (!f) throw std::invalid_argument("callInThread: an empty function");
  getThreadPool().callInThread(std::move(f));
}

void ReactorBase::suggestThreadPoolSize(std::size_t size) {
  COIL_ASSERT_REACTOR_THREAD(*this, "suggestThreadPoolSize");
  ThreadPool& pool = getThreadPool();
  pool.adjustPoolsize(pool.minThreads(), size);
}

void ReactorBase::assertReactorThread(const char* method) const noexcept {
  if (std::this_thread::get_id() == impl_->owner.load(std::memory_order_relaxed)) return;
  std::fprintf(stderr,
               "coil: %s called off the reactor thread (%s reactor); only callFromThread(), "
               "wakeUp() and stop() through callFromThread() are safe from other threads\n",
               method, std::string(backendName()).c_str());
  std::abort();
}

// ---- name resolution

IHostnameResolver& ReactorBase::nameResolver() {
  if (!impl_->resolver) notImplemented("nameResolver (no resolver installed)");
  return *impl_->resolver;
}

std::shared_ptr<IHostnameResolver> ReactorBase::installNameResolver(
    std::shared_ptr<IHostnameResolver> resolver) {
  std::swap(impl_->resolver, resolver);
  return resolver;
}

Deferred<std::string> ReactorBase::resolve(std::string name, std::vector<double> timeout) {
  if (name.empty()) return succeed(std::string("0.0.0.0"));
  if (isIPv4Literal(name)) return succeed(std::move(name));
  if (!impl_->resolver) {
    return fail<std::string>(
        error::DNSLookupError("address '" + name + "' not found: no resolver"));
  }
  double total = 0;
  for (double t : timeout) total += t;
  if (timeout.empty()) total = 60;
  return impl_->resolver->resolveHostName(name, 0, AddressTypes::ipv4)
      .addTimeout(total, *this)
      .addCallbacks(
          [name](std::vector<Address> found) -> Result<std::string> {
            for (const Address& a : found) {
              if (const auto* v4 = std::get_if<IPv4Address>(&a)) return v4->host;
            }
            return Failure(error::DNSLookupError("address '" + name + "' not found"));
          },
          [name](Failure f) -> Result<std::string> {
            if (f.check<TimeoutError>()) {
              return Failure(
                  error::DNSLookupError("address '" + name + "' not found: timeout error"));
            }
            return f;
          });
}

// ---- capabilities the backend did not override

void ReactorBase::notImplemented(std::string_view method) const {
  throw NotImplementedError(std::string(backendName()) + " does not implement " +
                            std::string(method));
}

std::shared_ptr<IListeningPort> ReactorBase::doListenTCP(int, std::shared_ptr<Factory>, int,
                                                         std::string_view) {
  notImplemented("listenTCP");
}

std::shared_ptr<IConnector> ReactorBase::doConnectTCP(std::string_view, int,
                                                      std::shared_ptr<ClientFactory>, double,
                                                      std::optional<BindAddress>) {
  notImplemented("connectTCP");
}

std::shared_ptr<IListeningPort> ReactorBase::doListenUNIX(std::string, std::shared_ptr<Factory>,
                                                          int, int, bool) {
  notImplemented("listenUNIX");
}

std::shared_ptr<IConnector> ReactorBase::doConnectUNIX(std::string, std::shared_ptr<ClientFactory>,
                                                       double, bool) {
  notImplemented("connectUNIX");
}

std::shared_ptr<IListeningPort> ReactorBase::doAdoptStreamPort(int, int, std::shared_ptr<Factory>) {
  notImplemented("adoptStreamPort");
}

void ReactorBase::doAdoptStreamConnection(int, int, std::shared_ptr<Factory>) {
  notImplemented("adoptStreamConnection");
}

std::shared_ptr<IUDPPort> ReactorBase::doAdoptDatagramPort(int, int,
                                                           std::shared_ptr<DatagramProtocol>,
                                                           std::size_t) {
  notImplemented("adoptDatagramPort");
}

std::shared_ptr<IUDPPort> ReactorBase::doListenUDP(int, std::shared_ptr<DatagramProtocol>,
                                                   std::string_view, std::size_t) {
  notImplemented("listenUDP");
}

std::shared_ptr<IMulticastPort> ReactorBase::doListenMulticast(int,
                                                               std::shared_ptr<DatagramProtocol>,
                                                               std::string_view, std::size_t,
                                                               bool) {
  notImplemented("listenMulticast");
}

std::shared_ptr<IUNIXDatagramPort> ReactorBase::doListenUNIXDatagram(
    std::string, std::shared_ptr<DatagramProtocol>, std::size_t, int) {
  notImplemented("listenUNIXDatagram");
}

std::shared_ptr<IUNIXDatagramConnectedPort> ReactorBase::doConnectUNIXDatagram(
    std::string, std::shared_ptr<ConnectedDatagramProtocol>, std::size_t, int,
    std::optional<std::string>) {
  notImplemented("connectUNIXDatagram");
}

ThreadPool& ReactorBase::getThreadPool() {
  Impl& m = *impl_;
  if (!m.pool) {
    m.pool = std::make_unique<ThreadPool>(0, 10, "coil.reactor");
    ThreadPool* pool = m.pool.get();
    m.poolStartupId = callWhenRunning([pool] { pool->start(); });
    m.poolShutdownId = m.triggers->add(Phase::during, "shutdown", [this]() -> TriggerResult {
      stopThreadPool();
      return std::nullopt;
    });
  }
  return *m.pool;
}

void ReactorBase::stopThreadPool() {
  Impl& m = *impl_;
  if (!m.pool) return;
  for (std::optional<TriggerId>* id : {&m.poolStartupId, &m.poolShutdownId}) {
    if (!*id) continue;
    try {
      m.triggers->remove(**id);
    } catch (const std::invalid_argument&) {
      // already run (the startup one, or the shutdown one calling us now)
    }
    id->reset();
  }
  std::unique_ptr<ThreadPool> pool = std::move(m.pool);
  pool->stop();
  m.retiredPools.push_back(std::move(pool));
}

// ---- the main loop

void ReactorBase::runUntilCurrent() {
  Impl& m = *impl_;

  // (1) The thread calls present at entry, FIFO; those queued meanwhile wait for the next pass.
  if (m.threadCallsPending()) {
    std::vector<std::function<void()>> calls;
    {
      std::lock_guard lock(m.threadCallMutex);
      calls.swap(m.threadCalls);
      m.threadCallCount.store(0, std::memory_order_release);
    }
    for (std::function<void()>& f : calls) {
      log::callLogged("Unhandled error in a thread call", kLogSystem, f);
      f = nullptr;  // release what it captured now, on this thread
    }
    calls.clear();
    bool more;
    {
      std::lock_guard lock(m.threadCallMutex);
      more = !m.threadCalls.empty();
      if (!more) m.threadCalls.swap(calls);  // keep the capacity
    }
    if (more) wakeUp();
  }

  // (2)+(3) Every timed call due now, in (time, FIFO) order — except those scheduled (or
  // rescheduled) by this pass's timed calls: they run on the next pass, after one I/O poll.
  if (!m.timers.idle()) {
    const std::uint64_t mark = m.timers.mark();
    const double now = m.timers.empty() ? 0.0 : seconds();  // no clock read when nothing is due
    while (auto due = m.timers.popDue(now, mark)) {
      // Written out rather than log::callLogged(), which GCC does not inline: the hot loop.
      try {
        due.run();
      } catch (...) {
        log::currentException("Unhandled error in a delayed call", kLogSystem);
      }
    }
  }

  // (5) stop() asks for "shutdown" at the end of the pass in progress.
  if (m.justStopped) {
    m.justStopped = false;
    fireSystemEvent("shutdown");
  }
}

std::optional<double> ReactorBase::timeout() {
  Impl& m = *impl_;
  if (m.threadCallsPending()) return 0.0;
  std::optional<double> next = m.timers.nextTime();
  if (!next) return std::nullopt;
  return std::clamp(*next - seconds(), 0.0, kLongestTimeout);
}

void ReactorBase::disconnectAll() {
  std::vector<FileDescriptorPtr> selectables = removeAll();
  std::unordered_set<IFileDescriptor*> seen;
  for (const FileDescriptorPtr& selectable : selectables) {
    if (!selectable || !seen.insert(selectable.get()).second) continue;
    log::callLogged("Unhandled error in connectionLost during shutdown", kLogSystem,
                    [&] { selectable->connectionLost(Failure(error::ConnectionLost())); });
  }
}

}  // namespace coil
