#pragma once
/// @file Errors: coil's exception hierarchy, named and shaped as Twisted's.
///
/// Three families, as in Twisted's modules:
///  - `coil::` — defer's errors (AlreadyCalledError, CancelledError, TimeoutError, FirstError, …);
///  - `coil::error::` — internet/error.py (ConnectError family, ConnectionClosed family, …);
///  - `coil::task::` — task.py's errors (SchedulerStopped, TaskDone, …).
/// Runtime conditions derive from std::system_error (with an errno code where one applies),
/// programming errors from std::logic_error. what() reads like Twisted's str(): "doc: detail."

#include <coil/core/Failure.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace coil {

namespace detail {
/// Builds Twisted's message shape: "doc[: errno: strerror][: detail]." (no doubled period).
std::string formatError(std::string_view doc, const std::string& detail, std::error_code ec);
}  // namespace detail

/// Root of coil's runtime errors: a std::system_error whose what() is Twisted-shaped.
class Error : public std::system_error {
 public:
  /// An error with an optional detail and an optional error code.
  explicit Error(std::string detail = {}, std::error_code ec = {})
      : Error("An error occurred", std::move(detail), ec) {}
  /// what(): the formatted message.
  const char* what() const noexcept override { return message_.what(); }
  /// The detail given at construction (may be empty).
  const std::string& detail() const noexcept { return detail_; }

 protected:
  /// For subclasses: their doc string, the detail and the code.
  Error(std::string_view doc, std::string detail, std::error_code ec)
      : std::system_error(ec),
        message_(detail::formatError(doc, detail, ec)),
        detail_(std::move(detail)) {}

 private:
  std::runtime_error message_;  // reference-counted: copying an exception never throws
  std::string detail_;
};

/// Root of coil's programming errors (Twisted's ValueError/RuntimeError/AssertionError uses).
class LogicError : public std::logic_error {
 public:
  /// A logic error with an optional detail.
  explicit LogicError(std::string detail = {}) : LogicError("Invalid use", std::move(detail)) {}

 protected:
  /// For subclasses: their doc string and the detail.
  LogicError(std::string_view doc, std::string detail)
      : std::logic_error(detail::formatError(doc, detail, {})) {}
};

}  // namespace coil

/// Declares `Name : Base` with Twisted's doc string `Doc`; constructible from (detail, code).
#define COIL_DEFINE_ERROR(Name, Base, Doc)                                     \
  class Name : public Base {                                                   \
   public:                                                                     \
    /** Builds the error; `detail` and `ec` are appended to the doc string. */ \
    explicit Name(std::string detail = {}, std::error_code ec = {})            \
        : Base(Doc, std::move(detail), ec) {}                                  \
                                                                               \
   protected:                                                                  \
    /** For subclasses. */                                                     \
    Name(std::string_view doc, std::string detail, std::error_code ec)         \
        : Base(doc, std::move(detail), ec) {}                                  \
  }

/// Declares a logic error `Name : Base` with doc string `Doc`.
#define COIL_DEFINE_LOGIC_ERROR(Name, Base, Doc)                                     \
  class Name : public Base {                                                         \
   public:                                                                           \
    /** Builds the error; `detail` is appended to the doc string. */                 \
    explicit Name(std::string detail = {}) : Base(Doc, std::move(detail)) {}         \
                                                                                     \
   protected:                                                                        \
    /** For subclasses. */                                                           \
    Name(std::string_view doc, std::string detail) : Base(doc, std::move(detail)) {} \
  }

namespace coil {

// ---- defer ----------------------------------------------------------------------------------

/// A reactor backend lacks a capability (Python's NotImplementedError).
COIL_DEFINE_LOGIC_ERROR(NotImplementedError, LogicError, "Not implemented");

/// callback()/errback() on a Deferred that already has a result.
COIL_DEFINE_LOGIC_ERROR(AlreadyCalledError, LogicError, "Deferred was already called");
/// A Deferred's result type does not match the typed view used on it (coil-specific).
COIL_DEFINE_LOGIC_ERROR(DeferredTypeError, LogicError, "Deferred used through a stale typed view");

/// The result of a cancelled Deferred.
class CancelledError : public Error {
 public:
  /// Builds the error (code: operation_canceled).
  explicit CancelledError(std::string detail = {})
      : Error("The Deferred was cancelled", std::move(detail),
              std::make_error_code(std::errc::operation_canceled)) {}
};

/// defer.TimeoutError: a Deferred timed out through addTimeout() (not error::TimeoutError).
class TimeoutError : public Error {
 public:
  /// Builds the error (code: timed_out).
  explicit TimeoutError(std::string detail = {})
      : Error("Deferred timed out", std::move(detail), std::make_error_code(std::errc::timed_out)) {
  }
};

/// The first failure among a DeferredList's inputs, with its index (gatherResults' failures).
class FirstError : public Error {
 public:
  /// Wraps `subFailure`, which came from input number `index`.
  FirstError(Failure subFailure, std::size_t index)
      : Error("FirstError",
              "[Failure instance: " + subFailure.describe() + "], " + std::to_string(index), {}),
        subFailure(std::move(subFailure)),
        index(index) {}
  /// The failure of the input.
  Failure subFailure;
  /// The input's position in the list.
  std::size_t index;
};

/// Every input of race() failed; the failures in input order.
class FailureGroup : public Error {
 public:
  /// Wraps the failures.
  explicit FailureGroup(std::vector<Failure> failures)
      : Error("All racing Deferreds failed", std::to_string(failures.size()) + " failures", {}),
        failures(std::move(failures)) {}
  /// One failure per input, in input order.
  std::vector<Failure> failures;
};

/// DeferredQueue::put() on a full queue.
COIL_DEFINE_ERROR(QueueOverflow, Error, "Queue overflow");
/// DeferredQueue::get() with the backlog of waiters full.
COIL_DEFINE_ERROR(QueueUnderflow, Error, "Queue underflow");

// ---- internet/error.py ------------------------------------------------------------------------

namespace error {

/// An error occurred while binding.
COIL_DEFINE_ERROR(BindError, Error, "An error occurred binding to an interface");

/// listenX() could not bind or listen; names the interface and port.
class CannotListenError : public BindError {
 public:
  /// `interface` empty means all interfaces ("any").
  CannotListenError(std::string interface, int port, std::error_code ec)
      : BindError("Couldn't listen on " + (interface.empty() ? std::string("any") : interface) +
                      ":" + std::to_string(port),
                  "", ec),
        interface(std::move(interface)),
        port(port) {}
  /// A failure to listen on a non-IP `address` (a UNIX path) for `reason`, e.g. "Cannot acquire
  /// lock": "Couldn't listen on <address>: <reason>."; port() is 0.
  CannotListenError(std::string address, std::string reason, std::error_code ec = {})
      : BindError("Couldn't listen on " + address, std::move(reason), ec),
        interface(std::move(address)),
        port(0) {}
  /// The interface given to listen (empty = any).
  std::string interface;
  /// The port given to listen.
  int port;
};

COIL_DEFINE_ERROR(ConnectError, Error, "An error occurred while connecting");
COIL_DEFINE_ERROR(ConnectBindError, ConnectError, "Couldn't bind");
COIL_DEFINE_ERROR(UnknownHostError, ConnectError, "Hostname couldn't be looked up");
COIL_DEFINE_ERROR(NoRouteError, ConnectError, "No route to host");
COIL_DEFINE_ERROR(ConnectionRefusedError, ConnectError, "Connection was refused by other side");
COIL_DEFINE_ERROR(TCPTimedOutError, ConnectError, "TCP connection timed out");
COIL_DEFINE_ERROR(BadFileError, ConnectError, "File used for UNIX socket is no good");
COIL_DEFINE_ERROR(ServiceNameUnknownError, ConnectError, "Service name given as port is unknown");
COIL_DEFINE_ERROR(UserError, ConnectError, "User aborted connection");
/// error.TimeoutError: a connection attempt timed out (distinct from coil::TimeoutError).
COIL_DEFINE_ERROR(TimeoutError, UserError, "User timeout caused connection failure");
COIL_DEFINE_ERROR(SSLError, ConnectError, "An SSL error occurred");
COIL_DEFINE_ERROR(ConnectingCancelledError, ConnectError, "Connecting was cancelled");

COIL_DEFINE_ERROR(DNSLookupError, Error, "DNS lookup failed");
COIL_DEFINE_ERROR(ConnectionClosed, Error, "Connection was closed, whether cleanly or non-cleanly");
COIL_DEFINE_ERROR(ConnectionLost, ConnectionClosed,
                  "Connection to the other side was lost in a non-clean fashion");
COIL_DEFINE_ERROR(ConnectionAborted, ConnectionLost, "Connection was aborted locally");
COIL_DEFINE_ERROR(FileDescriptorOverrun, ConnectionLost,
                  "A mis-use of IUNIXTransport.sendFileDescriptor caused the connection to be "
                  "closed");
COIL_DEFINE_ERROR(ConnectionFdescWentAway, ConnectionLost, "Uh");
COIL_DEFINE_ERROR(ConnectionDone, ConnectionClosed, "Connection was closed cleanly");

/// A child process ended with a non-zero status or by a signal.
class ProcessTerminated : public ConnectionLost {
 public:
  /// exitCode < 0 means "none" (signalled); signal < 0 means "no signal".
  ProcessTerminated(int exitCode, int signal, int status)
      : ConnectionLost("A process has ended with a probable error condition",
                       signal >= 0 ? "process ended by signal " + std::to_string(signal)
                                   : "process ended with exit code " + std::to_string(exitCode),
                       {}),
        exitCode(exitCode),
        signal(signal),
        status(status) {}
  /// Exit code, or -1 when the process was killed by a signal.
  int exitCode;
  /// Signal number, or -1.
  int signal;
  /// Raw wait status.
  int status;
};

/// A child process ended with status 0.
class ProcessDone : public ConnectionDone {
 public:
  /// status is the raw wait status (0).
  explicit ProcessDone(int status = 0)
      : ConnectionDone("A process has ended without apparent errors",
                       "process finished with exit code 0", {}),
        exitCode(0),
        status(status) {}
  /// Always 0.
  int exitCode;
  /// Raw wait status.
  int status;
};

COIL_DEFINE_ERROR(NoProtocol, Error, "An Endpoint's factory returned no protocol");
COIL_DEFINE_ERROR(InvalidAddressError, Error, "An invalid address was specified");
COIL_DEFINE_ERROR(MessageLengthError, Error, "Message is too long to send");
COIL_DEFINE_ERROR(MulticastJoinError, Error, "An attempt to join a multicast group failed");
COIL_DEFINE_ERROR(AlreadyListened, Error, "This endpoint can only listen once");
COIL_DEFINE_ERROR(ProcessExitedAlready, Error, "The process has already exited");
COIL_DEFINE_ERROR(UnsupportedAddressFamily, Error,
                  "An attempt was made to use an unsupported address family");

COIL_DEFINE_LOGIC_ERROR(AlreadyCalled, LogicError, "Tried to cancel an already-called event");
COIL_DEFINE_LOGIC_ERROR(AlreadyCancelled, LogicError, "Tried to cancel an already-cancelled event");
COIL_DEFINE_LOGIC_ERROR(NotConnectingError, LogicError,
                        "The Connector was not connecting when it was asked to stop connecting");
COIL_DEFINE_LOGIC_ERROR(NotListeningError, LogicError,
                        "The Port was not listening when it was asked to stop listening");
COIL_DEFINE_LOGIC_ERROR(ReactorNotRunning, LogicError, "Can't stop reactor that isn't running");
COIL_DEFINE_LOGIC_ERROR(ReactorNotRestartable, LogicError,
                        "Can't restart a reactor that was stopped");
COIL_DEFINE_LOGIC_ERROR(ReactorAlreadyRunning, LogicError, "Reactor is already running");

}  // namespace error

// ---- task.py ----------------------------------------------------------------------------------

namespace task {

/// The Cooperator was stopped; its tasks fail with this.
COIL_DEFINE_ERROR(SchedulerStopped, Error,
                  "The operation could not complete because the scheduler was stopped");
/// Base of the errors about a CooperativeTask that has finished.
COIL_DEFINE_ERROR(TaskFinished, Error,
                  "The operation could not complete because the task was already completed, "
                  "stopped, encountered an error or otherwise permanently stopped running");
/// The task's iterator was exhausted.
COIL_DEFINE_ERROR(TaskDone, TaskFinished,
                  "The operation could not complete because the task was already completed");
/// The task was stopped.
COIL_DEFINE_ERROR(TaskStopped, TaskFinished,
                  "The operation could not complete because the task was stopped");
/// The task's iterator failed.
COIL_DEFINE_ERROR(TaskFailed, TaskFinished,
                  "The operation could not complete because the task died with an unhandled error");
/// resume() on a task that was not paused.
COIL_DEFINE_LOGIC_ERROR(
    NotPaused, LogicError,
    "This exception is raised when a task is resumed which was not previously paused");

}  // namespace task

}  // namespace coil
