// UringPlugin: the entry point of coil_uring.so, registering the "uring" backend.
// Tests: test/plugins/LoaderTest.cpp, test/plugins/UringTest.cpp
#include <coil/plugins/PluginApi.hpp>
#include <coil/plugins/examples/uring/UringMultiplexer.hpp>

#include <memory>

namespace {

void registerUring(coil::plugins::Registrar& registrar) {
  coil::plugins::MakePosixReactorFn make = registrar.posixReactorFactory();
  registrar.addBackend({
      .name = "uring",
      .description = "io_uring poll requests (IORING_OP_POLL_ADD), Linux 5.1+",
      .probe = [] { return coil::uring::probe(); },
      .create = [make] { return make(std::make_unique<coil::uring::UringMultiplexer>()); },
      .origin = std::string(registrar.path()),
  });
}

}  // namespace

COIL_PLUGIN(registerUring)
