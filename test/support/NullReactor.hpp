#pragma once
/// @file NullReactor: a test-only reactor with no I/O, to test ReactorBase's own logic.

#include <coil/core/IFileDescriptor.hpp>
#include <coil/core/ReactorBase.hpp>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <map>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

namespace coil::test {

/// A ReactorBase without I/O: the fd-set methods only keep the registered descriptors (never
/// dispatched), doIteration(timeout) sleeps on a condition variable until wakeUp() or the
/// timeout, and wakeUp() wakes it (a wake-up before the wait is remembered, like a self-pipe).
/// Thread: reactor, except wakeUp() (any; not async-signal-safe, unlike a real waker).
class NullReactor : public ReactorBase {
 public:
  /// The longest single wait: timeout() never asks for more.
  static constexpr double kLongestWait = 2147483.0;

  /// A reactor that has not run.
  NullReactor() = default;
  /// Stops the thread pool first: its threads may still call wakeUp().
  ~NullReactor() override { stopThreadPool(); }

  /// Registers `reader` (no-op if present).
  void addReader(FileDescriptorPtr reader) override { add(readers_, std::move(reader)); }
  /// Registers `writer` (no-op if present).
  void addWriter(FileDescriptorPtr writer) override { add(writers_, std::move(writer)); }
  /// Unregisters `reader` (no-op if absent).
  void removeReader(IFileDescriptor* reader) override { readers_.erase(reader); }
  /// Unregisters `writer` (no-op if absent).
  void removeWriter(IFileDescriptor* writer) override { writers_.erase(writer); }
  /// Unregisters everything; each descriptor is returned once, readers first.
  std::vector<FileDescriptorPtr> removeAll() override {
    std::vector<FileDescriptorPtr> all = getReaders();
    for (auto& [raw, ptr] : writers_)
      if (!readers_.count(raw)) all.push_back(ptr);
    readers_.clear();
    writers_.clear();
    return all;
  }
  /// The registered readers.
  std::vector<FileDescriptorPtr> getReaders() const override { return values(readers_); }
  /// The registered writers.
  std::vector<FileDescriptorPtr> getWriters() const override { return values(writers_); }

  /// Waits until wakeUp() (or a wake-up since the last wait) or `timeout` seconds (nullopt:
  /// until woken), measured on the steady clock.
  void doIteration(std::optional<double> timeout) override {
    ++iterations_;
    std::unique_lock lock(mutex_);
    if (!timeout) {
      wake_.wait(lock, [this] { return woken_; });
    } else if (*timeout > 0) {
      auto wait = std::chrono::ceil<std::chrono::nanoseconds>(
          std::chrono::duration<double>(std::min(*timeout, kLongestWait)));
      wake_.wait_for(lock, wait, [this] { return woken_; });
    }
    woken_ = false;
  }

  /// Ends the current (or the next) doIteration() wait. Thread: any.
  void wakeUp() override {
    {
      std::lock_guard lock(mutex_);
      woken_ = true;
    }
    wake_.notify_one();
  }

  /// "null".
  std::string_view backendName() const override { return "null"; }

  /// How many times doIteration() was called (tests).
  std::size_t iterations() const noexcept { return iterations_; }

 private:
  using Set = std::map<IFileDescriptor*, FileDescriptorPtr>;

  static void add(Set& set, FileDescriptorPtr fd) {
    IFileDescriptor* raw = fd.get();
    set.emplace(raw, std::move(fd));
  }
  static std::vector<FileDescriptorPtr> values(const Set& set) {
    std::vector<FileDescriptorPtr> out;
    out.reserve(set.size());
    for (const auto& [raw, ptr] : set) out.push_back(ptr);
    return out;
  }

  Set readers_;
  Set writers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool woken_ = false;  // guarded by mutex_
  std::size_t iterations_ = 0;
};

}  // namespace coil::test
