#pragma once
/// @file ListenFDs: the descriptors a process inherited through systemd's socket activation
/// protocol (sd_listen_fds(3); Twisted's python/systemd.ListenFDs).
///
/// systemd (or systemd-socket-activate, or any supervisor speaking the protocol) passes
/// listening sockets as descriptors 3, 4, … and says so in the environment: LISTEN_PID (the
/// process they are meant for), LISTEN_FDS (how many) and, since systemd 227, LISTEN_FDNAMES
/// (their names, colon-separated, from FileDescriptorName=).

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace coil::systemd {

/// The inherited descriptors and their names, read once from an environment. A value.
/// Thread: any (immutable once built).
class ListenFDs {
 public:
  /// The first inherited descriptor (SD_LISTEN_FDS_START).
  static constexpr int kStart = 3;

  /// Looks an environment variable up; nullptr when unset.
  using Getenv = std::function<const char*(const char*)>;

  /// Reads LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES through `getenv` for process `pid`, as
  /// Twisted does: descriptors only when LISTEN_PID is `pid` and LISTEN_FDS a count; names only
  /// when LISTEN_FDNAMES is set, not empty, and names as many descriptors as LISTEN_FDS counts.
  /// Unlike Twisted, the variables are not removed (unsetenv() is not thread-safe; LISTEN_PID
  /// already keeps them from applying to child processes), and a LISTEN_FDNAMES that does not
  /// match only loses the names, not the descriptors (sd_listen_fds() ignores it too).
  /// Thread: any (reads the environment).
  static ListenFDs fromEnvironment(const Getenv& getenv, pid_t pid);
  /// fromEnvironment() of this process's environment and id. Thread: any.
  static ListenFDs fromEnvironment();

  /// Nothing inherited; `why` says why (for error messages).
  explicit ListenFDs(std::string why = "nothing inherited");
  /// `descriptors` inherited, named `names` (empty: no names, `namesWhy` says why).
  ListenFDs(std::vector<int> descriptors, std::vector<std::string> names,
            std::string namesWhy = {});

  /// The inherited descriptors, in order (index 0 is kStart).
  const std::vector<int>& descriptors() const noexcept { return descriptors_; }
  /// Their names, in the same order; empty when there are none.
  const std::vector<std::string>& names() const noexcept { return names_; }
  /// Why there are no descriptors ("LISTEN_PID is 12, not this process (34)").
  const std::string& whyNoDescriptors() const noexcept { return why_; }
  /// Why there are no names ("LISTEN_FDNAMES is not set").
  const std::string& whyNoNames() const noexcept { return namesWhy_; }

  /// The descriptor called `name` (the last one when several share it, as Twisted's dict),
  /// or nullopt.
  std::optional<int> byName(std::string_view name) const;

  /// One line for the log: "2 descriptors inherited from systemd: 3 ('control'), 4 ('web')".
  std::string describe() const;

 private:
  std::vector<int> descriptors_;
  std::vector<std::string> names_;
  std::string why_;
  std::string namesWhy_;
};

}  // namespace coil::systemd
