// Tests for core/Registry: order, duplicate names, availability through probes.
#include <coil/core/Registry.hpp>

#include <test/plugins/PluginTesting.hpp>
#include <test/support/Testing.hpp>

#include <stdexcept>

using coil::BackendEntry;
using coil::Registry;
using coil::test::fakeBackend;

BOOST_AUTO_TEST_SUITE(RegistryTests)

COIL_TEST_CASE(keepsRegistrationOrder) {
  Registry r;
  r.addBackend(fakeBackend("epoll"));
  r.addBackend(fakeBackend("poll"));
  r.addBackend(fakeBackend("select"));
  BOOST_REQUIRE_EQUAL(r.backends().size(), 3u);
  BOOST_TEST(r.backends()[0].name == "epoll");
  BOOST_TEST(r.backends()[1].name == "poll");
  BOOST_TEST(r.backends()[2].name == "select");
  BOOST_TEST((r.availableBackends() == std::vector<std::string>{"epoll", "poll", "select"}));
}

COIL_TEST_CASE(findsByName) {
  Registry r;
  r.addBackend(fakeBackend("poll"));
  BOOST_REQUIRE(r.findBackend("poll") != nullptr);
  BOOST_TEST(r.findBackend("poll")->name == "poll");
  BOOST_TEST(r.findBackend("pol") == nullptr);
  BOOST_TEST(r.findBackend("") == nullptr);
}

COIL_TEST_CASE(refusesDuplicateNamesNamingBothOrigins) {
  Registry r;
  r.addBackend(fakeBackend("poll"));
  try {
    r.addBackend(fakeBackend("poll", {}, "/plugins/other.so"));
    BOOST_FAIL("duplicate accepted");
  } catch (const std::invalid_argument& e) {
    std::string what = e.what();
    BOOST_TEST(what.find("'poll'") != std::string::npos);
    BOOST_TEST(what.find("/plugins/other.so") != std::string::npos);
    BOOST_TEST(what.find("built-in") != std::string::npos);
  }
  BOOST_TEST(r.backends().size() == 1u);
}

COIL_TEST_CASE(refusesEntriesWithoutNameOrCreate) {
  Registry r;
  BOOST_CHECK_THROW(r.addBackend(fakeBackend("")), std::invalid_argument);
  BackendEntry noCreate = fakeBackend("x");
  noCreate.create = nullptr;
  BOOST_CHECK_THROW(r.addBackend(noCreate), std::invalid_argument);
  BOOST_TEST(r.backends().empty());
}

COIL_TEST_CASE(availableSkipsFailingProbesKeepingOrder) {
  Registry r;
  r.addBackend(fakeBackend("kqueue", std::string("not on this system")));
  r.addBackend(fakeBackend("epoll"));
  r.addBackend(fakeBackend("uring", std::string("io_uring_queue_init: Operation not permitted")));
  r.addBackend(fakeBackend("select"));
  BOOST_TEST((r.availableBackends() == std::vector<std::string>{"epoll", "select"}));
  BOOST_TEST(r.backends().size() == 4u);  // unavailable ones are still listed
}

COIL_TEST_CASE(entryWithoutProbeIsAvailable) {
  Registry r;
  BackendEntry e = fakeBackend("noprobe");
  e.probe = nullptr;
  r.addBackend(e);
  BOOST_TEST((r.availableBackends() == std::vector<std::string>{"noprobe"}));
}

BOOST_AUTO_TEST_SUITE_END()
