// ListenFDs: reads systemd's LISTEN_PID / LISTEN_FDS / LISTEN_FDNAMES.
// Tests: test/plugins/SystemdEndpointTest.cpp
#include <coil/plugins/examples/systemd/ListenFDs.hpp>

#include <unistd.h>

#include <charconv>
#include <climits>
#include <cstdlib>

namespace coil::systemd {

namespace {

// A non-negative decimal integer filling all of `text`, or nullopt.
std::optional<long long> decimal(std::string_view text) {
  long long value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || value < 0) return std::nullopt;
  return value;
}

std::vector<std::string> split(std::string_view text, char separator) {
  std::vector<std::string> parts;
  for (;;) {
    const std::size_t at = text.find(separator);
    parts.emplace_back(text.substr(0, at));
    if (at == std::string_view::npos) return parts;
    text.remove_prefix(at + 1);
  }
}

}  // namespace

ListenFDs ListenFDs::fromEnvironment(const Getenv& getenv, pid_t pid) {
  const char* listenPid = getenv("LISTEN_PID");
  if (!listenPid) return ListenFDs("LISTEN_PID is not set (not socket-activated)");
  const auto owner = decimal(listenPid);
  if (!owner) return ListenFDs("LISTEN_PID '" + std::string(listenPid) + "' is not a process id");
  if (*owner != pid) {
    return ListenFDs("LISTEN_PID is " + std::to_string(*owner) + ", not this process (" +
                     std::to_string(pid) + ")");
  }
  const char* listenFds = getenv("LISTEN_FDS");
  if (!listenFds) return ListenFDs("LISTEN_FDS is not set");
  const auto count = decimal(listenFds);
  if (!count || *count > INT_MAX - kStart)
    return ListenFDs("LISTEN_FDS '" + std::string(listenFds) + "' is not a count");
  if (*count == 0) return ListenFDs("LISTEN_FDS is 0");

  std::vector<int> descriptors;
  for (int i = 0; i < *count; ++i) descriptors.push_back(kStart + i);
  const char* listenNames = getenv("LISTEN_FDNAMES");
  if (!listenNames || !*listenNames) return ListenFDs(descriptors, {}, "LISTEN_FDNAMES is not set");
  std::vector<std::string> names = split(listenNames, ':');
  if (names.size() != descriptors.size()) {
    return ListenFDs(descriptors, {},
                     "LISTEN_FDNAMES has " + std::to_string(names.size()) + " names for " +
                         std::to_string(descriptors.size()) + " descriptors");
  }
  return ListenFDs(std::move(descriptors), std::move(names));
}

ListenFDs ListenFDs::fromEnvironment() {
  return fromEnvironment([](const char* name) { return std::getenv(name); }, ::getpid());
}

ListenFDs::ListenFDs(std::string why) : why_(std::move(why)), namesWhy_(why_) {}

ListenFDs::ListenFDs(std::vector<int> descriptors, std::vector<std::string> names,
                     std::string namesWhy)
    : descriptors_(std::move(descriptors)),
      names_(std::move(names)),
      namesWhy_(std::move(namesWhy)) {}

std::optional<int> ListenFDs::byName(std::string_view name) const {
  std::optional<int> found;
  for (std::size_t i = 0; i < names_.size(); ++i)
    if (names_[i] == name) found = descriptors_[i];
  return found;
}

std::string ListenFDs::describe() const {
  if (descriptors_.empty()) return "no descriptors inherited from systemd: " + why_;
  std::string text = std::to_string(descriptors_.size()) + " descriptor" +
                     (descriptors_.size() == 1 ? "" : "s") + " inherited from systemd:";
  for (std::size_t i = 0; i < descriptors_.size(); ++i) {
    text += i ? ", " : " ";
    text += std::to_string(descriptors_[i]);
    if (!names_.empty()) text += " ('" + names_[i] + "')";
  }
  if (names_.empty()) text += " (" + namesWhy_ + ")";
  return text;
}

}  // namespace coil::systemd
