#pragma once
/// @file IReactorFDSet: registering descriptors with a readiness reactor.

#include <coil/core/IFileDescriptor.hpp>

#include <memory>
#include <vector>

namespace coil {

/// Shared handle to a watched descriptor.
using FileDescriptorPtr = std::shared_ptr<IFileDescriptor>;

/// Watching file descriptors (Twisted's IReactorFDSet). Adding twice is a no-op; removing what
/// is not registered is a no-op. Changes made during dispatch take effect before the next wait
/// and cost no system call when they cancel out. Thread: reactor.
class IReactorFDSet {
 public:
  virtual ~IReactorFDSet() = default;
  /// Calls doRead() whenever `reader` is readable.
  virtual void addReader(FileDescriptorPtr reader) = 0;
  /// Calls doWrite() whenever `writer` is writable.
  virtual void addWriter(FileDescriptorPtr writer) = 0;
  /// Stops watching `reader` for reading.
  virtual void removeReader(IFileDescriptor* reader) = 0;
  /// Stops watching `writer` for writing.
  virtual void removeWriter(IFileDescriptor* writer) = 0;
  /// Removes every user descriptor (internal ones such as the waker stay) and returns them.
  virtual std::vector<FileDescriptorPtr> removeAll() = 0;
  /// The descriptors watched for reading (user ones only).
  virtual std::vector<FileDescriptorPtr> getReaders() const = 0;
  /// The descriptors watched for writing (user ones only).
  virtual std::vector<FileDescriptorPtr> getWriters() const = 0;
};

}  // namespace coil
