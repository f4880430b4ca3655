#pragma once
/// @file IUNIXDatagramTransport: UNIX-domain datagram sockets (Twisted's IUNIXDatagramTransport
/// and IUNIXDatagramConnectedTransport) and the port types IReactorUNIXDatagram returns.

#include <coil/core/IDatagramTransport.hpp>
#include <coil/core/IListeningPort.hpp>

namespace coil {

/// A bound UNIX datagram socket: write(data, UNIXAddress{path}) sends to any socket; senders
/// that did not bind arrive with an empty UNIXAddress (nothing can answer them). A name that
/// begins with '\0' is in Linux's abstract namespace. Thread: reactor.
class IUNIXDatagramTransport : public virtual IDatagramTransport {
 public:
  using IDatagramTransport::write;
};

/// A UNIX datagram socket connected to one peer: write(data) sends to it and the
/// ConnectedDatagramProtocol receives only its datagrams. Thread: reactor.
class IUNIXDatagramConnectedTransport : public virtual IDatagramTransport {
 public:
  using IDatagramTransport::write;

  /// The connected peer's address.
  virtual Address getPeer() const = 0;
};

/// What listenUNIXDatagram() returns. stopListening() closes the socket on a later iteration
/// and removes its file (not an abstract name). Thread: reactor.
class IUNIXDatagramPort : public virtual IListeningPort, public virtual IUNIXDatagramTransport {
 public:
  /// The bound local address.
  Address getHost() const override = 0;
};

/// What connectUNIXDatagram() returns. When connecting fails the protocol's connectionFailed()
/// runs during connectUNIXDatagram() and the port is returned already stopped.
/// Thread: reactor.
class IUNIXDatagramConnectedPort : public virtual IListeningPort,
                                   public virtual IUNIXDatagramConnectedTransport {
 public:
  /// The bound local address (an empty UNIXAddress when no bindAddress was given).
  Address getHost() const override = 0;
};

}  // namespace coil
