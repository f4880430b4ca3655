// UNIX datagram sockets on every backend: listenUNIXDatagram, connectUNIXDatagram, abstract
// names, modes, refusals (spec §5, datagram parts).
// Tests: transports/unix/UNIXDatagramPort.cpp
#include <test/transports/datagram/DatagramTesting.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <memory>
#include <string>

using coil::Address;
using coil::UNIXAddress;
using coil::test::ReactorBuilder;
using coil::test::RecordingConnected;
using coil::test::RecordingDatagram;
using coil::test::stopAndWait;
using coil::test::tempSocketPath;
namespace error = coil::error;

namespace {

bool exists(const std::string& path) {
  struct stat st {};
  return ::lstat(path.c_str(), &st) == 0;
}

int modeOf(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int>(st.st_mode & 0777);
}

std::string abstractName(const std::string& tag) {
  return std::string(1, '\0') + "coil-dg-" + std::to_string(::getpid()) + "-" + tag;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(UNIXDatagram, ReactorBuilder)

COIL_TEST_CASE(listenBindsChmodsAndUnlinksOnStop) {
  std::string path = tempSocketPath("listen");
  auto proto = std::make_shared<RecordingDatagram>();
  auto port = reactor().listenUNIXDatagram(path, proto, 8192, 0640);
  BOOST_TEST(proto->starts == 1);
  BOOST_TEST(port->getHost() == Address(UNIXAddress{path}));
  BOOST_TEST(modeOf(path) == 0640);
  stopAndWait(*this, *port);
  BOOST_TEST(proto->stops == 1);
  BOOST_TEST(!exists(path));
  port->startListening();  // the name is free again
  BOOST_TEST(exists(path));
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(defaultModeIs0666) {
  std::string path = tempSocketPath("mode");
  mode_t old = ::umask(0);
  auto port = reactor().listenUNIXDatagram(path, std::make_shared<RecordingDatagram>());
  ::umask(old);
  BOOST_TEST(modeOf(path) == 0666);
  stopAndWait(*this, *port);
}

COIL_TEST_CASE(existingFileIsCannotListen) {
  std::string path = tempSocketPath("taken");
  std::ofstream(path) << "x";
  auto proto = std::make_shared<RecordingDatagram>();
  try {
    reactor().listenUNIXDatagram(path, proto);
    BOOST_ERROR("bound over an existing file");
  } catch (const error::CannotListenError& e) {
    BOOST_TEST(e.interface == path);
    BOOST_TEST(e.code().value() == EADDRINUSE);
  }
  BOOST_TEST(proto->starts == 0);
  BOOST_TEST(exists(path));  // not ours: left alone
  ::unlink(path.c_str());
}

COIL_TEST_CASE(connectedClientAndServerTalk) {
  std::string serverPath = tempSocketPath("server");
  std::string clientPath = tempSocketPath("client");
  auto server = std::make_shared<RecordingDatagram>();
  auto client = std::make_shared<RecordingConnected>();
  auto s = reactor().listenUNIXDatagram(serverPath, server);
  auto c = reactor().connectUNIXDatagram(serverPath, client, 8192, 0600, clientPath);
  BOOST_TEST(client->starts == 1);
  BOOST_TEST(client->failures.empty());
  BOOST_TEST(c->getPeer() == Address(UNIXAddress{serverPath}));
  BOOST_TEST(c->getHost() == Address(UNIXAddress{clientPath}));
  BOOST_TEST(modeOf(clientPath) == 0600);
  c->write("ping");
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 1; }));
  BOOST_TEST(server->received[0].data == "ping");
  BOOST_TEST(server->received[0].from == Address(UNIXAddress{clientPath}));
  s->write("pong", server->received[0].from);
  BOOST_TEST_REQUIRE(iterateUntil([&] { return client->received.size() == 1; }));
  BOOST_TEST(client->received[0] == "pong");
  BOOST_CHECK_THROW(c->write("x", UNIXAddress{"/elsewhere"}), coil::LogicError);
  stopAndWait(*this, *c);
  BOOST_TEST(client->stops == 1);
  BOOST_TEST(!exists(clientPath));
  stopAndWait(*this, *s);
}

COIL_TEST_CASE(unboundSenderCannotBeAnswered) {
  std::string serverPath = tempSocketPath("unbound");
  auto server = std::make_shared<RecordingDatagram>();
  auto s = reactor().listenUNIXDatagram(serverPath, server);
  auto c = reactor().connectUNIXDatagram(serverPath, std::make_shared<RecordingConnected>());
  BOOST_TEST(c->getHost() == Address(UNIXAddress{}));
  c->write("anonymous");
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 1; }));
  BOOST_TEST(server->received[0].from == Address(UNIXAddress{}));
  BOOST_CHECK_THROW(s->write("x", server->received[0].from), error::InvalidAddressError);
  BOOST_CHECK_THROW(s->write("x", coil::IPv4Address{"UDP", "127.0.0.1", 9}),
                    error::InvalidAddressError);
  BOOST_CHECK_THROW(s->write("x"), coil::LogicError);
  stopAndWait(*this, *s);
  stopAndWait(*this, *c);
}

COIL_TEST_CASE(abstractNamesWork) {
  std::string serverName = abstractName("server");
  std::string clientName = abstractName("client");
  auto server = std::make_shared<RecordingDatagram>();
  auto client = std::make_shared<RecordingConnected>();
  auto s = reactor().listenUNIXDatagram(serverName, server);
  auto c = reactor().connectUNIXDatagram(serverName, client, 8192, 0666, clientName);
  c->write("abstract");
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 1; }));
  BOOST_TEST(server->received[0].from == Address(UNIXAddress{clientName}));
  s->write("reply", UNIXAddress{clientName});
  BOOST_TEST_REQUIRE(iterateUntil([&] { return client->received.size() == 1; }));
  stopAndWait(*this, *s);
  stopAndWait(*this, *c);
  // Released with the socket: the name can be bound again at once.
  auto again = reactor().listenUNIXDatagram(serverName, std::make_shared<RecordingDatagram>());
  stopAndWait(*this, *again);
}

COIL_TEST_CASE(connectingToNothingCallsConnectionFailed) {
  auto client = std::make_shared<RecordingConnected>();
  std::string bindPath = tempSocketPath("failed-bind");
  auto c = reactor().connectUNIXDatagram(tempSocketPath("missing"), client, 8192, 0666, bindPath);
  BOOST_TEST_REQUIRE(client->failures.size() == 1u);
  BOOST_TEST(client->failures[0].check<error::ConnectError>().has_value());
  BOOST_TEST(client->starts == 0);
  BOOST_TEST(!exists(bindPath));
  BOOST_TEST(reactor().getReaders().empty());
  BOOST_TEST(c->stopListening().called());
}

COIL_TEST_CASE(writeToAStoppedPeerIsRefused) {
  std::string serverPath = tempSocketPath("refuse");
  auto s = reactor().listenUNIXDatagram(serverPath, std::make_shared<RecordingDatagram>());
  auto client = std::make_shared<RecordingConnected>();
  auto c = reactor().connectUNIXDatagram(serverPath, client);
  stopAndWait(*this, *s);
  c->write("nobody");
  BOOST_TEST(client->refused == 1);
  auto sender =
      reactor().listenUNIXDatagram(tempSocketPath("sender"), std::make_shared<RecordingDatagram>());
  try {
    sender->write("nobody", UNIXAddress{serverPath});
    BOOST_ERROR("sent to a path nobody listens on");
  } catch (const coil::Error& e) {
    BOOST_TEST((e.code().value() == ENOENT || e.code().value() == ECONNREFUSED));
  }
  stopAndWait(*this, *c);
  stopAndWait(*this, *sender);
}

COIL_TEST_CASE(stopProtocolOnceConnectedPortCloses) {
  std::string serverPath = tempSocketPath("count");
  auto server = std::make_shared<RecordingDatagram>();
  auto s = reactor().listenUNIXDatagram(serverPath, server, 16);
  auto c = reactor().connectUNIXDatagram(serverPath, std::make_shared<RecordingConnected>());
  c->write(std::string(40, 'z'));
  BOOST_TEST_REQUIRE(iterateUntil([&] { return server->received.size() == 1; }));
  BOOST_TEST(server->received[0].data == std::string(16, 'z'));  // truncated to maxPacketSize
  stopAndWait(*this, *c);
  stopAndWait(*this, *s);
  BOOST_TEST(server->stops == 1);
}

BOOST_AUTO_TEST_SUITE_END()
