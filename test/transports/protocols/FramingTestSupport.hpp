#pragma once
/// @file FramingTestSupport: feeding helpers for the framing-protocol suites — deliver a stream
/// whole, byte by byte, in fixed-size packets, and split in two at every position.

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace coil::test {

/// Splits `data` into packets of `size` bytes (the last may be shorter; no empty packets).
inline std::vector<std::string> packets(std::string_view data, std::size_t size) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < data.size(); i += size) out.emplace_back(data.substr(i, size));
  return out;
}

/// Every way to deliver `data` this suite checks: whole, one byte at a time, and each split in
/// two (at every position 1..size-1). `run` receives the chunks and a description for messages.
inline void forEveryChunking(
    std::string_view data,
    const std::function<void(const std::vector<std::string>&, const std::string&)>& run) {
  run({std::string(data)}, "whole");
  run(packets(data, 1), "byte by byte");
  for (std::size_t i = 1; i < data.size(); ++i)
    run({std::string(data.substr(0, i)), std::string(data.substr(i))},
        "split at " + std::to_string(i));
}

}  // namespace coil::test
