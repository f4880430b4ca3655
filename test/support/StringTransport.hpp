#pragma once
/// @file StringTransport: in-memory transports for protocol tests (Twisted's
/// internet/testing.StringTransport and StringTransportWithDisconnection).

#include <coil/core/Address.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/Failure.hpp>
#include <coil/core/IProducer.hpp>
#include <coil/core/ITCPTransport.hpp>
#include <coil/core/Protocol.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace coil::test {

/// A transport that records everything instead of doing I/O: writes accumulate in value(),
/// loseConnection()/abortConnection() only set flags, producer registration is recorded. Like
/// Twisted's fake, writes are recorded even after loseConnection(). Back-pressure is simulated on
/// request: bytes written since the last drain() count as "buffered"; applyBackpressure() pauses a
/// push producer once more than bufferSize are buffered, drain() empties the buffer and resumes
/// it (or asks a pull producer for more). Thread: the test's.
class StringTransport : public ITCPTransport {
 public:
  /// Twisted's producerState: what the protocol asked of the transport's reading side.
  enum class ProducerState { producing, paused, stopped };

  /// Default addresses are Twisted's: host 10.0.0.1:12345, peer 192.168.1.1:54321 (TCP).
  explicit StringTransport(Address host = IPv4Address{"TCP", "10.0.0.1", 12345},
                           Address peer = IPv4Address{"TCP", "192.168.1.1", 54321})
      : host_(std::move(host)), peer_(std::move(peer)) {}

  // ---- ITransport ----

  /// Appends `data` to value().
  void write(std::string_view data) override {
    io_.append(data);
    pending_ += data.size();
  }

  /// Appends every piece to value().
  void writeSequence(std::span<const std::string_view> data) override {
    for (std::string_view piece : data) write(piece);
  }

  /// Records the call: disconnecting() becomes true.
  void loseConnection() override {
    ++loseConnectionCalls_;
    disconnecting_ = true;
  }

  /// Records the call: aborted() and disconnecting() become true.
  void abortConnection() override {
    ++abortConnectionCalls_;
    aborted_ = true;
    disconnecting_ = true;
  }

  /// True after loseConnection() or abortConnection().
  bool disconnecting() const override { return disconnecting_; }

  /// The configured peer address.
  Address getPeer() const override { return peer_; }

  /// The configured host address.
  Address getHost() const override { return host_; }

  /// Records `producer`; a second registration throws std::logic_error ("Cannot register two
  /// producers").
  void registerProducer(std::shared_ptr<IProducer> producer, bool streaming) override {
    if (producer_) throw std::logic_error("Cannot register two producers");
    producer_ = std::move(producer);
    streaming_ = streaming;
    producerPaused_ = false;
  }

  /// Forgets the producer; none registered throws std::logic_error (as Twisted's fake does).
  void unregisterProducer() override {
    if (!producer_) throw std::logic_error("Cannot unregister a producer unless one is registered");
    producer_.reset();
    streaming_.reset();
    producerPaused_ = false;
  }

  /// producerState() = paused. Throws std::logic_error after loseConnection() or when stopped.
  void pauseProducing() override {
    checkState();
    producerState_ = ProducerState::paused;
  }

  /// producerState() = producing. Same errors as pauseProducing().
  void resumeProducing() override {
    checkState();
    producerState_ = ProducerState::producing;
  }

  /// producerState() = stopped.
  void stopProducing() override { producerState_ = ProducerState::stopped; }

  // ---- ITCPTransport ----

  /// Records the half-close: writeDisconnected() becomes true.
  void loseWriteConnection() override { writeDisconnected_ = true; }
  /// The stored TCP_NODELAY flag (default false).
  bool getTcpNoDelay() const override { return noDelay_; }
  /// Stores the TCP_NODELAY flag.
  void setTcpNoDelay(bool enabled) override { noDelay_ = enabled; }
  /// The stored SO_KEEPALIVE flag (default false).
  bool getTcpKeepAlive() const override { return keepAlive_; }
  /// Stores the SO_KEEPALIVE flag.
  void setTcpKeepAlive(bool enabled) override { keepAlive_ = enabled; }

  // ---- inspection and simulation ----

  /// Everything written since construction or the last clear().
  const std::string& value() const noexcept { return io_; }

  /// Forgets what was written (value() becomes empty; the simulated buffer is untouched).
  void clear() { io_.clear(); }

  /// True after abortConnection().
  bool aborted() const noexcept { return aborted_; }

  /// How many times loseConnection() was called.
  int loseConnectionCalls() const noexcept { return loseConnectionCalls_; }

  /// How many times abortConnection() was called.
  int abortConnectionCalls() const noexcept { return abortConnectionCalls_; }

  /// True after loseWriteConnection().
  bool writeDisconnected() const noexcept { return writeDisconnected_; }

  /// The registered producer, or null.
  const std::shared_ptr<IProducer>& producer() const noexcept { return producer_; }

  /// The `streaming` flag of the registered producer; nullopt when none is registered.
  std::optional<bool> streaming() const noexcept { return streaming_; }

  /// The transport's reading side as the protocol set it.
  ProducerState producerState() const noexcept { return producerState_; }

  /// Replaces the peer address.
  void setPeer(Address peer) { peer_ = std::move(peer); }

  /// Replaces the host address.
  void setHost(Address host) { host_ = std::move(host); }

  /// The simulated high-water mark (a real transport's bufferSize, 64 KiB).
  std::size_t bufferSize = 65536;

  /// Bytes written since the last drain(): the simulated send buffer.
  std::size_t pendingBytes() const noexcept { return pending_; }

  /// True while applyBackpressure() has paused the push producer.
  bool producerPaused() const noexcept { return producerPaused_; }

  /// What a real transport does after a write: a push producer is paused (once) when more than
  /// bufferSize bytes are buffered. Pull producers are never paused.
  void applyBackpressure() {
    if (producer_ && streaming_ == true && !producerPaused_ && pending_ > bufferSize) {
      producerPaused_ = true;
      auto p = producer_;
      p->pauseProducing();
    }
  }

  /// The simulated socket took everything: the buffer empties; a paused push producer is
  /// resumed, a pull producer is asked for more (resumeProducing()).
  void drain() {
    pending_ = 0;
    if (!producer_) return;
    auto p = producer_;
    if (streaming_ == true) {
      if (producerPaused_) {
        producerPaused_ = false;
        p->resumeProducing();
      }
    } else {
      p->resumeProducing();
    }
  }

 private:
  void checkState() const {
    if (disconnecting_) throw std::logic_error("Cannot resume producing after loseConnection");
    if (producerState_ == ProducerState::stopped)
      throw std::logic_error("Cannot resume a stopped producer");
  }

  std::string io_;
  std::size_t pending_ = 0;
  Address host_;
  Address peer_;
  bool disconnecting_ = false;
  bool aborted_ = false;
  bool writeDisconnected_ = false;
  bool noDelay_ = false;
  bool keepAlive_ = false;
  int loseConnectionCalls_ = 0;
  int abortConnectionCalls_ = 0;
  std::shared_ptr<IProducer> producer_;
  std::optional<bool> streaming_;
  bool producerPaused_ = false;
  ProducerState producerState_ = ProducerState::producing;
};

/// A StringTransport whose loseConnection() delivers connectionLost(ConnectionDone("Bye.")) to
/// `protocol` at once, the first time only (Twisted's StringTransportWithDisconnection).
/// Thread: the test's.
class StringTransportWithDisconnection : public StringTransport {
 public:
  using StringTransport::StringTransport;

  /// Records the call like StringTransport; the first call while connected also sets
  /// connected = false and calls protocol->connectionLost(ConnectionDone).
  void loseConnection() override {
    StringTransport::loseConnection();
    if (connected) {
      connected = false;
      if (protocol) protocol->connectionLost(Failure(error::ConnectionDone("Bye.")));
    }
  }

  /// The protocol to notify (set by the test; must outlive the call).
  IProtocol* protocol = nullptr;
  /// False once loseConnection() delivered connectionLost().
  bool connected = true;
};

}  // namespace coil::test
