// Cooperator: round-robin ticks over cooperative tasks, and the CooperativeTask state machine.
// Tests: test/core/task/CooperatorTest.cpp
#include <coil/core/task/Cooperator.hpp>

#include <coil/core/Errors.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <utility>
#include <vector>

namespace coil::detail {

using task::CooperativeTask;
using task::Cooperator;
using task::Iterator;
using task::NotPaused;
using task::SchedulerStopped;
using task::TaskDone;
using task::TaskFailed;
using task::TaskStopped;

/// How a task ended (Twisted's _completionState).
enum class Completion { kNone, kDone, kStopped, kFailed, kSchedulerStopped };

/// The Cooperator's state, shared with the ticks it schedules (weakly) and its tasks (weakly).
class CooperatorState : public std::enable_shared_from_this<CooperatorState> {
 public:
  CooperatorState(Cooperator::TerminationPredicateFactory factory, Cooperator::Scheduler scheduler,
                  bool started)
      : factory_(std::move(factory)), scheduler_(std::move(scheduler)), started_(started) {}

  void addTask(std::shared_ptr<CooperativeTaskState> task);
  void removeTask(const CooperativeTaskState* task);
  void tick();
  void reschedule();
  void start();
  void stop();
  bool running() const noexcept { return started_ && !stopped_; }

 private:
  Cooperator::TerminationPredicateFactory factory_;
  Cooperator::Scheduler scheduler_;
  std::vector<std::shared_ptr<CooperativeTaskState>> tasks_;
  std::size_t cursor_ = 0;  // next task to step (Twisted's _metarator), kept across ticks
  DelayedCallPtr delayedCall_;
  bool started_;
  bool stopped_ = false;
  bool mustScheduleOnStart_ = false;
};

/// One task (Twisted's CooperativeTask); CooperativeTask handles share it.
class CooperativeTaskState : public std::enable_shared_from_this<CooperativeTaskState> {
 public:
  CooperativeTaskState(Iterator iterator, std::weak_ptr<CooperatorState> coop)
      : iterator_(std::move(iterator)), coop_(std::move(coop)) {}

  Deferred<CooperativeTask> whenDone() {
    Deferred<CooperativeTask> d;
    if (completion_ == Completion::kNone) {
      deferreds_.push_back(d);
    } else {
      fire(d);
    }
    return d;
  }

  void pause() {
    checkFinish();
    if (++pauseCount_ == 1) {
      if (auto coop = coop_.lock()) coop->removeTask(this);
    }
  }

  void resume() {
    if (pauseCount_ == 0) throw NotPaused();
    if (--pauseCount_ == 0 && completion_ == Completion::kNone) addToCooperator();
  }

  void stop() {
    checkFinish();
    completeWith(Completion::kStopped, Failure(TaskStopped()));
  }

  /// Joins the cooperator, or fails with SchedulerStopped when it is gone.
  void addToCooperator() {
    if (auto coop = coop_.lock()) {
      coop->addTask(shared_from_this());
    } else {
      completeWith(Completion::kSchedulerStopped, Failure(SchedulerStopped()));
    }
  }

  /// Records how the task ended, leaves the cooperator, then fires every whenDone() Deferred
  /// (after the bookkeeping, so their callbacks may use the cooperator freely).
  void completeWith(Completion how, std::optional<Failure> failure) {
    std::shared_ptr<CooperativeTaskState> keep = shared_from_this();
    completion_ = how;
    failure_ = std::move(failure);
    if (pauseCount_ == 0) {
      if (auto coop = coop_.lock()) coop->removeTask(this);
    }
    if (!inIterator_) iterator_ = nullptr;  // breaks cycles through what the iterator holds
    std::vector<Deferred<CooperativeTask>> waiting = std::move(deferreds_);
    deferreds_.clear();
    for (auto& d : waiting) fire(d);
  }

  bool finished() const noexcept { return completion_ != Completion::kNone; }

  /// Twisted's _oneWorkUnit: one call of the iterator.
  void oneWorkUnit() {
    std::shared_ptr<CooperativeTaskState> keep = shared_from_this();
    task::Step step;
    inIterator_ = true;
    try {
      step = iterator_();
    } catch (...) {
      inIterator_ = false;
      if (!finished()) completeWith(Completion::kFailed, Failure::current());
      iterator_ = nullptr;
      return;
    }
    inIterator_ = false;
    if (finished()) {  // the iterator stopped its own task
      iterator_ = nullptr;
      return;
    }
    if (step.isDone()) {
      completeWith(Completion::kDone, std::nullopt);
    } else if (step.isWait()) {
      Deferred<void> d = std::move(step.deferred());
      pause();
      d.addCallbacks([keep] { keep->resume(); },
                     [keep](Failure f) -> Result<void> {
                       if (keep->finished()) return f;  // stopped meanwhile: left unhandled
                       keep->completeWith(Completion::kFailed, std::move(f));
                       return {};
                     });
    }
  }

 private:
  void fire(Deferred<CooperativeTask>& d) {
    if (d.called()) return;  // fired by its holder: nothing to deliver
    if (failure_) {
      d.errback(*failure_);
    } else {
      d.callback(CooperativeTask(shared_from_this()));
    }
  }

  void checkFinish() const {
    switch (completion_) {
      case Completion::kNone:
        return;
      case Completion::kDone:
        throw TaskDone();
      case Completion::kStopped:
        throw TaskStopped();
      case Completion::kFailed:
        throw TaskFailed();
      case Completion::kSchedulerStopped:
        throw SchedulerStopped();
    }
  }

  Iterator iterator_;
  std::weak_ptr<CooperatorState> coop_;
  std::vector<Deferred<CooperativeTask>> deferreds_;
  unsigned pauseCount_ = 0;
  Completion completion_ = Completion::kNone;
  std::optional<Failure> failure_;
  bool inIterator_ = false;
};

void CooperatorState::addTask(std::shared_ptr<CooperativeTaskState> task) {
  tasks_.push_back(task);
  if (stopped_) {
    task->completeWith(Completion::kSchedulerStopped, Failure(SchedulerStopped()));
  } else {
    reschedule();
  }
}

void CooperatorState::removeTask(const CooperativeTaskState* task) {
  auto it = std::find_if(
      tasks_.begin(), tasks_.end(),
      [task](const std::shared_ptr<CooperativeTaskState>& t) { return t.get() == task; });
  if (it == tasks_.end()) return;
  auto index = static_cast<std::size_t>(it - tasks_.begin());
  tasks_.erase(it);
  if (index < cursor_) --cursor_;  // keep the round-robin position on the same next task
  if (tasks_.empty() && delayedCall_) {
    if (delayedCall_->active()) delayedCall_->cancel();
    delayedCall_.reset();
  }
}

void CooperatorState::tick() {
  std::shared_ptr<CooperatorState> keep = shared_from_this();
  delayedCall_.reset();
  Cooperator::TerminationPredicate terminator = factory_();
  while (!tasks_.empty()) {
    if (cursor_ >= tasks_.size()) cursor_ = 0;
    std::shared_ptr<CooperativeTaskState> task = tasks_[cursor_++];
    task->oneWorkUnit();
    if (terminator()) break;
  }
  reschedule();
}

void CooperatorState::reschedule() {
  if (!started_) {
    mustScheduleOnStart_ = true;
    return;
  }
  if (!delayedCall_ && !tasks_.empty()) {
    std::weak_ptr<CooperatorState> weak = weak_from_this();
    delayedCall_ = scheduler_([weak] {
      if (auto s = weak.lock()) s->tick();
    });
  }
}

void CooperatorState::start() {
  stopped_ = false;
  started_ = true;
  if (mustScheduleOnStart_) {
    mustScheduleOnStart_ = false;
    reschedule();
  }
}

void CooperatorState::stop() {
  std::shared_ptr<CooperatorState> keep = shared_from_this();
  stopped_ = true;
  std::vector<std::shared_ptr<CooperativeTaskState>> running = std::move(tasks_);
  tasks_.clear();
  cursor_ = 0;
  if (delayedCall_) {
    if (delayedCall_->active()) delayedCall_->cancel();
    delayedCall_.reset();
  }
  for (auto& task : running) {
    if (!task->finished()) {
      task->completeWith(Completion::kSchedulerStopped, Failure(SchedulerStopped()));
    }
  }
}

}  // namespace coil::detail

namespace coil::task {

// ---- CooperativeTask ---------------------------------------------------------------------------

Deferred<CooperativeTask> CooperativeTask::whenDone() {
  return s_->whenDone();
}

void CooperativeTask::pause() {
  s_->pause();
}

void CooperativeTask::resume() {
  s_->resume();
}

void CooperativeTask::stop() {
  s_->stop();
}

// ---- Cooperator --------------------------------------------------------------------------------

Cooperator::TerminationPredicateFactory Cooperator::timeSlice(double seconds) {
  auto slice = std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::duration<double>(seconds));
  return [slice]() -> TerminationPredicate {
    auto end = std::chrono::steady_clock::now() + slice;
    return [end] { return std::chrono::steady_clock::now() >= end; };
  };
}

Cooperator::Cooperator(IReactorTime& clock, TerminationPredicateFactory terminationPredicateFactory,
                       Scheduler scheduler, bool started) {
  if (!terminationPredicateFactory) terminationPredicateFactory = timeSlice();
  if (!scheduler) {
    scheduler = [c = &clock](std::function<void()> f) {
      return c->callLater(kEpsilon, std::move(f));
    };
  }
  s_ = std::make_shared<coil::detail::CooperatorState>(std::move(terminationPredicateFactory),
                                                       std::move(scheduler), started);
}

Cooperator::~Cooperator() {
  s_->stop();
}

CooperativeTask Cooperator::cooperate(Iterator iterator) {
  auto task = std::make_shared<coil::detail::CooperativeTaskState>(std::move(iterator), s_);
  task->addToCooperator();
  return CooperativeTask(std::move(task));
}

Deferred<CooperativeTask> Cooperator::coiterate(Iterator iterator) {
  return cooperate(std::move(iterator)).whenDone();
}

void Cooperator::start() {
  s_->start();
}

void Cooperator::stop() {
  s_->stop();
}

bool Cooperator::running() const noexcept {
  return s_->running();
}

}  // namespace coil::task
