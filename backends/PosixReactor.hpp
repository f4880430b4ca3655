#pragma once
/// @file PosixReactor: the readiness reactor — ReactorBase over a Multiplexer, with the I/O
/// dispatch policy, the waker and signal handling written once for every multiplexer
/// (Twisted's posixbase.PosixReactorBase and _PollLikeMixin).

#include <coil/core/Multiplexer.hpp>
#include <coil/core/ReactorBase.hpp>

#include <sys/types.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace coil {

namespace detail {
class Waker;
class SignalPipe;
}  // namespace detail

/// A reactor whose I/O comes from a Multiplexer (select, poll, epoll, …).
///
/// - Interest changes are batched in a change list and applied just before the next wait, so a
///   direction removed and re-added within one iteration, while the other stays, costs no
///   system call. The first registration of a descriptor is applied at once, so a refusal is
///   thrown from addReader()/addWriter(); so is the removal of its last direction, so that
///   closing it right afterwards is safe (epoll watches a file, not a number, for as long as
///   any duplicate of it lives).
/// - Descriptors the multiplexer refuses with EPERM (regular files on epoll) are kept in an
///   "always ready" set, dispatched every iteration with a zero wait timeout.
/// - A removed descriptor stays referenced until the next iteration has applied the pending
///   changes, so dispatch needs no pin of its own; it applies Twisted's hang-up/error policy and
///   turns a returned Failure or an escaping exception into removal plus connectionLost(reason).
/// - Each descriptor carries the number it is filed under (detail::DescriptorSlot), so removal
///   needs no lookup table, also once the descriptor is closed.
///
/// Thread: reactor, except wakeUp() (any thread, async-signal-safe).
class PosixReactor : public ReactorBase {
 public:
  /// A reactor over `multiplexer` (not null). Creates and registers the waker; throws
  /// std::system_error if that fails. Thread: any (the reactor thread is the one that runs it).
  explicit PosixReactor(std::unique_ptr<Multiplexer> multiplexer);
  /// Drops every registered descriptor without calling connectionLost, closes the waker and
  /// the signal pipe; installed signal handlers fall back to the default action. Thread: reactor.
  ~PosixReactor() override;

  // ---- IReactorFDSet (Thread: reactor)
  /// Watches `reader` for reading. Throws std::invalid_argument when it has no descriptor or
  /// another live object already reads that descriptor, std::system_error when the backend
  /// refuses a new descriptor (select: fd >= FD_SETSIZE). Thread: reactor.
  void addReader(FileDescriptorPtr reader) override;
  /// Watches `writer` for writing; errors as addReader(). Thread: reactor.
  void addWriter(FileDescriptorPtr writer) override;
  /// Stops reading `reader` (also when its fileno() is already -1); unknown is a no-op.
  /// Thread: reactor.
  void removeReader(IFileDescriptor* reader) override;
  /// Stops writing `writer`; unknown is a no-op. Thread: reactor.
  void removeWriter(IFileDescriptor* writer) override;
  /// Removes every user descriptor (the waker and signal pipe stay) and returns each once.
  /// Thread: reactor.
  std::vector<FileDescriptorPtr> removeAll() override;
  /// The user descriptors watched for reading. Thread: reactor.
  std::vector<FileDescriptorPtr> getReaders() const override;
  /// The user descriptors watched for writing. Thread: reactor.
  std::vector<FileDescriptorPtr> getWriters() const override;

  // ---- the backend seam
  /// Applies pending interest changes, waits (zero timeout while always-ready descriptors
  /// exist) and dispatches. Never throws for I/O errors. Thread: reactor.
  void doIteration(std::optional<double> timeout) override;
  /// Wakes a blocked doIteration(). Thread: any; async-signal-safe.
  void wakeUp() override;
  /// The multiplexer's name ("epoll"). Thread: any.
  std::string_view backendName() const override;

  /// The multiplexer behind this reactor. Thread: reactor.
  Multiplexer& multiplexer() noexcept { return *mux_; }
  /// Number of descriptors dispatched every iteration because the backend refused them.
  /// Thread: reactor.
  std::size_t alwaysReadyCount() const noexcept { return alwaysReady_.size(); }
  /// Call in the parent just before fork(). Thread: reactor.
  void beforeFork();
  /// Call in the child just after fork(): gives the child its own kernel state (interest
  /// re-registered), waker and signal pipe, so nothing it does wakes or stops the parent.
  /// Thread: reactor (the child's only thread).
  void afterFork();
  /// The signal (SIGINT, SIGTERM) that stopped this reactor, or 0 (Twisted's _exitSignal; a
  /// runner re-raises it after shutdown). Thread: reactor.
  int exitSignal() const noexcept { return exitSignal_; }

 protected:
  /// Makes SIGTERM — and SIGINT while it has its default disposition — call stop() on the
  /// reactor thread (through a self-pipe written by the handler). The handlers stay installed
  /// after run() returns; once this reactor is destroyed they take the default action. With
  /// several reactors, the one that installed them last receives the signals.
  /// Thread: reactor.
  void installSignalHandlers() override;

  // ---- stream sockets: TCP, UNIX, adopted (backends/PosixReactorStream.cpp, transports/tcp)
  /// listenTCP(): a transports/tcp Port. Thread: reactor.
  std::shared_ptr<IListeningPort> doListenTCP(int port, std::shared_ptr<Factory> factory,
                                              int backlog, std::string_view interface) override;
  /// connectTCP(): a transports/tcp Connector, host names through nameResolver().
  /// Thread: reactor.
  std::shared_ptr<IConnector> doConnectTCP(std::string_view host, int port,
                                           std::shared_ptr<ClientFactory> factory, double timeout,
                                           std::optional<BindAddress> bindAddress) override;
  /// listenUNIX(). Thread: reactor.
  std::shared_ptr<IListeningPort> doListenUNIX(std::string address,
                                               std::shared_ptr<Factory> factory, int backlog,
                                               int mode, bool wantPID) override;
  /// connectUNIX(). Thread: reactor.
  std::shared_ptr<IConnector> doConnectUNIX(std::string address,
                                            std::shared_ptr<ClientFactory> factory, double timeout,
                                            bool checkPID) override;
  /// adoptStreamPort(). Thread: reactor.
  std::shared_ptr<IListeningPort> doAdoptStreamPort(int fd, int addressFamily,
                                                    std::shared_ptr<Factory> factory) override;
  /// adoptStreamConnection(). Thread: reactor.
  void doAdoptStreamConnection(int fd, int addressFamily,
                               std::shared_ptr<Factory> factory) override;

  // ---- datagram sockets: UDP, multicast, UNIX datagram, adopted UDP
  // (backends/PosixReactorDatagram.cpp, transports/udp, transports/unix/UNIXDatagramPort)
  /// listenUDP(): a transports/udp UDPPort, bound and started. Thread: reactor.
  std::shared_ptr<IUDPPort> doListenUDP(int port, std::shared_ptr<DatagramProtocol> protocol,
                                        std::string_view interface,
                                        std::size_t maxPacketSize) override;
  /// listenMulticast(): a transports/udp MulticastPort. Thread: reactor.
  std::shared_ptr<IMulticastPort> doListenMulticast(int port,
                                                    std::shared_ptr<DatagramProtocol> protocol,
                                                    std::string_view interface,
                                                    std::size_t maxPacketSize,
                                                    bool listenMultiple) override;
  /// listenUNIXDatagram(). Thread: reactor.
  std::shared_ptr<IUNIXDatagramPort> doListenUNIXDatagram(
      std::string address, std::shared_ptr<DatagramProtocol> protocol, std::size_t maxPacketSize,
      int mode) override;
  /// connectUNIXDatagram(). Thread: reactor.
  std::shared_ptr<IUNIXDatagramConnectedPort> doConnectUNIXDatagram(
      std::string address, std::shared_ptr<ConnectedDatagramProtocol> protocol,
      std::size_t maxPacketSize, int mode, std::optional<std::string> bindAddress) override;
  /// adoptDatagramPort(): duplicates `fd` (AF_INET/AF_INET6 only). Thread: reactor.
  std::shared_ptr<IUDPPort> doAdoptDatagramPort(int fd, int addressFamily,
                                                std::shared_ptr<DatagramProtocol> protocol,
                                                std::size_t maxPacketSize) override;
  // ---- end of datagram sockets

 private:
  friend class detail::SignalPipe;

  // What the reactor knows about one descriptor number.
  struct Entry {
    FileDescriptorPtr reader;
    FileDescriptorPtr writer;
    // The last holder removed; while the entry is empty and its removal pending, it is alive
    // in released_ (which is freed only after pending changes are applied).
    const IFileDescriptor* recent = nullptr;
    std::uint64_t since = 0;   // epoch_ of the registration
    std::uint8_t kernel = 0;   // the mask the multiplexer was given
    bool queued = false;       // listed in changes_
    bool alwaysReady = false;  // refused by the multiplexer: dispatched each pass
    bool internal = false;     // waker or signal pipe
    std::uint8_t wanted() const noexcept;
    bool empty() const noexcept { return !reader && !writer; }
    bool known() const noexcept { return kernel != 0 || alwaysReady; }
  };

  void add(FileDescriptorPtr d, std::uint8_t dir, const char* what);
  void registerFresh(int fd, FileDescriptorPtr d, std::uint8_t dir, const char* what);
  void forget(int fd);
  void detach(int fd, IFileDescriptor* d, std::uint8_t dirs);
  void evictStale(int fd, bool all = false);
  void queue(int fd);
  void hold(int fd, FileDescriptorPtr d, std::uint8_t dir);
  int numberOf(const IFileDescriptor* d) const noexcept;
  Entry& entryFor(int fd);
  void registerInternal(const FileDescriptorPtr& d);
  void unregisterInternal(int fd);
  void applyChanges();
  void applyChange(int fd);
  void dropAlwaysReady(int fd);
  void dispatch(int fd, std::uint8_t events);
  std::optional<Failure> handle(IFileDescriptor& d, std::uint8_t dir, bool broken);
  void disconnect(IFileDescriptor& d, const Failure& why);
  void runEvicted();
  void replaceWaker();
  void replaceSignalPipe();
  void handleSignal(int signal);
  // How many times this process came out of fork() as the child (a pthread_atfork count: a
  // load, where getpid() is a system call).
  static unsigned forkCount() noexcept;

  // What every iteration reads comes first, so that it touches few cache lines.
  std::unique_ptr<Multiplexer> mux_;
  std::vector<Entry> entries_;  // indexed by descriptor number
  ReadyList ready_;
  std::uint64_t epoch_ = 1;       // incremented after each wait
  int depth_ = 0;                 // doIteration() calls in progress (iterate() may nest)
  unsigned forks_ = forkCount();  // forks seen when this process's kernel state was made
  std::vector<int> changes_;      // numbers whose interest changed
  std::vector<std::pair<FileDescriptorPtr, Failure>> evicted_;  // stale holders to notify
  std::vector<FileDescriptorPtr> released_;   // dropped references, freed next iteration
  std::vector<int> alwaysReady_;              // numbers refused by the multiplexer
  std::vector<int> batch_;                    // spare buffer for applyChanges()
  std::vector<FileDescriptorPtr> releasing_;  // released_ of the last iteration, being freed
  std::shared_ptr<detail::Waker> waker_;
  std::shared_ptr<detail::SignalPipe> signals_;
  std::atomic<int> wakeFd_{-1};
  int exitSignal_ = 0;
};

}  // namespace coil
