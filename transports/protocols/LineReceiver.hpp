#pragma once
/// @file LineReceiver: delimiter-framed protocols (Twisted's protocols.basic.LineReceiver and
/// LineOnlyReceiver).
///
/// Return values: Twisted lets lineReceived()/rawDataReceived() return a truthy value to stop
/// parsing; the transport then drops the connection with it as the reason. In coil these hooks
/// return void and the equivalent is to throw: parsing stops at once, the unparsed bytes stay
/// buffered, and the transport loses the connection with that exception (ITransport's contract).
/// Calling transport()->loseConnection() or pauseProducing() also stops parsing, as in Twisted.

#include <coil/core/Errors.hpp>
#include <coil/core/IProducer.hpp>
#include <coil/core/Protocol.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace coil::basic {

/// A hook a subclass had to override was called (Python's NotImplementedError).
COIL_DEFINE_LOGIC_ERROR(NotImplementedError, LogicError, "Method not implemented");

/// A protocol that receives lines and/or raw data, depending on mode; the stream is split on
/// `delimiter`. It is also a push producer: pauseProducing() stops delivery (and the
/// transport's reading) until resumeProducing(). Thread: reactor.
class LineReceiver : public Protocol, public IProducer {
 public:
  /// Buffers `data` and delivers every complete line (or, in raw mode, everything) until the
  /// buffer is empty, the protocol is paused, the transport is disconnecting, or a hook throws.
  /// Called again from inside a hook (re-entrantly), it only buffers. Thread: reactor.
  void dataReceived(std::string_view data) override;

  /// One line arrived, without its delimiter. `line` is valid only during the call.
  /// Thread: reactor.
  virtual void lineReceived(std::string_view line) = 0;

  /// Raw-mode data arrived (everything buffered, in one chunk). Default: throws
  /// NotImplementedError. Thread: reactor.
  virtual void rawDataReceived(std::string_view data);

  /// A line longer than MAX_LENGTH arrived (or MAX_LENGTH + len(delimiter) bytes came without a
  /// delimiter); `line` is everything that was buffered, the buffer is now empty. Default:
  /// transport()->loseConnection(). Thread: reactor.
  virtual void lineLengthExceeded(std::string_view line);

  /// Writes `line` followed by the delimiter. Thread: reactor.
  void sendLine(std::string_view line);

  /// Switches to line mode; `extra` is then fed through dataReceived() (only buffered when
  /// called from inside a hook). Thread: reactor.
  void setLineMode(std::string_view extra = {});

  /// Switches to raw mode: what is buffered goes to rawDataReceived() in one chunk.
  /// Thread: reactor.
  void setRawMode();

  /// True in line mode (the initial mode).
  bool lineMode() const noexcept { return lineMode_; }

  /// Returns the unparsed buffer and empties it. Thread: reactor.
  std::string clearLineBuffer();

  /// Stops delivering and pauses the transport's reading. Thread: reactor.
  void pauseProducing() override;

  /// Resumes the transport's reading and delivers what is buffered. Thread: reactor.
  void resumeProducing() override;

  /// Stops delivering for good and stops the transport (loseConnection). Thread: reactor.
  void stopProducing() override;

  /// True between pauseProducing() (or stopProducing()) and resumeProducing().
  bool paused() const noexcept { return paused_; }

  /// What separates lines (Twisted's default "\r\n"); non-empty.
  std::string delimiter = "\r\n";
  /// The longest line delivered (per instance; Twisted's class default 16384).
  std::size_t MAX_LENGTH = 16384;

 private:
  void deliver();
  bool deliverLine();
  void deliverRaw();
  void compact();

  std::string buffer_;  // bytes from start_ on are unparsed
  std::size_t start_ = 0;
  std::size_t scanned_ = 0;  // no `scannedFor_` starts in [start_, scanned_) of buffer_
  std::string scannedFor_;
  bool lineMode_ = true;
  bool busyReceiving_ = false;
  bool paused_ = false;
};

/// A line-only receiver, simpler and without raw mode or pausing (Twisted's LineOnlyReceiver):
/// the lines of each chunk are delivered in turn, stopping when the transport is disconnecting.
/// A line longer than MAX_LENGTH, or a partial line longer than MAX_LENGTH, goes to
/// lineLengthExceeded() instead and ends the chunk. Thread: reactor.
class LineOnlyReceiver : public Protocol {
 public:
  /// Splits the buffer plus `data` on the delimiter and delivers the complete lines.
  /// Thread: reactor.
  void dataReceived(std::string_view data) override;

  /// One line arrived, without its delimiter; valid only during the call. Thread: reactor.
  virtual void lineReceived(std::string_view line) = 0;

  /// `line` (a complete line, or the partial one buffered) is longer than MAX_LENGTH. Default:
  /// transport()->loseConnection(). Thread: reactor.
  virtual void lineLengthExceeded(std::string_view line);

  /// Writes `line` and the delimiter (one writeSequence). Thread: reactor.
  void sendLine(std::string_view line);

  /// What separates lines (Twisted's default "\r\n"); non-empty.
  std::string delimiter = "\r\n";
  /// The longest line delivered (per instance; Twisted's class default 16384).
  std::size_t MAX_LENGTH = 16384;

 private:
  std::string buffer_;
};

}  // namespace coil::basic
