// LineReceiver: line/raw framing (Twisted's LineReceiver) and LineOnlyReceiver.
// Tests: test/transports/protocols/LineReceiverTest.cpp, LineOnlyReceiverTest.cpp
#include <coil/transports/protocols/LineReceiver.hpp>

#include <algorithm>
#include <array>

namespace coil::basic {

namespace {

// Clears a flag when the scope ends, however it ends.
class FlagGuard {
 public:
  explicit FlagGuard(bool& flag) : flag_(flag) { flag_ = true; }
  ~FlagGuard() { flag_ = false; }
  FlagGuard(const FlagGuard&) = delete;
  FlagGuard& operator=(const FlagGuard&) = delete;

 private:
  bool& flag_;
};

}  // namespace

// ---- LineReceiver ------------------------------------------------------------------------------

void LineReceiver::dataReceived(std::string_view data) {
  buffer_.append(data);
  if (busyReceiving_) return;
  struct Finish {
    LineReceiver& self;
    ~Finish() { self.compact(); }
  } finish{*this};
  FlagGuard busy(busyReceiving_);
  deliver();
}

void LineReceiver::deliver() {
  while (start_ < buffer_.size() && !paused_) {
    if (lineMode_) {
      if (!deliverLine()) return;
    } else {
      deliverRaw();
    }
  }
}

// Delivers one line; false when parsing must stop (no complete line, too long, disconnecting).
bool LineReceiver::deliverLine() {
  // Resume where the last failed search stopped, so a long partial line arriving in many chunks
  // is scanned once, not once per chunk (unless the delimiter changed since).
  const bool resume = scanned_ > start_ && delimiter == scannedFor_;
  const std::size_t end = buffer_.find(delimiter, resume ? scanned_ : start_);
  if (end == std::string::npos) {
    // No delimiter starts before the last delimiter.size() - 1 bytes: the next search starts there.
    scanned_ = buffer_.size() - std::min(buffer_.size(), delimiter.size() - 1);
    scannedFor_ = delimiter;
    if (buffer_.size() - start_ >= MAX_LENGTH + delimiter.size()) {
      std::string line = clearLineBuffer();
      lineLengthExceeded(line);
    }
    return false;
  }
  if (end - start_ > MAX_LENGTH) {
    std::string exceeded = clearLineBuffer();  // line + delimiter + rest
    lineLengthExceeded(exceeded);
    return false;
  }
  // A copy: the hook may feed, clear or re-mode the buffer while it holds the line.
  std::string line(buffer_, start_, end - start_);
  start_ = end + delimiter.size();
  lineReceived(line);
  return !(transport_ && transport_->disconnecting());
}

void LineReceiver::deliverRaw() {
  std::string data = clearLineBuffer();
  rawDataReceived(data);
}

void LineReceiver::compact() {
  if (start_ == 0) return;
  buffer_.erase(0, start_);
  scanned_ -= std::min(scanned_, start_);
  start_ = 0;
}

void LineReceiver::rawDataReceived(std::string_view /*data*/) {
  throw NotImplementedError("LineReceiver::rawDataReceived");
}

void LineReceiver::lineLengthExceeded(std::string_view /*line*/) {
  if (transport_) transport_->loseConnection();
}

void LineReceiver::sendLine(std::string_view line) {
  std::string out;
  out.reserve(line.size() + delimiter.size());
  out.append(line).append(delimiter);
  transport_->write(out);
}

void LineReceiver::setLineMode(std::string_view extra) {
  lineMode_ = true;
  if (!extra.empty()) dataReceived(extra);
}

void LineReceiver::setRawMode() {
  lineMode_ = false;
}

std::string LineReceiver::clearLineBuffer() {
  std::string rest = buffer_.substr(start_);
  buffer_.clear();
  start_ = 0;
  scanned_ = 0;
  return rest;
}

void LineReceiver::pauseProducing() {
  paused_ = true;
  if (transport_) transport_->pauseProducing();
}

void LineReceiver::resumeProducing() {
  paused_ = false;
  if (transport_) transport_->resumeProducing();
  dataReceived({});
}

void LineReceiver::stopProducing() {
  paused_ = true;
  if (transport_) transport_->stopProducing();
}

// ---- LineOnlyReceiver --------------------------------------------------------------------------

void LineOnlyReceiver::dataReceived(std::string_view data) {
  // Twisted: lines = (buffer + data).split(delimiter); buffer = lines.pop(-1). The split is done
  // with the delimiter of this call even if a hook changes it (a copy; short ones stay inline).
  const std::string delim = delimiter;
  std::string all = std::move(buffer_);
  all.append(data);
  std::size_t tail = 0;  // where the unterminated rest begins (split's left-to-right matches)
  for (std::size_t f; (f = all.find(delim, tail)) != std::string::npos;) tail = f + delim.size();
  buffer_.assign(all, tail);
  std::size_t start = 0;
  while (start < tail) {
    if (transport_ && transport_->disconnecting()) return;
    const std::size_t end = all.find(delim, start);
    std::string_view line(all.data() + start, end - start);
    start = end + delim.size();
    if (line.size() > MAX_LENGTH) {
      lineLengthExceeded(line);
      return;
    }
    lineReceived(line);
  }
  if (buffer_.size() > MAX_LENGTH) {
    // A copy: the hook may touch the buffer.
    std::string partial = buffer_;
    lineLengthExceeded(partial);
  }
}

void LineOnlyReceiver::lineLengthExceeded(std::string_view /*line*/) {
  if (transport_) transport_->loseConnection();
}

void LineOnlyReceiver::sendLine(std::string_view line) {
  const std::array<std::string_view, 2> pieces{line, delimiter};
  transport_->writeSequence(pieces);
}

}  // namespace coil::basic
