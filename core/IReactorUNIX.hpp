#pragma once
/// @file IReactorUNIX: listening and connecting over UNIX stream sockets (Twisted's
/// IReactorUNIX).

#include <coil/core/IConnector.hpp>
#include <coil/core/IListeningPort.hpp>

#include <memory>
#include <string>

namespace coil {

class Factory;
class ClientFactory;

/// UNIX-domain stream servers and clients. Addresses are paths; a leading NUL byte names a
/// Linux abstract-namespace socket (no file, no chmod, no unlink). Thread: reactor.
class IReactorUNIX {
 public:
  virtual ~IReactorUNIX() = default;

  /// Binds `address` synchronously, chmods it to `mode` and listens. With `wantPID` a lock
  /// file `<address>.lock` holds this process's PID: a live holder makes it fail ("Cannot
  /// acquire lock"), a stale one lets the leftover socket be removed; without it an existing
  /// file makes bind fail. Throws error::CannotListenError.
  std::shared_ptr<IListeningPort> listenUNIX(std::string address, std::shared_ptr<Factory> factory,
                                             int backlog = 50, int mode = 0666,
                                             bool wantPID = false) {
    return doListenUNIX(std::move(address), std::move(factory), backlog, mode, wantPID);
  }

  /// Starts connecting to `address`; failures reach factory.clientConnectionFailed() on a
  /// later iteration. With `checkPID`, no live lock file is error::BadFileError.
  std::shared_ptr<IConnector> connectUNIX(std::string address,
                                          std::shared_ptr<ClientFactory> factory,
                                          double timeout = 30, bool checkPID = false) {
    return doConnectUNIX(std::move(address), std::move(factory), timeout, checkPID);
  }

 protected:
  /// listenUNIX() with every argument given.
  virtual std::shared_ptr<IListeningPort> doListenUNIX(std::string address,
                                                       std::shared_ptr<Factory> factory,
                                                       int backlog, int mode, bool wantPID) = 0;
  /// connectUNIX() with every argument given.
  virtual std::shared_ptr<IConnector> doConnectUNIX(std::string address,
                                                    std::shared_ptr<ClientFactory> factory,
                                                    double timeout, bool checkPID) = 0;
};

}  // namespace coil
