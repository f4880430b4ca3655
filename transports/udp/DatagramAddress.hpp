#pragma once
/// @file DatagramAddress: address conversions on the datagram hot path (reusing the strings of
/// an existing coil::Address) and the checks write()/connect() apply to their targets.

#include <coil/core/Address.hpp>
#include <coil/transports/detail/Socket.hpp>

#include <sys/socket.h>

#include <string_view>

namespace coil::detail {

/// Sets `out` to the sender `name` (`length` bytes): IPv4Address/IPv6Address with `type`, or
/// a UNIXAddress when `type` is null. Reuses `out`'s strings when the alternative is the same,
/// so a short host name costs no allocation. Thread: any.
void assignSender(Address& out, const sockaddr_storage& name, socklen_t length, const char* type);

/// The socket address for sending to `host`:`port` from a socket of `family` (AF_INET or
/// AF_INET6). "<broadcast>" is 255.255.255.255 on AF_INET. Throws error::InvalidAddressError
/// when `host` is not an IP literal of that family. Thread: any.
SockAddr ipTarget(std::string_view host, int port, int family);

/// ipTarget() of an IPv4Address or IPv6Address (an IPv6Address's scopeID and flowInfo are
/// kept); any other alternative throws error::InvalidAddressError. Thread: any.
SockAddr ipTarget(const Address& addr, int family);

/// The AF_UNIX address of a UNIXAddress with a name; anything else throws
/// error::InvalidAddressError. Thread: any.
SockAddr unixTarget(const Address& addr);

/// The family of IP literal `interface` ("" = AF_INET), for binding; anything else throws
/// error::InvalidAddressError. Thread: any.
int interfaceFamily(std::string_view interface);

}  // namespace coil::detail
