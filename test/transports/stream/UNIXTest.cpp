// UNIX stream specifics (spec §5): lock files, mode, abstract names, descriptor passing.
#include <coil/core/Errors.hpp>
#include <coil/core/IFileDescriptorReceiver.hpp>
#include <coil/core/IUNIXTransport.hpp>

#include <test/support/ReactorBuilder.hpp>
#include <test/support/Testing.hpp>
#include <test/transports/stream/StreamTesting.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

using namespace coil;
using namespace coil::test;

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

bool stop(ReactorBuilder& b, IListeningPort& port) {
  bool done = false;
  port.stopListening().addCallback([&done] { done = true; });
  return b.iterateUntil([&] { return done; });
}

// A PID that is certainly dead: a child that has exited and been reaped.
pid_t deadPid() {
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  int status = 0;
  ::waitpid(child, &status, 0);
  return child;
}

class FdReceiver : public Recorder, public IFileDescriptorReceiver {
 public:
  void fileDescriptorReceived(int fd) override {
    fds.push_back(fd);
    bytesBeforeFd.push_back(received.size());
  }
  std::vector<int> fds;
  std::vector<std::size_t> bytesBeforeFd;
};

}  // namespace

BOOST_AUTO_TEST_SUITE(UNIXStream)

COIL_TEST_CASE(mode_unlink_and_existing_files) {
  ReactorBuilder b;
  auto factory = std::make_shared<RecordingServerFactory<>>();
  std::string path = tempSocketPath("mode");
  auto port = b.reactor().listenUNIX(path, factory, 50, 0600);
  struct stat st {};
  BOOST_REQUIRE(::stat(path.c_str(), &st) == 0);
  BOOST_CHECK(S_ISSOCK(st.st_mode));
  BOOST_CHECK_EQUAL(st.st_mode & 0777, 0600u);
  BOOST_CHECK(port->getHost() == Address(UNIXAddress{path}));
  // Without wantPID an existing file is not removed: bind fails.
  BOOST_CHECK_THROW(b.reactor().listenUNIX(path, factory), error::CannotListenError);
  BOOST_CHECK(stop(b, *port));
  BOOST_CHECK(!exists(path));  // unlinked on stop
}

COIL_TEST_CASE(wantPID_lock_file_rules) {
  ReactorBuilder b;
  auto factory = std::make_shared<RecordingServerFactory<>>();
  std::string path = tempSocketPath("lock");
  auto port = b.reactor().listenUNIX(path, factory, 50, 0666, true);
  BOOST_CHECK(exists(path + ".lock"));
  try {
    b.reactor().listenUNIX(path, factory, 50, 0666, true);
    BOOST_ERROR("a live lock did not stop the second listener");
  } catch (const error::CannotListenError& e) {
    BOOST_CHECK_NE(std::string(e.what()).find("Cannot acquire lock"), std::string::npos);
  }
  // checkPID: a live lock lets the client connect.
  auto client = std::make_shared<RecordingClientFactory<>>();
  auto connector = b.reactor().connectUNIX(path, client, 30, true);
  BOOST_CHECK(b.iterateUntil([&] { return client->built.size() == 1 && client->built[0]->made; }));
  BOOST_CHECK(b.iterateUntil([&] { return factory->built.size() == 1; }));
  client->built[0]->transport()->loseConnection();
  BOOST_CHECK(b.iterateUntil([&] { return factory->built[0]->lostCount == 1; }));
  BOOST_CHECK(stop(b, *port));
  BOOST_CHECK(!exists(path));
  BOOST_CHECK(!exists(path + ".lock"));  // unlocked on stop

  // A stale lock (dead holder) is broken and the leftover socket file removed.
  BOOST_REQUIRE(::symlink(std::to_string(deadPid()).c_str(), (path + ".lock").c_str()) == 0);
  int leftover = ::open(path.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
  BOOST_REQUIRE(leftover >= 0);
  ::close(leftover);
  // checkPID with a stale lock: BadFileError, reported later.
  auto refused = std::make_shared<RecordingClientFactory<>>();
  auto c2 = b.reactor().connectUNIX(path, refused, 30, true);
  BOOST_CHECK_EQUAL(refused->failedCount, 0);
  BOOST_CHECK(b.iterateUntil([&] { return refused->failedCount == 1; }));
  BOOST_CHECK(refused->failed->check<error::BadFileError>());
  auto again = b.reactor().listenUNIX(path, factory, 50, 0666, true);
  BOOST_CHECK(stop(b, *again));
  BOOST_CHECK(!exists(path + ".lock"));
}

COIL_TEST_CASE(abstract_names_make_no_file) {
  ReactorBuilder b;
  auto factory = std::make_shared<RecordingServerFactory<>>();
  std::string name = tempSocketPath("abs");
  auto port = b.reactor().listenUNIX(std::string(1, '\0') + name, factory, 50, 0600, true);
  BOOST_CHECK(!exists(name));
  BOOST_CHECK(!exists(name + ".lock"));
  BOOST_CHECK(port->getHost() == Address(UNIXAddress{std::string(1, '\0') + name}));
  BOOST_CHECK(stop(b, *port));
}

COIL_TEST_CASE(descriptors_pass_with_SCM_RIGHTS_before_their_bytes) {
  for (const StreamKind& kind : streamKinds()) {
    if (kind.family != AF_UNIX) continue;
    BOOST_TEST_CONTEXT(kind.name) {
      ReactorBuilder b;
      StreamPair<FdReceiver, Recorder> pair;
      if (!pair.open(b, kind)) continue;
      auto* unixTransport = dynamic_cast<IUNIXTransport*>(pair.client().transport());
      BOOST_REQUIRE(unixTransport);
      int fds[2];
      BOOST_REQUIRE(::pipe(fds) == 0);
      pair.client().transport()->write("ab");
      unixTransport->sendFileDescriptor(fds[1]);
      ::close(fds[1]);  // duplicated when queued
      pair.client().transport()->write("cd");
      BOOST_CHECK(b.iterateUntil([&] { return pair.server().received == "abcd"; }));
      BOOST_REQUIRE_EQUAL(pair.server().fds.size(), 1u);
      BOOST_CHECK_LE(pair.server().bytesBeforeFd[0], 2u);
      // The received descriptor is the pipe's write end.
      BOOST_CHECK_EQUAL(::write(pair.server().fds[0], "x", 1), 1);
      char byte = 0;
      BOOST_CHECK_EQUAL(::read(fds[0], &byte, 1), 1);
      BOOST_CHECK_EQUAL(byte, 'x');
      ::close(pair.server().fds[0]);
      ::close(fds[0]);
      pair.close(b);
    }
  }
}

COIL_TEST_CASE(more_descriptors_than_bytes_is_FileDescriptorOverrun) {
  ReactorBuilder b;
  StreamPair<FdReceiver, Recorder> pair;
  StreamKind kind = streamKinds().at(haveIPv6() ? 2 : 1);
  BOOST_REQUIRE_EQUAL(kind.name, "UNIX");
  if (!pair.open(b, kind)) return;
  dynamic_cast<IUNIXTransport&>(*pair.client().transport()).sendFileDescriptor(0);
  pair.client().transport()->loseConnection();
  BOOST_CHECK(b.iterateUntil([&] { return pair.client().lostCount == 1; }));
  BOOST_CHECK(pair.client().lost->check<error::FileDescriptorOverrun>());
  pair.close(b);
}

BOOST_AUTO_TEST_SUITE_END()
