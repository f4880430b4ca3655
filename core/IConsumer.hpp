#pragma once
/// @file IConsumer: something that accepts bytes and can throttle a producer (Twisted's
/// IConsumer).

#include <coil/core/IProducer.hpp>

#include <memory>
#include <string_view>

namespace coil {

/// Accepts bytes and drives at most one registered producer. Thread: reactor.
class IConsumer {
 public:
  virtual ~IConsumer() = default;

  /// Registers `producer`; `streaming` true = push producer (paused above the consumer's
  /// high-water mark, resumed when its buffer is empty), false = pull producer
  /// (resumeProducing() now and whenever the buffer drains). A producer already registered
  /// throws std::logic_error (Twisted's RuntimeError); a disconnected consumer calls
  /// producer->stopProducing() at once instead. The consumer holds `producer` until
  /// unregisterProducer() or until it is stopped.
  virtual void registerProducer(std::shared_ptr<IProducer> producer, bool streaming) = 0;

  /// Forgets the registered producer (no-op when none). A transport resumes a pending
  /// loseConnection() that waited for the producer.
  virtual void unregisterProducer() = 0;

  /// Accepts `data`; the consumer copies it before returning. Never blocks.
  virtual void write(std::string_view data) = 0;
};

}  // namespace coil
