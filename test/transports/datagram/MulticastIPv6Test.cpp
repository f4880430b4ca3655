// IPv6 multicast on every backend. Linux does not deliver IPv6 multicast on `lo`, so each case
// makes a network namespace holding a veth pair (v0 <-> v1), runs its scenario in a forked
// child that entered the namespace, and deletes the namespace afterwards. Needs root and
// iproute2; skipped, saying why, without them (spec §4).
// Tests: transports/udp/MulticastPort.cpp
#include <test/support/DeferredTesting.hpp>
#include <test/support/TestReactor.hpp>
#include <test/transports/datagram/DatagramTesting.hpp>

#include <fcntl.h>
#include <sched.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <sstream>
#include <string>

using coil::IPv6Address;
using coil::test::portOf;
using coil::test::RecordingDatagram;
namespace error = coil::error;

namespace {

constexpr const char* kGroup = "ff02::1:c011";
constexpr const char* kLocalGroup = "ff02::1:c012";  // joined on v0 only

std::string whyNoNamespaces() {
  if (::geteuid() != 0) return "not root: cannot create a network namespace";
  if (::access("/usr/sbin/ip", X_OK) != 0 && ::access("/sbin/ip", X_OK) != 0)
    return "iproute2 (ip) is not installed (tools/setup installs it)";
  if (::access("/proc/sys/net/ipv6", F_OK) != 0) return "IPv6 is disabled in this kernel";
  return {};
}

// True when the machine can run these cases; otherwise says why in the test log. (A suite
// precondition would say it too, but GCC 12 at -O2 warns inside boost::function about it.)
bool haveNamespaces() {
  std::string why = whyNoNamespaces();
  if (!why.empty()) BOOST_TEST_MESSAGE("skipped: " << why);
  return why.empty();
}

// A network namespace with a veth pair v0/v1 (up, addresses fd00::1 and fd00::2 without DAD);
// deleted, with the pair, at destruction.
class VethNamespace {
 public:
  VethNamespace() {
    static int counter = 0;
    name_ = "coil-dg6-" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
    ok_ = run("ip netns add " + name_) &&
          run("ip -n " + name_ + " link add v0 type veth peer name v1") &&
          run("ip -n " + name_ + " link set lo up") && run("ip -n " + name_ + " link set v0 up") &&
          run("ip -n " + name_ + " link set v1 up") &&
          run("ip -n " + name_ + " -6 addr add fd00::1/64 dev v0 nodad") &&
          run("ip -n " + name_ + " -6 addr add fd00::2/64 dev v1 nodad");
  }
  ~VethNamespace() { run("ip netns del " + name_ + " 2>/dev/null"); }
  VethNamespace(const VethNamespace&) = delete;
  VethNamespace& operator=(const VethNamespace&) = delete;

  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }

  // Runs `scenario` in a child inside the namespace; returns its error text ("" = passed).
  std::string runInside(const std::function<std::string()>& scenario) const {
    int pipeFds[2];
    if (::pipe(pipeFds) != 0) return "pipe failed";
    pid_t pid = ::fork();
    if (pid < 0) return "fork failed";
    if (pid == 0) {
      ::close(pipeFds[0]);
      std::string result;
      int ns = ::open(("/var/run/netns/" + name_).c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || ::setns(ns, CLONE_NEWNET) != 0) {
        result = "setns failed";
      } else {
        try {
          result = scenario();
        } catch (const std::exception& e) {
          result = std::string("exception: ") + e.what();
        }
      }
      if (::write(pipeFds[1], result.data(), result.size()) < 0) result.clear();
      ::_exit(result.empty() ? 0 : 1);
    }
    ::close(pipeFds[1]);
    std::string out;
    char buffer[512];
    ssize_t n;
    while ((n = ::read(pipeFds[0], buffer, sizeof buffer)) > 0)
      out.append(buffer, static_cast<std::size_t>(n));
    ::close(pipeFds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (out.empty() && !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
      return "child died with status " + std::to_string(status);
    return out;
  }

 private:
  static bool run(const std::string& command) { return std::system(command.c_str()) == 0; }
  std::string name_;
  bool ok_ = false;
};

// Iterates `reactor` until `done` or 5 s.
bool iterateUntil(coil::ReactorBase& reactor, const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done() && std::chrono::steady_clock::now() < deadline) reactor.iterate(0.05);
  return done();
}

#define EXPECT(cond)                                                                  \
  do {                                                                                \
    if (!(cond)) return std::string("line ") + std::to_string(__LINE__) + ": " #cond; \
  } while (0)

// Joins on v1, sends from v0: the group datagram crosses the veth pair.
std::string groupScenario() {
  auto reactor = coil::test::makeTestReactor();
  auto receiver = std::make_shared<RecordingDatagram>();
  auto r = reactor->listenMulticast(0, receiver, "::");
  bool joined = false;
  r->joinGroup(kGroup, "v1").addCallback([&] { joined = true; });
  EXPECT(joined);
  auto sender = std::make_shared<RecordingDatagram>();
  auto s = reactor->listenMulticast(0, sender, "::");
  EXPECT(s->getTTL() == 1);
  EXPECT(s->getLoopbackMode());
  EXPECT(s->getOutgoingInterface().empty());
  bool set = false;
  s->setOutgoingInterface("v0").addCallback([&] { set = true; });
  EXPECT(set);
  EXPECT(s->getOutgoingInterface() == "v0");
  s->setTTL(3);
  EXPECT(s->getTTL() == 3);
  s->write("over veth", IPv6Address{"UDP", kGroup, portOf(r->getHost())});
  EXPECT(iterateUntil(*reactor, [&] { return receiver->received.size() == 1; }));
  EXPECT(receiver->received[0].data == "over veth");
  const auto* from = std::get_if<IPv6Address>(&receiver->received[0].from);
  EXPECT(from != nullptr && from->host == "fd00::1");
  // Reply by unicast to the address we were given.
  r->write("unicast back", receiver->received[0].from);
  EXPECT(iterateUntil(*reactor, [&] { return sender->received.size() == 1; }));
  // Loopback mode: a group joined only on v0 (the sending interface) is heard only through the
  // looped-back copy.
  auto local = std::make_shared<RecordingDatagram>();
  auto l = reactor->listenMulticast(0, local, "::");
  bool joinedLocal = false;
  l->joinGroup(kLocalGroup, "v0").addCallback([&] { joinedLocal = true; });
  EXPECT(joinedLocal);
  IPv6Address toLocal{"UDP", kLocalGroup, portOf(l->getHost())};
  s->setLoopbackMode(false);
  EXPECT(!s->getLoopbackMode());
  s->write("not looped", toLocal);
  s->setLoopbackMode(true);
  s->write("looped", toLocal);
  EXPECT(iterateUntil(*reactor, [&] { return !local->received.empty(); }));
  EXPECT(local->received[0].data == "looped");
  l->stopListening();
  bool left = false;
  r->leaveGroup(kGroup, "v1").addCallback([&] { left = true; });
  EXPECT(left);
  bool closed = false;
  r->stopListening().addCallback([&] { closed = true; });
  s->stopListening();
  EXPECT(iterateUntil(*reactor, [&] { return closed && reactor->getDelayedCalls().empty(); }));
  return {};
}

// Join failures on an IPv6 port.
std::string joinErrorScenario() {
  auto reactor = coil::test::makeTestReactor();
  auto r = reactor->listenMulticast(0, std::make_shared<RecordingDatagram>(), "::");
  auto failedWith = [](coil::Deferred<void> d) {
    std::string what;
    d.addErrback([&](const coil::Failure& f) {
      what = f.check<error::MulticastJoinError>() ? "MulticastJoinError" : f.getErrorMessage();
    });
    return what;
  };
  EXPECT(failedWith(r->joinGroup("fd00::1", "v1")) == "MulticastJoinError");    // not multicast
  EXPECT(failedWith(r->joinGroup("225.0.0.1", "v1")) == "MulticastJoinError");  // IPv4 group
  EXPECT(failedWith(r->joinGroup(kGroup, "no-such-if")) == "MulticastJoinError");
  bool closed = false;
  r->stopListening().addCallback([&] { closed = true; });
  EXPECT(iterateUntil(*reactor, [&] { return closed; }));
  return {};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(MulticastIPv6)

COIL_TEST_CASE(groupDatagramCrossesAVethPair) {
  if (!haveNamespaces()) return;
  VethNamespace ns;
  BOOST_TEST_REQUIRE(ns.ok(), "could not set up namespace " << ns.name());
  BOOST_TEST(ns.runInside(groupScenario) == "");
}

COIL_TEST_CASE(joinErrors) {
  if (!haveNamespaces()) return;
  VethNamespace ns;
  BOOST_TEST_REQUIRE(ns.ok(), "could not set up namespace " << ns.name());
  BOOST_TEST(ns.runInside(joinErrorScenario) == "");
}

BOOST_AUTO_TEST_SUITE_END()
