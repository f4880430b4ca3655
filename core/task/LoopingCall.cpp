// LoopingCall: the state machine behind task::LoopingCall (runs, grid scheduling, withCount).
// Tests: test/core/task/LoopingCallTest.cpp
#include <coil/core/task/LoopingCall.hpp>

#include <coil/core/Errors.hpp>
#include <coil/core/detail/TimerQueue.hpp>

#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

namespace coil::task {

namespace {

/// Python's float `%`: the result has the sign of the divisor.
double pyMod(double a, double b) {
  double r = std::fmod(a, b);
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

}  // namespace

/// Everything a LoopingCall is; shared with the callbacks it registers (which hold it weakly,
/// except while one of them is running).
struct LoopingCall::State : std::enable_shared_from_this<State> {
  State(IReactorTime& c, Body b) : clock(&c), body(std::move(b)) {}

  IReactorTime* clock;
  Body body;
  LoopingCall* owner = nullptr;  // null once the LoopingCall is destroyed
  bool running = false;
  double interval = 0;
  double starttime = 0;
  bool runAtStart = false;
  std::optional<double> realLastTime;              // withCount: when the count was last taken
  std::uint64_t generation = 0;                    // bumped by start(); tells runs apart
  DelayedCallPtr call;                             // the scheduled next call
  std::optional<Deferred<LoopingCall*>> deferred;  // start()'s Deferred for the current run
  std::optional<Deferred<void>> inFlight;          // the current run's pending Deferred from f

  /// Twisted's __call__: runs the body once and decides what comes next.
  void run() {
    std::shared_ptr<State> self = shared_from_this();  // f may destroy the LoopingCall
    call.reset();
    if (!deferred) return;  // defensive: no run in progress
    std::uint64_t gen = generation;
    Deferred<LoopingCall*> runDeferred = *deferred;
    std::optional<Deferred<void>> d;
    try {
      d = body();
    } catch (...) {
      failed(gen, runDeferred, Failure::current());
      return;
    }
    if (!d) {
      succeeded(gen, runDeferred);
      return;
    }
    if (gen == generation && owner) inFlight = *d;
    std::weak_ptr<State> weak = self;
    d->addCallbacks(
        [weak, gen, runDeferred]() mutable {
          if (auto s = weak.lock()) s->succeeded(gen, runDeferred);
        },
        [weak, gen, runDeferred](Failure f) mutable {
          if (auto s = weak.lock()) s->failed(gen, runDeferred, std::move(f));
        });
  }

  /// The body finished: schedule the next call, or fire the run's Deferred if stopped.
  void succeeded(std::uint64_t gen, Deferred<LoopingCall*>& runDeferred) {
    if (!owner) return;
    if (gen != generation) {  // a superseded run (stop(), then start() again)
      if (!runDeferred.called()) runDeferred.callback(owner);
      return;
    }
    inFlight.reset();
    if (running) {
      scheduleFrom(clock->seconds());
    } else if (deferred) {
      Deferred<LoopingCall*> d = std::move(*deferred);
      deferred.reset();
      if (!d.called()) d.callback(owner);
    }
  }

  /// The body failed: the run is over (running cleared first), its Deferred fails.
  void failed(std::uint64_t gen, Deferred<LoopingCall*>& runDeferred, Failure f) {
    if (!owner) return;
    if (gen == generation) {
      inFlight.reset();
      running = false;
      deferred.reset();
    }
    if (!runDeferred.called()) runDeferred.errback(std::move(f));
  }

  /// Twisted's _scheduleFrom: the next grid point strictly after `when`.
  void scheduleFrom(double when) {
    double delay = 0;
    if (interval != 0) {
      double runningFor = when - starttime;
      double untilNextInterval = interval - pyMod(runningFor, interval);
      // A gap too small to move `when` means we are on a grid point: take a full interval.
      delay = (when == when + untilNextInterval) ? interval : untilNextInterval;
    }
    std::weak_ptr<State> weak = shared_from_this();
    call = clock->callLater(delay, [weak] {
      if (auto s = weak.lock()) s->run();
    });
  }

  /// Cancels the scheduled call, if any.
  void cancelCall() {
    if (call && call->active()) call->cancel();
    call.reset();
  }

  /// Twisted's _intervalOf: whole intervals from starttime to `t`.
  Count intervalOf(double t) const {
    return static_cast<Count>(std::trunc((t - starttime) / interval));
  }
};

LoopingCall::LoopingCall(IReactorTime& clock, Body body)
    : state_(std::make_shared<State>(clock, std::move(body))) {
  state_->owner = this;
}

LoopingCall::LoopingCall(IReactorTime& clock, CountBody countBody) : LoopingCall(clock, Body()) {
  State* s = state_.get();  // the body lives in the State, so it never outlives it
  s->body = [s, f = std::move(countBody)]() -> std::optional<Deferred<void>> {
    double now = s->clock->seconds();
    if (s->interval == 0) {
      s->realLastTime = now;
      return f(1);
    }
    double lastTime;
    if (s->realLastTime) {
      lastTime = *s->realLastTime;
    } else {
      lastTime = s->starttime;
      if (s->runAtStart) lastTime -= s->interval;
    }
    Count count = s->intervalOf(now) - s->intervalOf(lastTime);
    if (count <= 0) return std::nullopt;
    s->realLastTime = now;
    return f(count);
  };
}

LoopingCall::~LoopingCall() {
  if (!state_) return;
  state_->owner = nullptr;
  state_->running = false;
  state_->cancelCall();
  state_->deferred.reset();
  state_->inFlight.reset();
}

LoopingCall::LoopingCall(LoopingCall&& other) noexcept : state_(std::move(other.state_)) {
  if (state_) state_->owner = this;
}

LoopingCall& LoopingCall::operator=(LoopingCall&& other) noexcept {
  if (this != &other) {
    LoopingCall old(std::move(*this));  // destroyed (cancelled) at the end of this scope
    state_ = std::move(other.state_);
    if (state_) state_->owner = this;
  }
  return *this;
}

Deferred<LoopingCall*> LoopingCall::start(double interval, bool now) {
  State& s = *state_;
  if (s.running) throw LogicError("Tried to start an already running LoopingCall.");
  detail::checkSeconds("LoopingCall.start", "interval", interval);
  s.running = true;
  std::uint64_t gen = ++s.generation;
  std::weak_ptr<State> weak = state_;
  Deferred<LoopingCall*> d([weak, gen](Deferred<LoopingCall*>&) {
    // Cancelling start()'s Deferred stops this run; Deferred then fails it with CancelledError.
    auto st = weak.lock();
    if (!st || st->generation != gen) return;
    st->running = false;
    st->deferred.reset();
    st->cancelCall();
    if (st->inFlight) {
      Deferred<void> pending = std::move(*st->inFlight);
      st->inFlight.reset();
      pending.cancel();
    }
  });
  s.deferred = d;
  s.inFlight.reset();
  s.starttime = s.clock->seconds();
  s.interval = interval;
  s.runAtStart = now;
  s.realLastTime.reset();
  if (now) {
    s.run();
  } else {
    s.scheduleFrom(s.starttime);
  }
  return d;
}

void LoopingCall::stop() {
  State& s = *state_;
  if (!s.running) throw LogicError("Tried to stop a LoopingCall that was not running.");
  s.running = false;
  if (s.call) {
    s.cancelCall();
    if (s.deferred) {
      Deferred<LoopingCall*> d = std::move(*s.deferred);
      s.deferred.reset();
      if (!d.called()) d.callback(this);
    }
  }
}

void LoopingCall::reset() {
  State& s = *state_;
  if (!s.running) throw LogicError("Tried to reset a LoopingCall that was not running.");
  if (s.call) {
    s.cancelCall();
    s.starttime = s.clock->seconds();
    s.scheduleFrom(s.starttime);
  }
}

bool LoopingCall::running() const noexcept {
  return state_->running;
}

double LoopingCall::interval() const noexcept {
  return state_->interval;
}

void LoopingCall::setInterval(double interval) {
  detail::checkSeconds("LoopingCall.setInterval", "interval", interval);
  state_->interval = interval;
}

double LoopingCall::starttime() const noexcept {
  return state_->starttime;
}

IReactorTime& LoopingCall::clock() const noexcept {
  return *state_->clock;
}

}  // namespace coil::task
