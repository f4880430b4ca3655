#pragma once
/// @file IProducer: a source of data a consumer can throttle (Twisted's IPushProducer and
/// IPullProducer, folded into one interface).

namespace coil {

/// Something that writes into an IConsumer. Whether it is a push producer (writes on its own
/// schedule; the consumer pauses and resumes it) or a pull producer (writes once per
/// resumeProducing(); never paused) is the `streaming` flag given to
/// IConsumer::registerProducer(), as in Twisted. Registered producers are held by
/// std::shared_ptr. Thread: reactor.
class IProducer {
 public:
  virtual ~IProducer() = default;

  /// Push producers: stop producing until resumeProducing(). Never called on pull producers.
  virtual void pauseProducing() = 0;

  /// Push producers: produce again after pauseProducing(). Pull producers: write one chunk now.
  virtual void resumeProducing() = 0;

  /// Stop for good: the consumer is gone (its connection was lost) or the producer was
  /// stopped. The producer may not write to the consumer afterwards.
  virtual void stopProducing() = 0;
};

}  // namespace coil
