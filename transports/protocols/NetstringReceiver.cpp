// NetstringReceiver: `<length>:<data>,` framing (Twisted's NetstringReceiver).
// Tests: test/transports/protocols/NetstringReceiverTest.cpp
#include <coil/transports/protocols/NetstringReceiver.hpp>

#include <limits>

namespace coil::basic {

void NetstringReceiver::dataReceived(std::string_view data) {
  if (brokenPeer) return;
  buffer_.append(data);
  if (busyReceiving_) return;
  busyReceiving_ = true;
  struct Finish {
    NetstringReceiver& self;
    ~Finish() {
      self.busyReceiving_ = false;
      self.buffer_.erase(0, self.start_);
      self.start_ = 0;
    }
  } finish{*this};
  deliver();
}

void NetstringReceiver::deliver() {
  while (start_ < buffer_.size() && !brokenPeer) {
    if (state_ == State::length && !consumeLength()) return;
    if (state_ == State::payload && !consumePayload()) return;
  }
}

// Reads "<digits>:"; false when more bytes are needed or the peer is broken.
bool NetstringReceiver::consumeLength() {
  std::size_t value = 0;
  std::size_t i = start_;
  for (; i < buffer_.size() && buffer_[i] >= '0' && buffer_[i] <= '9'; ++i) {
    const std::size_t digit = static_cast<std::size_t>(buffer_[i] - '0');
    // A leading zero is allowed only as the whole length ("0:").
    if (i > start_ && buffer_[start_] == '0') return handleParseError(), false;
    if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10 ||
        value * 10 + digit > MAX_LENGTH)
      return handleParseError(), false;
    value = value * 10 + digit;
  }
  if (i == buffer_.size()) {
    // A partial length: fine while it is digits (there is at least one: start_ < size).
    return false;
  }
  if (i == start_ || buffer_[i] != ':') return handleParseError(), false;
  expected_ = value;
  start_ = i + 1;
  state_ = State::payload;
  return true;
}

// Reads "<payload>,"; false when more bytes are needed or the peer is broken.
bool NetstringReceiver::consumePayload() {
  if (buffer_.size() - start_ < expected_ + 1) return false;
  if (buffer_[start_ + expected_] != ',') return handleParseError(), false;
  // A copy: stringReceived() may feed the buffer re-entrantly.
  std::string payload(buffer_, start_, expected_);
  start_ += expected_ + 1;
  state_ = State::length;
  stringReceived(payload);
  return true;
}

void NetstringReceiver::handleParseError() {
  if (transport_) transport_->loseConnection();
  brokenPeer = true;
}

void NetstringReceiver::sendString(std::string_view string) {
  std::string out = std::to_string(string.size());
  out.reserve(out.size() + string.size() + 2);
  out.append(":").append(string).append(",");
  transport_->write(out);
}

}  // namespace coil::basic
