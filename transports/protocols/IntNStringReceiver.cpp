// IntNStringReceiver: big-endian length-prefixed framing (Twisted's Int32/16/8StringReceiver).
// Tests: test/transports/protocols/IntNStringReceiverTest.cpp
#include <coil/transports/protocols/IntNStringReceiver.hpp>

#include <stdexcept>

namespace coil::basic {

IntNStringReceiver::IntNStringReceiver(std::size_t prefixLength) : prefixLength_(prefixLength) {
  if (prefixLength < 1 || prefixLength > 8)
    throw std::invalid_argument("IntNStringReceiver: prefix length must be 1 to 8 bytes");
}

std::uint64_t IntNStringReceiver::readPrefix(std::size_t at) const {
  std::uint64_t length = 0;
  for (std::size_t i = 0; i < prefixLength_; ++i)
    length = (length << 8) | static_cast<unsigned char>(buffer_[at + i]);
  return length;
}

void IntNStringReceiver::dataReceived(std::string_view data) {
  buffer_.append(data);
  if (busyReceiving_) return;
  busyReceiving_ = true;
  struct Finish {
    IntNStringReceiver& self;
    ~Finish() {
      self.busyReceiving_ = false;
      self.buffer_.erase(0, self.start_);
      self.start_ = 0;
    }
  } finish{*this};
  while (buffer_.size() - start_ >= prefixLength_ && !paused_) {
    const std::uint64_t length = readPrefix(start_);
    if (length > MAX_LENGTH) {
      // As Twisted: the offending prefix stays buffered; nothing more is delivered.
      lengthLimitExceeded(length);
      return;
    }
    const std::size_t messageStart = start_ + prefixLength_;
    if (buffer_.size() - messageStart < length) break;
    // A copy: stringReceived() may feed the buffer re-entrantly.
    std::string packet(buffer_, messageStart, static_cast<std::size_t>(length));
    start_ = messageStart + static_cast<std::size_t>(length);
    stringReceived(packet);
  }
}

void IntNStringReceiver::lengthLimitExceeded(std::uint64_t /*length*/) {
  if (transport_) transport_->loseConnection();
}

void IntNStringReceiver::sendString(std::string_view string) {
  const unsigned bits = static_cast<unsigned>(8 * prefixLength_);
  const std::uint64_t size = string.size();
  if (bits < 64 && size >= (std::uint64_t{1} << bits)) {
    throw StringTooLongError("Try to send " + std::to_string(size) + " bytes whereas maximum is " +
                             std::to_string(std::uint64_t{1} << bits));
  }
  std::string out(prefixLength_, '\0');
  for (std::size_t i = 0; i < prefixLength_; ++i)
    out[prefixLength_ - 1 - i] = static_cast<char>((size >> (8 * i)) & 0xff);
  out.append(string);
  transport_->write(out);
}

void IntNStringReceiver::pauseProducing() {
  paused_ = true;
  if (transport_) transport_->pauseProducing();
}

void IntNStringReceiver::resumeProducing() {
  paused_ = false;
  if (transport_) transport_->resumeProducing();
  dataReceived({});
}

void IntNStringReceiver::stopProducing() {
  paused_ = true;
  if (transport_) transport_->stopProducing();
}

}  // namespace coil::basic
