#pragma once
/// @file IDelayedCall: a call scheduled by IReactorTime::callLater().

#include <memory>

namespace coil {

/// A scheduled call (Twisted's IDelayedCall). Thread: reactor.
class IDelayedCall {
 public:
  virtual ~IDelayedCall() = default;
  /// When the call will run, in the scheduler's seconds() time base.
  virtual double getTime() const = 0;
  /// Cancels the call. Throws error::AlreadyCancelled or error::AlreadyCalled.
  virtual void cancel() = 0;
  /// Postpones the call by `secondsLater` (may be negative). Same errors as cancel().
  virtual void delay(double secondsLater) = 0;
  /// Reschedules the call to `secondsFromNow` from now. Same errors as cancel().
  virtual void reset(double secondsFromNow) = 0;
  /// True until the call has run or been cancelled.
  virtual bool active() const = 0;
};

/// The handle callLater() returns; keeping it is optional (the scheduler holds the call).
using DelayedCallPtr = std::shared_ptr<IDelayedCall>;

}  // namespace coil
