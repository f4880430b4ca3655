// Tests for plugins/Reactors: the choice order (explicit, COIL_REACTOR, default), NoSuchReactor
// messages, and the default registry's built-ins.
#include <coil/core/ReactorBase.hpp>
#include <coil/plugins/Reactors.hpp>

#include <test/plugins/PluginTesting.hpp>
#include <test/support/Testing.hpp>

#include <algorithm>

using coil::NoSuchReactor;
using coil::Registry;
using coil::test::EnvGuard;
using coil::test::fakeBackend;

namespace {

Registry threeBackends() {
  Registry r;
  r.addBackend(fakeBackend("uring", std::string("io_uring_queue_init: Operation not permitted")));
  r.addBackend(fakeBackend("epoll"));
  r.addBackend(fakeBackend("poll"));
  return r;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(ReactorsTests)

COIL_TEST_CASE(explicitNameIsChosen) {
  EnvGuard env("COIL_REACTOR", std::nullopt);
  Registry r = threeBackends();
  BOOST_TEST(coil::chooseBackend(r, "poll").name == "poll");
  BOOST_TEST(coil::chooseBackend(r, "epoll").name == "epoll");
}

COIL_TEST_CASE(defaultIsFirstAvailable) {
  EnvGuard env("COIL_REACTOR", std::nullopt);
  Registry r = threeBackends();
  BOOST_TEST(coil::chooseBackend(r).name == "epoll");  // uring's probe fails
}

COIL_TEST_CASE(environmentIsHonouredButExplicitWins) {
  EnvGuard env("COIL_REACTOR", std::string("poll"));
  Registry r = threeBackends();
  BOOST_TEST((coil::reactorFromEnvironment() == std::optional<std::string>("poll")));
  BOOST_TEST(coil::chooseBackend(r).name == "poll");
  BOOST_TEST(coil::chooseBackend(r, "epoll").name == "epoll");
}

COIL_TEST_CASE(emptyEnvironmentIsIgnored) {
  EnvGuard env("COIL_REACTOR", std::string(""));
  Registry r = threeBackends();
  BOOST_TEST(!coil::reactorFromEnvironment());
  BOOST_TEST(coil::chooseBackend(r).name == "epoll");
}

COIL_TEST_CASE(unknownNameListsAvailable) {
  EnvGuard env("COIL_REACTOR", std::nullopt);
  Registry r = threeBackends();
  try {
    coil::chooseBackend(r, "kqueue");
    BOOST_FAIL("unknown backend accepted");
  } catch (const NoSuchReactor& e) {
    std::string what = e.what();
    BOOST_TEST_MESSAGE(what);
    BOOST_TEST(contains(what, "'kqueue'"));
    BOOST_TEST(contains(what, "unknown backend"));
    BOOST_TEST(contains(what, "available: epoll, poll"));
    BOOST_TEST(!contains(what, "uring"));
    BOOST_TEST(e.name() == "kqueue");
    BOOST_TEST((e.available() == std::vector<std::string>{"epoll", "poll"}));
  }
  BOOST_CHECK_THROW(coil::chooseBackend(r, "kqueue"), std::invalid_argument);
}

COIL_TEST_CASE(unavailableNameGivesProbeReason) {
  EnvGuard env("COIL_REACTOR", std::nullopt);
  Registry r = threeBackends();
  try {
    coil::chooseBackend(r, "uring");
    BOOST_FAIL("unavailable backend accepted");
  } catch (const NoSuchReactor& e) {
    std::string what = e.what();
    BOOST_TEST_MESSAGE(what);
    BOOST_TEST(contains(what, "'uring'"));
    BOOST_TEST(contains(what, "io_uring_queue_init: Operation not permitted"));
    BOOST_TEST(contains(what, "available: epoll, poll"));
  }
}

COIL_TEST_CASE(badEnvironmentNameSaysWhereItCameFrom) {
  EnvGuard env("COIL_REACTOR", std::string("bogus"));
  Registry r = threeBackends();
  try {
    coil::chooseBackend(r);
    BOOST_FAIL("bogus COIL_REACTOR accepted");
  } catch (const NoSuchReactor& e) {
    std::string what = e.what();
    BOOST_TEST(contains(what, "'bogus'"));
    BOOST_TEST(contains(what, "COIL_REACTOR"));
    BOOST_TEST(contains(what, "available: epoll, poll"));
  }
}

COIL_TEST_CASE(nothingAvailableSaysWhy) {
  EnvGuard env("COIL_REACTOR", std::nullopt);
  Registry r;
  r.addBackend(fakeBackend("uring", std::string("no io_uring")));
  try {
    coil::chooseBackend(r);
    BOOST_FAIL("chose from nothing");
  } catch (const NoSuchReactor& e) {
    std::string what = e.what();
    BOOST_TEST(contains(what, "uring: no io_uring"));
    BOOST_TEST(contains(what, "available: none"));
  }
  Registry empty;
  BOOST_CHECK_THROW(coil::chooseBackend(empty), NoSuchReactor);
}

COIL_TEST_CASE(defaultRegistryHasTheBuiltinsInOrder) {
  const auto& backends = coil::defaultRegistry().backends();
  std::vector<std::string> names;
  for (const auto& b : backends) names.push_back(b.name);
  BOOST_TEST_MESSAGE("registered: " << names.size());
  auto at = [&](const std::string& n) { return std::find(names.begin(), names.end(), n); };
  BOOST_REQUIRE(at("poll") != names.end());
  BOOST_REQUIRE(at("select") != names.end());
  BOOST_TEST((at("poll") < at("select")));
#ifdef __linux__
  BOOST_REQUIRE(at("epoll") != names.end());
  BOOST_TEST((at("epoll") < at("poll")));
  BOOST_TEST(coil::availableReactors().front() == "epoll");
#endif
  for (const auto& b : backends)
    if (b.name == "poll" || b.name == "select") BOOST_TEST(b.origin == "built-in");
  BOOST_TEST(&coil::defaultRegistry() == &coil::defaultRegistry());
}

COIL_TEST_CASE(makeReactorBuildsTheNamedBackend) {
  EnvGuard env("COIL_REACTOR", std::nullopt);
  for (const std::string& name : coil::availableReactors()) {
    auto reactor = coil::makeReactor(name);
    BOOST_REQUIRE(reactor);
    BOOST_TEST(reactor->backendName() == name);
  }
  auto byDefault = coil::makeReactor();
  BOOST_TEST(byDefault->backendName() == coil::availableReactors().front());
}

COIL_TEST_CASE(makeReactorHonoursEnvironment) {
  EnvGuard env("COIL_REACTOR", std::string("select"));
  BOOST_TEST(coil::makeReactor()->backendName() == "select");
  BOOST_TEST(coil::makeReactor("poll")->backendName() == "poll");
}

COIL_TEST_CASE(makeReactorUnknownThrowsWithList) {
  EnvGuard env("COIL_REACTOR", std::nullopt);
  try {
    coil::makeReactor("nonesuch");
    BOOST_FAIL("nonesuch made");
  } catch (const NoSuchReactor& e) {
    std::string what = e.what();
    BOOST_TEST(contains(what, "'nonesuch'"));
    BOOST_TEST(contains(what, "poll"));
    BOOST_TEST(contains(what, "select"));
  }
}

BOOST_AUTO_TEST_SUITE_END()
