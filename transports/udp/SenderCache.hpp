#pragma once
/// @file SenderCache: the coil::Address of a datagram port's recent senders, made once per
/// sender instead of once per datagram.

#include <coil/core/Address.hpp>

#include <sys/socket.h>

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace coil::detail {

/// Up to kEntries senders of one port, keyed by their socket address (at most kMaxKey bytes:
/// IPv4 and IPv6), each with the Address given to datagramReceived(). A server answering
/// many clients in turn then converts each client's address once, not once per datagram.
/// When full, the cache starts over (a port with more live senders converts as before).
/// An Address found stays where it is until kEntries other senders were added. Thread: the
/// port's reactor.
class SenderCache {
 public:
  /// The longest socket address kept (sockaddr_in6 fits).
  static constexpr std::size_t kMaxKey = 32;
  /// Senders kept before the cache starts over.
  static constexpr std::size_t kEntries = 128;

  /// An empty cache for senders of Address type `type` ("UDP"; not null).
  explicit SenderCache(const char* type);

  /// The Address of `name` (`length` <= kMaxKey bytes), made now if it is not kept yet.
  const Address& find(const sockaddr_storage& name, socklen_t length) {
    Key key = keyOf(name, length);
    std::size_t slot = slotOf(key);
    std::uint16_t index = slots_[slot];
    if (index != 0 && entries_[index - 1u].key == key) return entries_[index - 1u].address;
    return findFrom(key, slot, name);
  }

 private:
  static constexpr std::size_t kSlotBits = 9;
  static constexpr std::size_t kSlots = std::size_t{1} << kSlotBits;  // at most 1/4 full
  static_assert(kSlots >= 4 * kEntries && kEntries < 65535);
  // The socket address's bytes, zero past its length, and the length.
  struct Key {
    std::uint64_t words[kMaxKey / 8];
    socklen_t length;
    bool operator==(const Key& other) const noexcept {
      std::uint64_t diff = length ^ other.length;
      for (std::size_t i = 0; i < kMaxKey / 8; ++i) diff |= words[i] ^ other.words[i];
      return diff == 0;
    }
  };
  struct Entry {
    Key key;
    Address address;
  };
  static Key keyOf(const sockaddr_storage& name, socklen_t length) noexcept {
    static_assert(sizeof(sockaddr_storage) >= kMaxKey);
    Key key;
    std::memcpy(key.words, &name, kMaxKey);  // within sockaddr_storage; the tail is cleared
    key.length = length;
    for (std::size_t i = 0; i < kMaxKey / 8; ++i) {
      std::size_t first = 8 * i;  // bytes [first, first + 8) of the key
      if (length >= first + 8) continue;
      std::size_t valid = length > first ? length - first : 0;  // 0 to 7
      // The first `valid` bytes in memory are kept.
      std::uint64_t keep = 0;
      if (valid != 0)
        keep = std::endian::native == std::endian::little ? ~std::uint64_t{0} >> (64 - 8 * valid)
                                                          : ~std::uint64_t{0} << (64 - 8 * valid);
      key.words[i] &= keep;
    }
    return key;
  }
  static std::size_t slotOf(const Key& key) noexcept {
    std::uint64_t h = key.length;
    for (std::size_t i = 0; i < kMaxKey / 8; ++i) h = (h ^ key.words[i]) * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h >> (64 - kSlotBits));
  }
  const Address& findFrom(const Key& key, std::size_t slot, const sockaddr_storage& name);

  const char* type_;
  std::size_t used_ = 0;                    // entries_[0, used_) are live
  std::unique_ptr<Entry[]> entries_;        // kEntries
  std::unique_ptr<std::uint16_t[]> slots_;  // kSlots: index + 1 into entries_, 0 = free
};

}  // namespace coil::detail
