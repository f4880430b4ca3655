// Tests for plugins/PluginLoader: loading the uring example plugin and endpoint types, and
// refusing broken plugins (wrong ABI, an ABI 1 plugin, no entry point, a taken backend name or
// endpoint type, an exception, a missing coil symbol, not a shared library) with the file and
// the reason, without aborting and without committing anything.
#include <coil/backends/Backends.hpp>
#include <coil/plugins/PluginApi.hpp>
#include <coil/plugins/PluginLoader.hpp>
#include <coil/transports/endpoints/Description.hpp>
#include <coil/transports/endpoints/StringEndpoints.hpp>

#include <test/plugins/PluginTesting.hpp>
#include <test/support/MemoryReactor.hpp>
#include <test/support/Testing.hpp>

#include <fstream>

namespace fs = std::filesystem;
using coil::Registry;
using coil::plugins::LoadResult;
using coil::plugins::PluginLoader;
using coil::test::EnvGuard;
using coil::test::LogCapture;
using coil::test::ScratchDir;

namespace {

const fs::path kFixtures = COIL_TEST_FIXTURE_DIR;
const fs::path kPlugins = COIL_TEST_PLUGIN_DIR;

fs::path fixture(const std::string& name) {
  return kFixtures / ("coil_test_" + name + ".so");
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::vector<std::string> names(const Registry& r) {
  std::vector<std::string> out;
  for (const auto& b : r.backends()) out.push_back(b.name);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(LoaderTests)

COIL_TEST_CASE(wrongAbiIsRefused) {
  LogCapture logs;
  Registry r;
  PluginLoader loader(r);
  LoadResult result = loader.loadFile(fixture("wrongabi"));
  BOOST_TEST_MESSAGE(result.message);
  BOOST_TEST(!result.ok);
  BOOST_TEST(result.file == fixture("wrongabi"));
  BOOST_TEST(contains(result.message, "ABI version mismatch"));
  BOOST_TEST(contains(result.message, "ABI " + std::to_string(COIL_PLUGIN_ABI_VERSION + 41)));
  BOOST_TEST(r.backends().empty());
  BOOST_TEST(logs.count("coil_test_wrongabi.so refused") == 1u);
}

COIL_TEST_CASE(missingEntryPointIsRefused) {
  LogCapture logs;
  Registry r;
  PluginLoader loader(r);
  LoadResult result = loader.loadFile(fixture("noentry"));
  BOOST_TEST(!result.ok);
  BOOST_TEST(contains(result.message, "no entry point coil_plugin_entry"));
  BOOST_TEST(logs.count("coil_test_noentry.so refused") == 1u);
}

COIL_TEST_CASE(takenNameRefusesTheWholePlugin) {
  LogCapture logs;
  Registry r;
  coil::registerBuiltins(r);
  std::size_t before = r.backends().size();
  PluginLoader loader(r);
  LoadResult result = loader.loadFile(fixture("duplicate"));
  BOOST_TEST_MESSAGE(result.message);
  BOOST_TEST(!result.ok);
  BOOST_TEST(contains(result.message, "backend name 'select' is already taken by built-in"));
  BOOST_TEST(r.backends().size() == before);  // "dup-extra" was not committed either
  BOOST_TEST(r.findBackend("dup-extra") == nullptr);
  BOOST_TEST(r.findBackend("select")->origin == "built-in");
}

COIL_TEST_CASE(abiOnePluginIsRefusedByTheVersionCheck) {
  // Later versions only appended to PluginHost, but a v1 plugin accepts only a host of exactly
  // ABI 1: it refuses itself, and the host reports the mismatch (see docs/architecture.md).
  static_assert(COIL_PLUGIN_ABI_VERSION == 3);
  LogCapture logs;
  Registry r;
  coil::registerBuiltins(r);
  std::size_t before = r.backends().size();
  PluginLoader loader(r);
  LoadResult result = loader.loadFile(fixture("v1"));
  BOOST_TEST_MESSAGE(result.message);
  BOOST_TEST(!result.ok);
  BOOST_TEST(result.message == "ABI version mismatch: plugin built for ABI 1, host has ABI 3");
  BOOST_TEST(r.backends().size() == before);
  BOOST_TEST(r.findBackend("v1-backend") == nullptr);
  BOOST_TEST(logs.count("coil_test_v1.so refused: ABI version mismatch") == 1u);
}

COIL_TEST_CASE(endpointTypesAreCommittedMatchedIgnoringCase) {
  LogCapture logs;
  Registry r;
  coil::endpoints::registerBuiltinParsers(r);
  PluginLoader loader(r);
  LoadResult result = loader.loadFile(fixture("endpointtypes"));
  BOOST_TEST_MESSAGE(result.message);
  BOOST_REQUIRE(result.ok);
  BOOST_TEST(result.message ==
             "registered server endpoint types: memory-test; registered client endpoint types: "
             "memory-test");
  BOOST_TEST((result.serverParsers == std::vector<std::string>{"memory-test"}));
  BOOST_TEST((result.clientParsers == std::vector<std::string>{"memory-test"}));
  const auto* server = r.findServerParser("Memory-Test");
  BOOST_REQUIRE(server);
  BOOST_TEST(!server->exactCase);  // the plugin asked for exact case: the host overrides it
  BOOST_TEST(server->origin == fs::absolute(fixture("endpointtypes")).string());
  const auto* client = r.findClientParser("MEMORY-TEST");
  BOOST_REQUIRE(client);
  BOOST_TEST(client->origin == server->origin);
  // serverFromString/clientFromString reach the plugin's parsers through the registry.
  coil::test::MemoryReactor reactor;
  for (const char* description : {"memory-test:x", "MEMORY-TEST:y=1"}) {
    try {
      coil::endpoints::clientFromString(reactor, description, r);
      BOOST_FAIL("no error");
    } catch (const coil::endpoints::EndpointSyntaxError& e) {
      BOOST_TEST(contains(e.what(),
                          "the 'memory-test' parser from " + client->origin + " made no endpoint"),
                 e.what());
    }
  }
  BOOST_CHECK_THROW(coil::endpoints::serverFromString(reactor, "memory-test:x", r),
                    coil::endpoints::EndpointSyntaxError);
}

COIL_TEST_CASE(takenEndpointTypeRefusesTheWholePlugin) {
  LogCapture logs;
  Registry r;
  coil::registerBuiltins(r);
  coil::endpoints::registerBuiltinParsers(r);
  const std::size_t backends = r.backends().size();
  const std::size_t servers = r.serverParsers().size(), clients = r.clientParsers().size();
  PluginLoader loader(r);
  LoadResult result = loader.loadFile(fixture("duplicatetype"));
  BOOST_TEST_MESSAGE(result.message);
  BOOST_TEST(!result.ok);
  BOOST_TEST(result.message ==
             "server endpoint type 'TCP' is already taken by 'tcp' from built-in");
  BOOST_TEST(logs.count("coil_test_duplicatetype.so refused: server endpoint type 'TCP'") == 1u);
  // Its backend and client type, accepted when staged, were discarded with it.
  BOOST_TEST(r.backends().size() == backends);
  BOOST_TEST(r.serverParsers().size() == servers);
  BOOST_TEST(r.clientParsers().size() == clients);
  BOOST_TEST(r.findClientParser("duptype-extra") == nullptr);
  BOOST_TEST(r.findServerParser("tcp")->origin == "built-in");
}

COIL_TEST_CASE(missingCoilSymbolIsRefusedNamingTheFileAndTheSymbol) {
  LogCapture logs;
  Registry r;
  PluginLoader loader(r);
  LoadResult result = loader.loadFile(fixture("missingsymbol"));
  BOOST_TEST_MESSAGE(result.message);
  BOOST_TEST(!result.ok);
  // dlerror()'s text names the file and the symbol; the loader adds it demangled and why.
  BOOST_TEST(contains(result.message, "dlopen failed: " + fixture("missingsymbol").string() +
                                          ": undefined symbol: _ZN4coil4test15symbolNoHostHasEi"));
  BOOST_TEST(contains(result.message, "(coil::test::symbolNoHostHas(int))"));
  BOOST_TEST(contains(result.message, "this program exports coil's symbols but not that one"));
  BOOST_TEST(logs.count("coil_test_missingsymbol.so refused: dlopen failed") == 1u);
}

COIL_TEST_CASE(throwingPluginIsRefusedWithItsMessage) {
  LogCapture logs;
  Registry r;
  PluginLoader loader(r);
  LoadResult result = loader.loadFile(fixture("throwing"));
  BOOST_TEST(!result.ok);
  BOOST_TEST(contains(result.message, "no hardware for this backend"));
  BOOST_TEST(r.backends().empty());
}

COIL_TEST_CASE(notASharedLibraryIsRefused) {
  LogCapture logs;
  ScratchDir dir;
  fs::path bogus = dir.path() / "bogus.so";
  std::ofstream(bogus) << "this is not an ELF file\n";
  Registry r;
  PluginLoader loader(r);
  LoadResult result = loader.loadFile(bogus);
  BOOST_TEST_MESSAGE(result.message);
  BOOST_TEST(!result.ok);
  BOOST_TEST(contains(result.message, "dlopen failed"));
  BOOST_TEST(contains(result.message, "bogus.so"));
  BOOST_TEST(logs.count("bogus.so refused") == 1u);
}

COIL_TEST_CASE(missingFileAndDirectoryAreRefused) {
  LogCapture logs;
  Registry r;
  PluginLoader loader(r);
  BOOST_TEST(!loader.loadFile("/nonexistent/coil/plugin.so").ok);
  auto results = loader.loadDirectory("/nonexistent/coil/plugins");
  BOOST_REQUIRE_EQUAL(results.size(), 1u);
  BOOST_TEST(!results[0].ok);
  BOOST_TEST(contains(results[0].message, "cannot read plugin directory"));
  BOOST_TEST(loader.results().size() == 2u);
}

COIL_TEST_CASE(directoryLoadsEverySoSortedAndReportsEach) {
  LogCapture logs;
  ScratchDir dir;
  for (const char* name : {"wrongabi", "noentry", "duplicate", "throwing"})
    fs::copy_file(fixture(name), dir.path() / fixture(name).filename());
  std::ofstream(dir.path() / "aaa_garbage.so") << "garbage";
  std::ofstream(dir.path() / "README.txt") << "not a plugin";
  fs::create_directory(dir.path() / "sub.so");  // a directory, not a file: skipped
  Registry r;
  coil::registerBuiltins(r);
  std::size_t before = r.backends().size();
  PluginLoader loader(r);
  auto results = loader.loadDirectory(dir.path());
  BOOST_REQUIRE_EQUAL(results.size(), 5u);
  std::vector<std::string> files;
  for (const auto& res : results) {
    files.push_back(res.file.filename().string());
    BOOST_TEST(!res.ok);
    BOOST_TEST(!res.message.empty());
  }
  BOOST_TEST((files == std::vector<std::string>{"aaa_garbage.so", "coil_test_duplicate.so",
                                                "coil_test_noentry.so", "coil_test_throwing.so",
                                                "coil_test_wrongabi.so"}));
  BOOST_TEST(r.backends().size() == before);
  BOOST_TEST(logs.count("refused") == 5u);
}

COIL_TEST_CASE(searchPathSplitsOnColons) {
  {
    EnvGuard env("COIL_PLUGIN_PATH", std::string("/a::/b/c:"));
    auto dirs = coil::plugins::pluginSearchPath();
    // COIL_PLUGIN_PATH's entries come first; the directory coil's own plugins were built into
    // (when it exists) follows.
    BOOST_REQUIRE_GE(dirs.size(), 2u);
    BOOST_TEST(dirs[0] == fs::path("/a"));
    BOOST_TEST(dirs[1] == fs::path("/b/c"));
    BOOST_TEST(dirs.size() <= 3u);
  }
  EnvGuard unset("COIL_PLUGIN_PATH", std::nullopt);
  for (const auto& d : coil::plugins::pluginSearchPath())
    BOOST_TEST(d == fs::path(COIL_TEST_PLUGIN_DIR));
  BOOST_TEST(!coil::plugins::isSecureProcess());
}

#ifdef COIL_HAVE_URING

COIL_TEST_CASE(loadsTheUringPlugin) {
  Registry r;
  coil::registerBuiltins(r);
  PluginLoader loader(r);
  fs::path file = kPlugins / "coil_uring.so";
  LoadResult result = loader.loadFile(file);
  BOOST_TEST_MESSAGE(result.message);
  BOOST_REQUIRE(result.ok);
  BOOST_TEST((result.backends == std::vector<std::string>{"uring"}));
  BOOST_TEST(result.message == "registered backends: uring");
  const coil::BackendEntry* uring = r.findBackend("uring");
  BOOST_REQUIRE(uring);
  BOOST_TEST(uring->origin == file.string());
  BOOST_TEST(contains(uring->description, "io_uring"));
  BOOST_TEST(names(r).back() == "uring");  // after the built-ins
  // Loading the same file again is a no-op, not a duplicate.
  LoadResult again = loader.loadFile(file);
  BOOST_TEST(again.ok);
  BOOST_TEST(again.message == "already loaded");
  BOOST_TEST(r.backends().size() == names(r).size());
}

COIL_TEST_CASE(secondCopyOfUringIsRefusedAsDuplicate) {
  LogCapture logs;
  ScratchDir dir;
  fs::copy_file(kPlugins / "coil_uring.so", dir.path() / "coil_uring_copy.so");
  Registry r;
  PluginLoader loader(r);
  BOOST_REQUIRE(loader.loadFile(kPlugins / "coil_uring.so").ok);
  LoadResult copy = loader.loadFile(dir.path() / "coil_uring_copy.so");
  BOOST_TEST(!copy.ok);
  BOOST_TEST(contains(copy.message, "backend name 'uring' is already taken by " +
                                        (kPlugins / "coil_uring.so").string()));
  BOOST_TEST(r.backends().size() == 1u);
}

COIL_TEST_CASE(searchPathLoadsTheUringPlugin) {
  LogCapture logs;
  EnvGuard env("COIL_PLUGIN_PATH", "/nonexistent/dir:" + kPlugins.string());
  Registry r;
  PluginLoader loader(r);
  auto results = loader.loadSearchPath();  // the missing directory is skipped silently
  BOOST_REQUIRE(!results.empty());
  for (const auto& res : results) BOOST_TEST(res.file.parent_path() == kPlugins);
  BOOST_TEST(r.findBackend("uring") != nullptr);
}

#endif

BOOST_AUTO_TEST_SUITE_END()
