#pragma once
/// @file IntNStringReceiver: length-prefixed framing with a big-endian unsigned prefix
/// (Twisted's protocols.basic.IntNStringReceiver, Int32StringReceiver, Int16StringReceiver,
/// Int8StringReceiver).

#include <coil/core/Errors.hpp>
#include <coil/core/IProducer.hpp>
#include <coil/core/Protocol.hpp>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace coil::basic {

/// sendString() was given a string too long for the length prefix (Twisted's
/// StringTooLongError, an AssertionError).
COIL_DEFINE_LOGIC_ERROR(StringTooLongError, LogicError,
                        "String too long for a length prefixed protocol");

/// Receives strings each preceded by its length as a big-endian unsigned integer of
/// prefixLength() bytes. A prefix above MAX_LENGTH calls lengthLimitExceeded() and nothing more
/// is delivered from that chunk. Also a push producer: pauseProducing() stops delivery until
/// resumeProducing(). Re-entrant dataReceived() (from inside stringReceived()) only buffers.
/// Thread: reactor.
class IntNStringReceiver : public Protocol, public IProducer {
 public:
  /// Buffers `data` and delivers every complete string until paused. Thread: reactor.
  void dataReceived(std::string_view data) override;

  /// One string arrived; valid only during the call. Thread: reactor.
  virtual void stringReceived(std::string_view string) = 0;

  /// A prefix announced `length` > MAX_LENGTH. Default: transport()->loseConnection().
  /// Thread: reactor.
  virtual void lengthLimitExceeded(std::uint64_t length);

  /// Writes the prefix and `string`; a string of 2^(8 * prefixLength()) bytes or more throws
  /// StringTooLongError and writes nothing. Thread: reactor.
  void sendString(std::string_view string);

  /// Stops delivering and pauses the transport's reading. Thread: reactor.
  void pauseProducing() override;

  /// Resumes the transport's reading and delivers what is buffered. Thread: reactor.
  void resumeProducing() override;

  /// Stops delivering for good and stops the transport (loseConnection). Thread: reactor.
  void stopProducing() override;

  /// True between pauseProducing() (or stopProducing()) and resumeProducing().
  bool paused() const noexcept { return paused_; }

  /// Bytes in the length prefix: 1 to 8 (4, 2 and 1 for Int32/16/8StringReceiver).
  std::size_t prefixLength() const noexcept { return prefixLength_; }

  /// The longest string accepted (Twisted's default 99999).
  std::uint64_t MAX_LENGTH = 99999;

 protected:
  /// A receiver whose prefix is `prefixLength` bytes (1 to 8).
  explicit IntNStringReceiver(std::size_t prefixLength);

 private:
  std::uint64_t readPrefix(std::size_t at) const;

  std::string buffer_;  // bytes from start_ on are unparsed
  std::size_t start_ = 0;
  std::size_t prefixLength_;
  bool busyReceiving_ = false;
  bool paused_ = false;
};

/// Strings with a 4-byte big-endian length prefix (struct format "!I"). Thread: reactor.
class Int32StringReceiver : public IntNStringReceiver {
 public:
  /// A receiver with a 4-byte prefix.
  Int32StringReceiver() : IntNStringReceiver(4) {}
};

/// Strings with a 2-byte big-endian length prefix (struct format "!H"). Thread: reactor.
class Int16StringReceiver : public IntNStringReceiver {
 public:
  /// A receiver with a 2-byte prefix.
  Int16StringReceiver() : IntNStringReceiver(2) {}
};

/// Strings with a 1-byte length prefix (struct format "!B"). Thread: reactor.
class Int8StringReceiver : public IntNStringReceiver {
 public:
  /// A receiver with a 1-byte prefix.
  Int8StringReceiver() : IntNStringReceiver(1) {}
};

}  // namespace coil::basic
