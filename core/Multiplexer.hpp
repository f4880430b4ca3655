#pragma once
/// @file Multiplexer: the backend seam of readiness reactors (select, poll, epoll, kqueue, …).
///
/// A Multiplexer only tells which descriptors are ready; it owns nothing and knows no
/// transport. backends/PosixReactor keeps the interest set, batches changes, dispatches, and
/// applies the error/hang-up policy once for every multiplexer. Writing a backend means writing
/// one of these (150–350 lines) and registering it.

#include <cstdint>
#include <optional>
#include <string_view>
#include <system_error>
#include <vector>

namespace coil {

/// Interest and readiness bits.
namespace io {
/// Readable (interest) / became readable (event).
inline constexpr std::uint8_t kRead = 1;
/// Writable (interest) / became writable (event).
inline constexpr std::uint8_t kWrite = 2;
/// Error condition reported (event only).
inline constexpr std::uint8_t kError = 4;
/// Hang-up reported (event only).
inline constexpr std::uint8_t kHangup = 8;
}  // namespace io

/// One ready descriptor, as wait() reports it.
struct ReadyEvent {
  /// The descriptor.
  int fd;
  /// io::kRead | io::kWrite | io::kError | io::kHangup bits.
  std::uint8_t events;
};

/// What wait() fills; cleared by the caller before each wait.
using ReadyList = std::vector<ReadyEvent>;

/// Capability bits a multiplexer reports through features().
namespace feature {
/// Readiness can be edge-triggered.
inline constexpr unsigned kEdgeTriggered = 1;
/// Cost of wait() does not grow with the number of watched descriptors.
inline constexpr unsigned kConstantTime = 2;
/// Regular files can be watched (select/poll: yes; epoll: no, the reactor polls them itself).
inline constexpr unsigned kRegularFiles = 4;
}  // namespace feature

/// The readiness backend seam. Thread: reactor. Never throws across wait(): errors are
/// std::error_code values.
class Multiplexer {
 public:
  virtual ~Multiplexer() = default;

  /// The backend's registry name ("epoll").
  virtual std::string_view name() const = 0;

  /// feature:: bits.
  virtual unsigned features() const = 0;

  /// Changes the interest of `fd` from `oldMask` to `newMask` (io::kRead|io::kWrite bits; 0 means
  /// not watched). Called only when the masks differ. An error is returned, not thrown (e.g.
  /// EPERM from epoll for a regular file, EINVAL from select for fd >= FD_SETSIZE).
  virtual std::error_code update(int fd, std::uint8_t oldMask, std::uint8_t newMask) = 0;

  /// Waits until at least one watched descriptor is ready or `timeout` seconds pass (nullopt:
  /// forever; 0: poll), appending ready descriptors to `ready`. EINTR is not an error: it returns
  /// with whatever was ready (possibly nothing).
  virtual std::error_code wait(std::optional<double> timeout, ReadyList& ready) = 0;

  /// Called in the parent before fork().
  virtual void beforeFork() {}

  /// Called in the child after fork(): re-create kernel state (epoll/kqueue descriptors) and
  /// re-register `interest` (fd, mask) pairs.
  virtual std::error_code afterFork(const std::vector<std::pair<int, std::uint8_t>>& interest) {
    (void)interest;
    return {};
  }
};

}  // namespace coil
