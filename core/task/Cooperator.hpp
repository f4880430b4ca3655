#pragma once
/// @file Cooperator: cooperative multitasking over "iterators" (Twisted's task.Cooperator,
/// CooperativeTask, cooperate and coiterate), driven by any IReactorTime.
///
/// The iterator. Python's iterator is `next()` returning a value, raising StopIteration, or
/// yielding a Deferred. In coil an iterator is a callable `Step()`:
///  - `return {};` (or `Step::more()`): one unit of work done, more to come;
///  - `return Step::done();`: exhausted (StopIteration);
///  - `return someDeferred;` (any `Deferred<T>`, converts implicitly): the task pauses until it
///    fires; its value is consumed (the chain then carries void, as Twisted's result becomes
///    None) and a failure fails the task;
///  - throwing: the task fails with that exception.
/// `task::Generator` writes the same thing as a C++20 coroutine: `co_yield {};` for a unit of
/// work, `co_yield d;` to wait on a Deferred, `co_return;` (or falling off the end) when done.
///
/// Results. Twisted fires whenDone()/coiterate() with the iterator. A type-erased callable is of
/// little use as a value, so coil fires them with the CooperativeTask handle itself (compare it
/// with the handle cooperate() returned; the iterator is released once the task finishes).
///
/// Lifetime. Tasks are handles on shared state; the Cooperator holds its running tasks, a
/// Deferred a task waits on holds that task, and tasks refer to their Cooperator weakly.
/// Destroying a Cooperator stops it (as Cooperator::stop()); a task still paused on a Deferred then
/// fails with SchedulerStopped when it would be resumed.

#include <coil/core/Deferred.hpp>
#include <coil/core/IReactorTime.hpp>

#include <coroutine>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

namespace coil::task {

/// What one call of a cooperative iterator produced: more work, done, or a Deferred to wait on.
class Step {
 public:
  /// One unit of work done, more to come (Python's `yield value`).
  Step() noexcept = default;

  /// Wait on `d`: the task pauses until it fires; its failure fails the task. The value is
  /// consumed (a callback is added to `d` now).
  template <class T>
  Step(Deferred<T> d)  // NOLINT: implicit on purpose, `return d;` from an iterator
      : kind_(Kind::kWait), deferred_(toVoid(std::move(d))) {}

  /// One unit of work done, more to come.
  static Step more() noexcept { return Step(); }
  /// The iterator is exhausted (Python's StopIteration).
  static Step done() noexcept {
    Step s;
    s.kind_ = Kind::kDone;
    return s;
  }
  /// Wait on `d` (same as the implicit conversion).
  template <class T>
  static Step wait(Deferred<T> d) {
    return Step(std::move(d));
  }

  /// True for done().
  bool isDone() const noexcept { return kind_ == Kind::kDone; }
  /// True when the iterator produced a Deferred to wait on.
  bool isWait() const noexcept { return kind_ == Kind::kWait; }
  /// The Deferred to wait on (precondition: isWait()); moved out by the Cooperator.
  Deferred<void>& deferred() noexcept { return *deferred_; }

 private:
  enum class Kind { kMore, kDone, kWait };

  template <class T>
  static Deferred<void> toVoid(Deferred<T> d) {
    if constexpr (std::is_void_v<T>) {
      return d;
    } else {
      return d.addCallback([](auto&&...) {});
    }
  }

  Kind kind_ = Kind::kMore;
  std::optional<Deferred<void>> deferred_;
};

/// A cooperative iterator: called once per unit of work (see the file comment).
using Iterator = std::function<Step()>;

/// A coroutine usable as an Iterator: `co_yield {};`, `co_yield deferred;`, `co_return;`.
/// Runs lazily (nothing runs before the first call), like a Python generator. Copies share one
/// coroutine. Thread: the Cooperator's.
class Generator {
 public:
  /// The coroutine's promise.
  struct promise_type {
    /// The last co_yield-ed step.
    Step current;
    /// An exception that escaped the body.
    std::exception_ptr error;

    /// The Generator the caller gets.
    Generator get_return_object() {
      return Generator(std::coroutine_handle<promise_type>::from_promise(*this));
    }
    /// Lazy start.
    std::suspend_always initial_suspend() noexcept { return {}; }
    /// Kept until the Generator releases it.
    std::suspend_always final_suspend() noexcept { return {}; }
    /// `co_yield step;`
    std::suspend_always yield_value(Step s) noexcept {
      current = std::move(s);
      return {};
    }
    /// `co_return;`
    void return_void() noexcept {}
    /// Stores the exception for the caller.
    void unhandled_exception() noexcept { error = std::current_exception(); }
  };

  /// Runs the coroutine to its next co_yield: that step, Step::done() once it has returned; an
  /// exception from the body is rethrown (once; then it is done).
  Step operator()() {
    auto h = frame_->handle;
    if (h.done()) return Step::done();
    h.resume();
    if (h.promise().error) std::rethrow_exception(std::exchange(h.promise().error, nullptr));
    if (h.done()) return Step::done();
    return std::move(h.promise().current);
  }

 private:
  struct Frame {
    std::coroutine_handle<promise_type> handle;
    explicit Frame(std::coroutine_handle<promise_type> h) noexcept : handle(h) {}
    ~Frame() { handle.destroy(); }
    Frame(const Frame&) = delete;
    Frame& operator=(const Frame&) = delete;
  };

  explicit Generator(std::coroutine_handle<promise_type> h) : frame_(std::make_shared<Frame>(h)) {}

  std::shared_ptr<Frame> frame_;
};

}  // namespace coil::task

namespace coil::detail {
class CooperativeTaskState;
class CooperatorState;
}  // namespace coil::detail

namespace coil::task {

/// A task inside a Cooperator (Twisted's CooperativeTask): a handle that can pause, resume and
/// stop the task and wait for its end. Copies refer to the same task. Thread: the Cooperator's.
class CooperativeTask {
 public:
  /// A Deferred fired with this task when its iterator is exhausted, failed with the iterator's
  /// failure, with TaskStopped after stop(), or with SchedulerStopped when the Cooperator stops.
  /// A new Deferred each call; already finished tasks give a fired one.
  Deferred<CooperativeTask> whenDone();

  /// Stops doing work until resume(); counted (pause twice, resume twice). Throws the
  /// TaskFinished subclass matching how the task ended (TaskDone, TaskStopped, TaskFailed) or
  /// SchedulerStopped, once it has ended.
  void pause();

  /// Undoes one pause(); the task runs again from the Cooperator's next tick (not now). Throws
  /// NotPaused unless paused (even after the task ended).
  void resume();

  /// Stops the task for good: whenDone() Deferreds fail with TaskStopped. Throws like pause()
  /// once the task has ended. A Deferred the task is waiting on is not cancelled; its result is
  /// then ignored.
  void stop();

  /// True when both handles refer to the same task.
  friend bool operator==(const CooperativeTask& a, const CooperativeTask& b) noexcept {
    return a.s_ == b.s_;
  }

 private:
  friend class Cooperator;
  friend class coil::detail::CooperativeTaskState;
  explicit CooperativeTask(std::shared_ptr<coil::detail::CooperativeTaskState> s) noexcept
      : s_(std::move(s)) {}

  std::shared_ptr<coil::detail::CooperativeTaskState> s_;
};

/// Runs many iterators in round-robin time slices on a clock (Twisted's task.Cooperator).
/// Not copyable or movable. Thread: the clock's (reactor).
class Cooperator {
 public:
  /// Returns true once the current tick should end.
  using TerminationPredicate = std::function<bool()>;
  /// Called at the start of each tick for that tick's TerminationPredicate.
  using TerminationPredicateFactory = std::function<TerminationPredicate()>;
  /// Runs its argument later; returns the handle used to cancel it.
  using Scheduler = std::function<DelayedCallPtr(std::function<void()>)>;

  /// The default time slice per tick, in seconds (Twisted's _Timer.MAX_SLICE).
  static constexpr double kMaxSlice = 0.01;
  /// The default scheduler's delay between ticks (Twisted's _EPSILON): with task::Clock,
  /// advance(kEpsilon) (or more) runs one tick.
  static constexpr double kEpsilon = 1e-8;

  /// A factory of predicates that end a tick after `seconds` of std::chrono::steady_clock time
  /// (the default factory uses kMaxSlice).
  static TerminationPredicateFactory timeSlice(double seconds = kMaxSlice);

  /// A cooperator on `clock`. An empty `terminationPredicateFactory` means timeSlice(); an empty
  /// `scheduler` means `clock.callLater(kEpsilon, f)`. With `started` false, no tick is
  /// scheduled until start(). `clock` must outlive the Cooperator.
  explicit Cooperator(IReactorTime& clock,
                      TerminationPredicateFactory terminationPredicateFactory = {},
                      Scheduler scheduler = {}, bool started = true);
  /// Stops the cooperator (see stop()) unless already stopped; callbacks that run then must not
  /// use this Cooperator.
  ~Cooperator();
  Cooperator(const Cooperator&) = delete;
  Cooperator& operator=(const Cooperator&) = delete;

  /// Adds `iterator` as a new task, run from the next tick. After stop(), the task has already
  /// failed with SchedulerStopped.
  CooperativeTask cooperate(Iterator iterator);

  /// cooperate(iterator).whenDone().
  Deferred<CooperativeTask> coiterate(Iterator iterator);

  /// Begins scheduling ticks (for a Cooperator created with started = false), and accepts tasks
  /// again after stop().
  void start();

  /// Fails every running task's whenDone() with SchedulerStopped, forgets them, cancels the
  /// scheduled tick; new tasks fail at once until start(). Paused tasks fail when resumed.
  void stop();

  /// True when started and not stopped.
  bool running() const noexcept;

 private:
  std::shared_ptr<coil::detail::CooperatorState> s_;
};

}  // namespace coil::task
