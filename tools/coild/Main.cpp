// coild: the coil runner — backend choice (--reactor, --list-reactors), plugin directories and
// the `echo` service (on coil's TCP and UNIX transports).
// Tests: test/tools/CoildTest.cpp
#include "EchoService.hpp"

#include <coil/core/DeferredList.hpp>
#include <coil/core/Log.hpp>
#include <coil/core/ReactorBase.hpp>
#include <coil/plugins/Reactors.hpp>

#include <boost/program_options.hpp>

#include <csignal>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <string>
#include <vector>

#ifndef COIL_VERSION
#define COIL_VERSION "unknown"
#endif

namespace po = boost::program_options;

namespace coil::coild {
namespace {

constexpr int kUsageError = 2;

struct Global {
  po::options_description options{"Options"};
  std::string reactor;
  std::vector<std::string> pluginDirs;

  Global() {
    options.add_options()("help,h", "show this help and exit")("version",
                                                               "print the version and exit")(
        "reactor,r", po::value<std::string>(&reactor)->value_name("NAME"),
        "the backend to run on (default: $COIL_REACTOR, else the first available)")(
        "list-reactors", "list every backend: name, description, availability, origin")(
        "plugin-dir", po::value<std::vector<std::string>>(&pluginDirs)->value_name("DIR"),
        "load every *.so in DIR as a plugin (repeatable; $COIL_PLUGIN_PATH is searched too)");
  }
};

void printHelp(std::ostream& out, const Global& global) {
  out << "Usage: coild [options] [COMMAND [command options]]\n\n"
      << "Runs a coil service on the chosen reactor backend.\n\n"
      << global.options << "\n"
      << "Commands:\n"
      << "  echo [--port PORT] [--interface ADDR] [--unix PATH]\n"
      << "                        serve an echo service (TCP, UNIX) until SIGINT or SIGTERM\n"
      << "                        (`coild echo --help` for its options)\n";
}

int usageError(const std::string& message, const Global& global) {
  std::cerr << "coild: " << message << "\n\n";
  printHelp(std::cerr, global);
  return kUsageError;
}

// The index of the first argument that is not an option or an option's value (the command),
// or argc.
int findCommand(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.empty() || a[0] != '-') return i;
    bool takesValue = a == "--reactor" || a == "-r" || a == "--plugin-dir";
    if (takesValue) ++i;
  }
  return argc;
}

void listReactors(std::ostream& out) {
  const auto& backends = defaultRegistry().backends();
  std::size_t nameWidth = 4, descriptionWidth = 11, statusWidth = 9;
  std::vector<std::string> statuses;
  for (const auto& b : backends) {
    std::optional<std::string> reason = b.probe ? b.probe() : std::nullopt;
    statuses.push_back(reason ? "unavailable: " + *reason : "available");
    nameWidth = std::max(nameWidth, b.name.size());
    descriptionWidth = std::max(descriptionWidth, b.description.size());
    statusWidth = std::max(statusWidth, statuses.back().size());
  }
  auto pad = [](const std::string& s, std::size_t width) {
    return s + std::string(width - s.size() + 2, ' ');
  };
  for (std::size_t i = 0; i < backends.size(); ++i) {
    const auto& b = backends[i];
    out << pad(b.name, nameWidth) << pad(b.description, descriptionWidth)
        << pad(statuses[i], statusWidth) << b.origin << "\n";
  }
}

int runEcho(const std::vector<std::string>& args, const Global& global) {
  po::options_description options("echo options");
  int port = 8000;
  std::string interface;
  std::string unixPath;
  options.add_options()("help,h", "show this help and exit")(
      "port,p", po::value<int>(&port)->default_value(8000)->value_name("PORT"),
      "TCP port to listen on (0: any free port)")(
      "interface", po::value<std::string>(&interface)->value_name("ADDR"),
      "numeric IPv4 or IPv6 address to listen on (default: every IPv4 address)")(
      "unix", po::value<std::string>(&unixPath)->value_name("PATH"),
      "serve on the UNIX stream socket PATH (and on TCP too only if --port is given)");
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(args).options(options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "coild echo: " << e.what() << "\n\n" << options;
    return kUsageError;
  }
  if (vm.count("help")) {
    std::cout << "Usage: coild [options] echo [--port PORT] [--interface ADDR] [--unix PATH]\n\n"
              << options;
    return 0;
  }
  if (port < 0 || port > 65535) {
    std::cerr << "coild echo: --port must be 0..65535\n";
    return kUsageError;
  }
  if (vm.count("unix") && unixPath.empty()) {
    std::cerr << "coild echo: --unix needs a path\n";
    return kUsageError;
  }
  bool tcp = unixPath.empty() || !vm["port"].defaulted();

  std::unique_ptr<ReactorBase> reactor;
  try {
    reactor = makeReactor(global.reactor);
  } catch (const NoSuchReactor& e) {
    std::cerr << "coild: " << e.what() << "\n";
    return kUsageError;
  }
  try {
    std::string backend(reactor->backendName());
    std::vector<std::shared_ptr<IListeningPort>> ports;
    if (tcp) ports.push_back(listenEchoTCP(*reactor, port, interface));
    if (!unixPath.empty()) ports.push_back(listenEchoUNIX(*reactor, unixPath));
    for (const auto& p : ports)
      log::info("coild",
                "echo: listening on " + describe(p->getHost()) + " (backend " + backend + ")");
    // As twistd's services do: stop listening before shutdown, holding it back until the
    // sockets are closed (and UNIX paths unlinked).
    reactor->addSystemEventTrigger(Phase::before, "shutdown",
                                   [&ports]() -> std::optional<Deferred<void>> {
                                     std::vector<Deferred<void>> stopped;
                                     for (const auto& p : ports)
                                       stopped.push_back(p->stopListening());
                                     return gatherResults(std::move(stopped), true);
                                   });
    reactor->run(true);
    log::info("coild", "echo: stopped");
  } catch (const std::exception& e) {
    std::cerr << "coild echo: " << e.what() << "\n";
    return 1;
  }
  return 0;
}

int run(int argc, char** argv) {
  Global global;
  int command = findCommand(argc, argv);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(command, argv).options(global.options).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    return usageError(e.what(), global);
  }
  if (vm.count("help")) {
    printHelp(std::cout, global);
    return 0;
  }
  if (vm.count("version")) {
    std::cout << "coild (coil) " COIL_VERSION "\n";
    return 0;
  }

  std::vector<std::filesystem::path> dirs(global.pluginDirs.begin(), global.pluginDirs.end());
  defaultPluginLoader().loadDirectories(dirs);  // refusals are logged; never fatal

  if (!global.reactor.empty()) {
    try {
      chooseBackend(defaultRegistry(), global.reactor);
    } catch (const NoSuchReactor& e) {
      std::cerr << "coild: " << e.what() << "\n";
      return kUsageError;
    }
  }
  if (vm.count("list-reactors")) {
    listReactors(std::cout);
    return 0;
  }
  if (command >= argc) {
    printHelp(std::cout, global);
    return 0;
  }
  std::string name = argv[command];
  std::vector<std::string> rest(argv + command + 1, argv + argc);
  if (name == "echo") return runEcho(rest, global);
  return usageError("unknown command '" + name + "'", global);
}

}  // namespace
}  // namespace coil::coild

int main(int argc, char** argv) {
  try {
    return coil::coild::run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "coild: " << e.what() << "\n";
    return 1;
  }
}
