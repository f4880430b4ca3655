#pragma once
/// @file NetstringReceiver: netstring framing, `<length>:<data>,` (Twisted's
/// protocols.basic.NetstringReceiver).

#include <coil/core/Protocol.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace coil::basic {

/// Receives netstrings (http://cr.yp.to/proto/netstrings.txt): a decimal length `0` or
/// `[1-9][0-9]*`, ':', that many bytes, ','. Any framing error (no length, a leading zero, a
/// length above MAX_LENGTH, a missing comma) loses the connection and sets brokenPeer; what
/// arrives afterwards is ignored. A length is rejected as soon as its digits exceed MAX_LENGTH,
/// before the ':' arrives. Thread: reactor.
class NetstringReceiver : public Protocol {
 public:
  /// Buffers `data` and delivers every complete netstring. Called again from inside
  /// stringReceived() (re-entrantly), it only buffers. Thread: reactor.
  void dataReceived(std::string_view data) override;

  /// One netstring's payload arrived; valid only during the call. Thread: reactor.
  virtual void stringReceived(std::string_view string) = 0;

  /// Writes `string` as a netstring. Thread: reactor.
  void sendString(std::string_view string);

  /// The longest payload accepted (Twisted's default 99999).
  std::size_t MAX_LENGTH = 99999;
  /// True once the peer sent something that is not a netstring (Twisted's brokenPeer).
  bool brokenPeer = false;

 private:
  enum class State { length, payload };

  void deliver();
  bool consumeLength();
  bool consumePayload();
  void handleParseError();

  std::string buffer_;  // bytes from start_ on are unparsed
  std::size_t start_ = 0;
  State state_ = State::length;
  std::size_t expected_ = 0;  // payload length, without the comma
  bool busyReceiving_ = false;
};

}  // namespace coil::basic
