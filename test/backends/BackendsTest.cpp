// The built-in backend table: order, probes, factories and their errors.
// Tests: backends/Backends.cpp
#include <coil/backends/Backends.hpp>
#include <coil/backends/PosixReactor.hpp>
#include <coil/core/Registry.hpp>
#include <test/support/ReactorBuilder.hpp>
#include <test/support/Testing.hpp>

#include <stdexcept>
#include <string>
#include <vector>

BOOST_AUTO_TEST_SUITE(Backends)

COIL_TEST_CASE(builtinsAreRegisteredDefaultFirst) {
  coil::Registry registry;
  coil::registerBuiltins(registry);
  std::vector<std::string> names;
  for (const auto& b : registry.backends()) {
    names.push_back(b.name);
    BOOST_TEST(b.origin == "built-in");
    BOOST_TEST(!b.description.empty());
  }
#ifdef __linux__
  BOOST_TEST((names == std::vector<std::string>{"epoll", "poll", "select"}));
  BOOST_TEST(registry.availableBackends().front() == "epoll");
#else
  BOOST_TEST((names == std::vector<std::string>{"poll", "select"}));
#endif
  BOOST_TEST((coil::builtinBackendNames() == names));
  BOOST_TEST((registry.availableBackends() == coil::availableBuiltinBackends()));
}

COIL_TEST_CASE(createMakesAPosixReactorOverTheNamedBackend) {
  coil::Registry registry;
  coil::registerBuiltins(registry);
  for (const auto& b : registry.backends()) {
    if (b.probe && b.probe()) continue;
    auto reactor = b.create();
    BOOST_TEST(reactor->backendName() == b.name);
    BOOST_TEST(dynamic_cast<coil::PosixReactor*>(reactor.get()) != nullptr);
    BOOST_TEST(!reactor->running());
  }
}

COIL_TEST_CASE(registeringTwiceIsRefused) {
  coil::Registry registry;
  coil::registerBuiltins(registry);
  BOOST_CHECK_THROW(coil::registerBuiltins(registry), std::invalid_argument);
}

COIL_TEST_CASE(unknownNamesListTheBuiltins) {
  for (auto make : {+[](std::string_view n) { (void)coil::makeBuiltinReactor(n); },
                    +[](std::string_view n) { (void)coil::makeBuiltinMultiplexer(n); }}) {
    BOOST_CHECK_EXCEPTION(
        make("kqueue-ish"), std::invalid_argument, [](const std::invalid_argument& e) {
          std::string what = e.what();
          return what.find("kqueue-ish") != std::string::npos &&
                 what.find("poll") != std::string::npos && what.find("select") != std::string::npos;
        });
  }
}

COIL_TEST_CASE(theBuilderFollowsCoilReactor) {
  coil::test::ReactorBuilder builder;
  BOOST_TEST(builder.reactor().backendName() == coil::test::defaultReactorName());
  BOOST_TEST(builder.backend() == coil::test::defaultReactorName());
}

BOOST_AUTO_TEST_SUITE_END()
