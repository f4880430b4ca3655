// The per-port cache of senders' Addresses.
// Tests: test/transports/datagram/UDPBatchTest.cpp (many senders), UDPTest.cpp
#include <coil/transports/udp/SenderCache.hpp>

#include <coil/transports/udp/DatagramAddress.hpp>

#include <netinet/in.h>

#include <algorithm>

namespace coil::detail {

SenderCache::SenderCache(const char* type)
    : type_(type),
      entries_(std::make_unique<Entry[]>(kEntries)),
      slots_(std::make_unique<std::uint16_t[]>(kSlots)) {}

const Address& SenderCache::findFrom(const Key& key, std::size_t slot,
                                     const sockaddr_storage& name) {
  for (;;) {  // linear probing from `slot`
    std::uint16_t index = slots_[slot];
    if (index == 0) break;
    Entry& e = entries_[index - 1u];
    if (e.key == key) return e.address;
    slot = (slot + 1) % kSlots;
  }
  if (used_ == kEntries) {  // full: start over (each entry keeps its strings for reuse)
    std::fill_n(slots_.get(), kSlots, std::uint16_t{0});
    used_ = 0;
    slot = slotOf(key);
  }
  Entry& e = entries_[used_];
  assignSender(e.address, name, key.length, type_);
  e.key = key;
  slots_[slot] = static_cast<std::uint16_t>(++used_);
  return e.address;
}

}  // namespace coil::detail
