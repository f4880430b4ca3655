// PosixReactor: ReactorBase over a Multiplexer — interest batching, dispatch policy, waker,
// signals and fork hooks, written once for every readiness backend.
// Tests: test/backends/PosixReactorTest.cpp, test/backends/DispatchTest.cpp
#include <coil/backends/PosixReactor.hpp>

#include <coil/backends/detail/Syscall.hpp>
#include <coil/core/Errors.hpp>
#include <coil/core/Log.hpp>
#include <coil/transports/tcp/GaiResolver.hpp>

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

namespace coil {

using detail::lastError;

namespace {

constexpr std::string_view kSystem = "coil.reactor";

// A non-blocking, close-on-exec pipe.
std::error_code makePipe(int fds[2]) {
#ifdef __linux__
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return lastError();
#else
  if (::pipe(fds) != 0) return lastError();
  for (int i = 0; i < 2; ++i) {
    ::fcntl(fds[i], F_SETFD, FD_CLOEXEC);
    ::fcntl(fds[i], F_SETFL, ::fcntl(fds[i], F_GETFL) | O_NONBLOCK);
  }
#endif
  return {};
}

std::atomic<unsigned> gForks{0};

void noteFork() noexcept {
  gForks.fetch_add(1, std::memory_order_relaxed);
}

void drain(int fd) {
  char buffer[256];
  while (::read(fd, buffer, sizeof buffer) > 0) {
  }
}

std::string prefixOf(const IFileDescriptor& d) noexcept {
  try {
    return d.logPrefix();
  } catch (...) {
    return "-";
  }
}

// The write end of the pipe of the reactor whose handlers are installed, or -1.
std::atomic<int> gSignalWriteFd{-1};

void onSignal(int signal) {
  int saved = errno;
  int fd = gSignalWriteFd.load(std::memory_order_acquire);
  if (fd < 0) {
    // The reactor that installed the handler is gone: behave as if there were none.
    ::signal(signal, SIG_DFL);
    ::raise(signal);
  } else {
    auto byte = static_cast<unsigned char>(signal);
    [[maybe_unused]] auto n = ::write(fd, &byte, 1);  // a full pipe already wakes the reactor
  }
  errno = saved;
}

}  // namespace

namespace detail {

/// Wakes the reactor from any thread or signal handler: an eventfd on Linux, a pipe elsewhere.
class Waker final : public IFileDescriptor {
 public:
  Waker() {
#ifdef __linux__
    readFd_ = writeFd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (readFd_ < 0) throw std::system_error(lastError(), "eventfd (reactor waker)");
#else
    int fds[2];
    if (auto ec = makePipe(fds)) throw std::system_error(ec, "pipe (reactor waker)");
    readFd_ = fds[0];
    writeFd_ = fds[1];
#endif
  }
  ~Waker() override {
    if (writeFd_ != readFd_) ::close(writeFd_);
    ::close(readFd_);
  }
  Waker(const Waker&) = delete;
  Waker& operator=(const Waker&) = delete;

  int fileno() const override {
    return readFd_;
  }
  int writeFd() const noexcept {
    return writeFd_;
  }
  std::optional<Failure> doRead() override {
    drain(readFd_);
    return std::nullopt;
  }
  void connectionLost(const Failure&) override {}
  std::string logPrefix() const override {
    return "waker";
  }

  // Async-signal-safe; EAGAIN (counter or pipe full) means a wake-up is already pending.
  static void poke(int fd) noexcept {
#ifdef __linux__
    std::uint64_t one = 1;
#else
    char one = 0;
#endif
    [[maybe_unused]] auto n = ::write(fd, &one, sizeof one);
  }

 private:
  int readFd_ = -1;
  int writeFd_ = -1;
};

/// The self-pipe signal handlers write to; reading it stops the reactor.
class SignalPipe final : public IFileDescriptor {
 public:
  explicit SignalPipe(PosixReactor& reactor) : reactor_(reactor) {
    int fds[2];
    if (auto ec = makePipe(fds)) throw std::system_error(ec, "pipe (signal handling)");
    readFd_ = fds[0];
    writeFd_ = fds[1];
  }
  ~SignalPipe() override {
    int mine = writeFd_;
    gSignalWriteFd.compare_exchange_strong(mine, -1);
    ::close(readFd_);
    ::close(writeFd_);
  }
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  int fileno() const override { return readFd_; }
  int writeFd() const noexcept { return writeFd_; }
  std::optional<Failure> doRead() override {
    unsigned char signals[64];
    ssize_t n;
    while ((n = ::read(readFd_, signals, sizeof signals)) > 0) {
      for (ssize_t i = 0; i < n; ++i) reactor_.handleSignal(signals[i]);
    }
    return std::nullopt;
  }
  void connectionLost(const Failure&) override {}
  std::string logPrefix() const override { return "signals"; }

 private:
  PosixReactor& reactor_;
  int readFd_ = -1;
  int writeFd_ = -1;
};

}  // namespace detail

std::uint8_t PosixReactor::Entry::wanted() const noexcept {
  return static_cast<std::uint8_t>((reader ? io::kRead : 0) | (writer ? io::kWrite : 0));
}

PosixReactor::PosixReactor(std::unique_ptr<Multiplexer> multiplexer)
    : mux_(std::move(multiplexer)) {
  if (!mux_) throw std::invalid_argument("PosixReactor needs a multiplexer");
  waker_ = std::make_shared<detail::Waker>();
  registerInternal(waker_);
  wakeFd_.store(waker_->writeFd(), std::memory_order_release);
  installNameResolver(std::make_shared<stream::GaiResolver>(*this));
}

PosixReactor::~PosixReactor() {
  stopThreadPool();  // no pool thread may call wakeUp() on a half-destroyed reactor
  wakeFd_.store(-1, std::memory_order_release);
  // Descriptors freed here may call back into the reactor: let them find it empty.
  auto entries = std::move(entries_);
  entries_.clear();
  for (Entry& e : entries) {
    if (e.internal) continue;
    if (e.reader) detail::DescriptorSlot::leave(*e.reader);
    if (e.writer && e.writer != e.reader) detail::DescriptorSlot::leave(*e.writer);
  }
  changes_.clear();
  alwaysReady_.clear();
  auto evicted = std::move(evicted_);
  evicted_.clear();
  auto released = std::move(released_);
  released_.clear();
  entries.clear();
}

unsigned PosixReactor::forkCount() noexcept {
  static const bool counting = ::pthread_atfork(nullptr, nullptr, noteFork) == 0;
  (void)counting;  // registered before the first reactor exists, so before any fork it sees
  return gForks.load(std::memory_order_relaxed);
}

std::string_view PosixReactor::backendName() const {
  return mux_->name();
}

// ---- registration ------------------------------------------------------------------------------

void PosixReactor::addReader(FileDescriptorPtr reader) {
  COIL_ASSERT_REACTOR_THREAD(*this, "addReader");
  add(std::move(reader), io::kRead, "addReader");
}

void PosixReactor::addWriter(FileDescriptorPtr writer) {
  COIL_ASSERT_REACTOR_THREAD(*this, "addWriter");
  add(std::move(writer), io::kWrite, "addWriter");
}

void PosixReactor::removeReader(IFileDescriptor* reader) {
  COIL_ASSERT_REACTOR_THREAD(*this, "removeReader");
  if (int fd = numberOf(reader); fd >= 0) detach(fd, reader, io::kRead);
}

void PosixReactor::removeWriter(IFileDescriptor* writer) {
  COIL_ASSERT_REACTOR_THREAD(*this, "removeWriter");
  if (int fd = numberOf(writer); fd >= 0) detach(fd, writer, io::kWrite);
}

std::vector<FileDescriptorPtr> PosixReactor::removeAll() {
  COIL_ASSERT_REACTOR_THREAD(*this, "removeAll");
  std::vector<FileDescriptorPtr> out;
  for (int fd = 0; fd < static_cast<int>(entries_.size()); ++fd) {
    Entry& e = entries_[fd];
    if (e.internal || e.empty()) continue;
    FileDescriptorPtr reader = e.reader;
    FileDescriptorPtr writer = e.writer;
    if (reader) out.push_back(reader);
    if (writer && writer != reader) out.push_back(writer);
    if (reader) detach(fd, reader.get(), io::kRead | io::kWrite);
    if (writer) detach(fd, writer.get(), io::kRead | io::kWrite);
  }
  return out;
}

std::vector<FileDescriptorPtr> PosixReactor::getReaders() const {
  std::vector<FileDescriptorPtr> out;
  for (const Entry& e : entries_)
    if (!e.internal && e.reader) out.push_back(e.reader);
  return out;
}

std::vector<FileDescriptorPtr> PosixReactor::getWriters() const {
  std::vector<FileDescriptorPtr> out;
  for (const Entry& e : entries_)
    if (!e.internal && e.writer) out.push_back(e.writer);
  return out;
}

PosixReactor::Entry& PosixReactor::entryFor(int fd) {
  if (static_cast<std::size_t>(fd) >= entries_.size()) entries_.resize(fd + 1);
  return entries_[fd];
}

void PosixReactor::add(FileDescriptorPtr d, std::uint8_t dir, const char* what) {
  if (!d) throw std::invalid_argument(std::string(what) + ": null descriptor");
  const int fd = d->fileno();
  if (fd < 0) {
    throw std::invalid_argument(std::string(what) + ": " + prefixOf(*d) +
                                " has no file descriptor (fileno() == -1)");
  }
  // Registered under another number (its descriptor changed): the registration moves, both
  // directions of it.
  std::uint8_t carried = 0;
  if (int was = numberOf(d.get()); was >= 0 && was != fd) {
    const Entry& old = entries_[was];
    carried = static_cast<std::uint8_t>((old.reader == d ? io::kRead : 0) |
                                        (old.writer == d ? io::kWrite : 0)) &
              ~dir;
    detach(was, d.get(), io::kRead | io::kWrite);
  }
  if (carried) add(d, carried, what);
  Entry& e = entryFor(fd);
  if (e.internal) {
    throw std::invalid_argument(std::string(what) + ": fd " + std::to_string(fd) +
                                " is the reactor's own descriptor");
  }
  FileDescriptorPtr& slot = dir == io::kRead ? e.reader : e.writer;
  if (slot == d) return;  // adding twice is a no-op
  if (slot) {
    if (slot->fileno() == fd) {
      throw std::invalid_argument(std::string(what) + ": fd " + std::to_string(fd) +
                                  " is already watched by another descriptor (" + prefixOf(*slot) +
                                  ")");
    }
    evictStale(fd);  // its holder closed it without removing itself; the number was reused
  }
  Entry& entry = entries_[fd];
  if (entry.empty()) {
    registerFresh(fd, std::move(d), dir, what);
    return;
  }
  hold(fd, std::move(d), dir);
  queue(fd);
}

// The first registration of a number is applied at once, so that a refusal is thrown here.
void PosixReactor::registerFresh(int fd, FileDescriptorPtr d, std::uint8_t dir, const char* what) {
  Entry& e = entries_[fd];
  // Removed and re-added within one iteration. An always-ready entry (or one whose removal a
  // forked child only queued) still has its kernel state: the pending change list absorbs both.
  const bool same = e.recent == d.get();
  if (e.known() && same) {
    e.recent = nullptr;
    hold(fd, std::move(d), dir);
    queue(fd);
    return;
  }
  // Another object takes a number whose removal is pending: it may be a different file now,
  // so the kernel's view is dropped and built again. (The same object, removed from the kernel
  // at once by detach(), is simply registered again.)
  if (e.known()) forget(fd);
  if (std::error_code ec = mux_->update(fd, 0, dir)) {
    if (ec != std::errc::operation_not_permitted) {
      throw std::system_error(ec, std::string(what) + ": the " + std::string(mux_->name()) +
                                      " backend cannot watch fd " + std::to_string(fd) + " (" +
                                      prefixOf(*d) + ")");
    }
    // epoll refuses regular files; they are always ready (Twisted's continuous polling).
    e.alwaysReady = true;
    alwaysReady_.push_back(fd);
  } else {
    e.kernel = dir;
  }
  // The same object keeps its place in this iteration's dispatch: an event already reported
  // for its number is its own.
  if (!same) e.since = epoch_;
  e.recent = nullptr;
  hold(fd, std::move(d), dir);
}

void PosixReactor::forget(int fd) {
  Entry& e = entries_[fd];
  if (e.kernel != 0) {
    (void)mux_->update(fd, e.kernel, 0);  // failing means the kernel already dropped it
    e.kernel = 0;
  }
  if (e.alwaysReady) dropAlwaysReady(fd);
}

void PosixReactor::detach(int fd, IFileDescriptor* d, std::uint8_t dirs) {
  Entry& e = entries_[fd];
  bool changed = false;
  for (auto* slot : {&e.reader, &e.writer}) {
    std::uint8_t dir = slot == &e.reader ? io::kRead : io::kWrite;
    if ((dirs & dir) && slot->get() == d) {
      e.recent = d;
      released_.push_back(std::move(*slot));  // freed at the next iteration, not mid-call
      slot->reset();
      changed = true;
    }
  }
  if (!changed) return;
  if (e.reader.get() != d && e.writer.get() != d) detail::DescriptorSlot::leave(*d);
  queue(fd);
  // The last interest goes at once: the caller may close the descriptor next, and epoll keeps
  // watching a file while any duplicate of it lives (another process, a fork) but can no longer
  // be told to stop once the number is closed; its events would then reach the number's next
  // holder. Direction changes while the other direction stays are still batched. A forked child
  // that has not called afterFork() yet still shares the parent's kernel state: it only queues.
  if (e.empty() && e.kernel != 0 && forkCount() == forks_) {
    (void)mux_->update(fd, e.kernel, 0);  // failing means the kernel already dropped it
    e.kernel = 0;
  }
}

// The holders of `fd` whose own fileno() no longer says `fd` (with `all`: every holder, the
// number being known to belong to another file now) lost their descriptor without telling us;
// they are dropped and told so (ConnectionFdescWentAway) at the next iteration.
void PosixReactor::evictStale(int fd, bool all) {
  Entry& e = entries_[fd];
  for (FileDescriptorPtr holder : {e.reader, e.writer}) {
    if (!holder || (!all && holder->fileno() == fd)) continue;
    if (e.reader.get() != holder.get() && e.writer.get() != holder.get()) continue;  // done
    detach(fd, holder.get(), io::kRead | io::kWrite);
    evicted_.emplace_back(
        holder,
        Failure(error::ConnectionFdescWentAway("fd " + std::to_string(fd) + " was reused")));
  }
  e.recent = nullptr;
}

// `d` takes the `dir` slot of `fd` (which is empty).
void PosixReactor::hold(int fd, FileDescriptorPtr d, std::uint8_t dir) {
  Entry& e = entries_[fd];
  if (e.reader != d && e.writer != d) detail::DescriptorSlot::enter(*d, fd);
  (dir == io::kRead ? e.reader : e.writer) = std::move(d);
}

// The number `d` is registered under here, or -1. The number kept in `d` is right unless
// another reactor also watches it under another number; only then are the entries searched.
int PosixReactor::numberOf(const IFileDescriptor* d) const noexcept {
  if (!d || !detail::DescriptorSlot::watched(*d)) return -1;
  auto holds = [&](int fd) {
    if (fd < 0 || static_cast<std::size_t>(fd) >= entries_.size()) return false;
    const Entry& e = entries_[fd];
    return !e.internal && (e.reader.get() == d || e.writer.get() == d);
  };
  if (int fd = detail::DescriptorSlot::fd(*d); holds(fd)) return fd;
  for (int fd = 0; fd < static_cast<int>(entries_.size()); ++fd)
    if (holds(fd)) return fd;
  return -1;
}

void PosixReactor::queue(int fd) {
  Entry& e = entries_[fd];
  if (e.queued) return;
  e.queued = true;
  changes_.push_back(fd);
}

void PosixReactor::registerInternal(const FileDescriptorPtr& d) {
  const int fd = d->fileno();
  // A user descriptor still filed here closed its number without removing itself, and the
  // kernel has just given that number to `d`.
  if (!entryFor(fd).internal) evictStale(fd, true);
  Entry& e = entries_[fd];
  if (e.known()) forget(fd);
  if (std::error_code ec = mux_->update(fd, 0, io::kRead)) {
    throw std::system_error(ec, "the " + std::string(mux_->name()) +
                                    " backend cannot watch the reactor's " + prefixOf(*d));
  }
  e.reader = d;
  e.kernel = io::kRead;
  e.internal = true;
  e.since = epoch_;
}

void PosixReactor::unregisterInternal(int fd) {
  forget(fd);
  Entry& e = entries_[fd];
  if (e.queued) std::erase(changes_, fd);
  e = Entry{};
}

// ---- applying changes ---------------------------------------------------------------------------

void PosixReactor::applyChanges() {
  // Two buffers trade places, so both keep their capacity from one iteration to the next.
  std::vector<int> batch = std::exchange(batch_, {});
  while (!changes_.empty()) {
    batch.swap(changes_);
    for (int fd : batch) applyChange(fd);  // may run connectionLost, which may queue more
    batch.clear();
  }
  batch_ = std::move(batch);
}

void PosixReactor::applyChange(int fd) {
  Entry& e = entries_[fd];
  e.queued = false;
  const std::uint8_t want = e.wanted();
  if (!e.alwaysReady && want != e.kernel) {
    std::error_code ec = mux_->update(fd, e.kernel, want);
    if (ec && want != 0) {
      log::error(kSystem, "the " + std::string(mux_->name()) + " backend refused fd " +
                              std::to_string(fd) + ": " + ec.message());
      Failure why{
          error::ConnectionLost("the reactor could not watch fd " + std::to_string(fd), ec)};
      FileDescriptorPtr reader = e.reader;
      FileDescriptorPtr writer = e.writer;
      if (reader) disconnect(*reader, why);
      if (writer && writer != reader) disconnect(*writer, why);
      return;  // the entry is empty (detach() dropped it from the kernel) and queued again
    }
    e.kernel = want;  // a failed removal means the kernel had already dropped it
  }
  if (want == 0) {
    if (e.alwaysReady) dropAlwaysReady(fd);
    e = Entry{};
  }
}

void PosixReactor::dropAlwaysReady(int fd) {
  std::erase(alwaysReady_, fd);
  entries_[fd].alwaysReady = false;
}

// ---- the iteration ---------------------------------------------------------------------------

void PosixReactor::doIteration(std::optional<double> timeout) {
  struct Depth {
    int& depth;
    explicit Depth(int& d) : depth(++d) {}
    ~Depth() { --depth; }
    Depth(const Depth&) = delete;
    Depth& operator=(const Depth&) = delete;
  } depth(depth_);
  if (!evicted_.empty()) runEvicted();
  if (!changes_.empty()) applyChanges();
  // The references dropped during the last iteration go only now: no entry waiting for its
  // removal (whose `recent` may name one of them) is left. A destructor may drop more (they go
  // to released_) or remove descriptors (applied before the wait). An iteration nested in a
  // callback keeps them: the outer dispatch may still be using one.
  if (!released_.empty() && depth_ == 1) {
    releasing_.swap(released_);
    releasing_.clear();
    if (!changes_.empty()) applyChanges();
  }
  if (!alwaysReady_.empty()) timeout = 0.0;
  ReadyList ready;
  ready.swap(ready_);
  ready.clear();
  std::error_code ec = mux_->wait(timeout, ready);
  ++epoch_;  // registrations made from here on are not dispatched in this iteration
  if (ec) log::error(kSystem, std::string(mux_->name()) + " wait failed: " + ec.message());
  for (const ReadyEvent& event : ready) dispatch(event.fd, event.events);
  if (!alwaysReady_.empty()) {
    std::vector<int> fds = alwaysReady_;
    for (int fd : fds) {
      if (entries_[fd].alwaysReady) dispatch(fd, entries_[fd].wanted());
    }
  }
  ready.clear();
  if (ready_.empty()) ready_.swap(ready);  // keep the capacity for the next wait
}

void PosixReactor::runEvicted() {
  auto evicted = std::move(evicted_);
  evicted_.clear();
  for (auto& [d, why] : evicted) {
    try {
      d->connectionLost(why);
    } catch (...) {
      log::currentException("connectionLost of " + prefixOf(*d) + " raised", kSystem);
    }
  }
}

// Twisted's _doReadOrWrite: hang-up or error without readable data disconnects (clean for a
// reader, which may see it as end of file, lost for a writer); otherwise doRead, then doWrite.
// The registration is checked before every call: an earlier call may have removed it.
void PosixReactor::dispatch(int fd, std::uint8_t events) {
  if (fd < 0 || static_cast<std::size_t>(fd) >= entries_.size()) return;
  Entry& e = entries_[fd];
  if (e.empty() || e.since == epoch_) return;  // removed, or registered after the wait
  // Not pinned here: removing either one keeps it alive in released_ until the next iteration.
  IFileDescriptor* reader = e.reader.get();
  IFileDescriptor* writer = e.writer.get();
  const bool broken = (events & (io::kError | io::kHangup)) && !(events & io::kRead);
  if (reader && (broken || (events & io::kRead))) {
    if (std::optional<Failure> why = handle(*reader, io::kRead, broken)) {
      disconnect(*reader, *why);
      if (writer == reader) return;
    }
  }
  if (writer && (broken || (events & io::kWrite)) && entries_[fd].writer.get() == writer) {
    if (std::optional<Failure> why = handle(*writer, io::kWrite, broken)) disconnect(*writer, *why);
  }
}

std::optional<Failure> PosixReactor::handle(IFileDescriptor& d, std::uint8_t dir, bool broken) {
  const char* what = dir == io::kRead ? "doRead" : "doWrite";
  try {
    if (d.fileno() == -1) return Failure(error::ConnectionFdescWentAway());
    if (broken) {
      if (dir == io::kRead) return Failure(error::ConnectionDone());
      return Failure(error::ConnectionLost());
    }
    return dir == io::kRead ? d.doRead() : d.doWrite();
  } catch (...) {
    log::currentException(std::string("Unhandled error in ") + what + " of " + prefixOf(d),
                          kSystem);
    return Failure::current();
  }
}

// `d` stays alive through connectionLost: detach() moves the reactor's reference to released_.
void PosixReactor::disconnect(IFileDescriptor& d, const Failure& why) {
  if (int fd = numberOf(&d); fd >= 0) detach(fd, &d, io::kRead | io::kWrite);
  try {
    d.connectionLost(why);
  } catch (...) {
    log::currentException("connectionLost of " + prefixOf(d) + " raised", kSystem);
  }
}

void PosixReactor::wakeUp() {
  int fd = wakeFd_.load(std::memory_order_acquire);
  if (fd >= 0) detail::Waker::poke(fd);
}

// ---- signals and fork ---------------------------------------------------------------------------

void PosixReactor::installSignalHandlers() {
  if (!signals_) {
    signals_ = std::make_shared<detail::SignalPipe>(*this);
    registerInternal(signals_);
  }
  gSignalWriteFd.store(signals_->writeFd(), std::memory_order_release);
  struct sigaction action {};
  action.sa_handler = onSignal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  // SIGINT only while nobody else handles or ignores it (Twisted: only over Python's default).
  struct sigaction previous {};
  if (::sigaction(SIGINT, nullptr, &previous) == 0 &&
      (previous.sa_handler == SIG_DFL || previous.sa_handler == onSignal)) {
    ::sigaction(SIGINT, &action, nullptr);
  }
  ::sigaction(SIGTERM, &action, nullptr);
}

void PosixReactor::handleSignal(int signal) {
  if (signal != SIGINT && signal != SIGTERM) return;
  log::info(kSystem, std::string("Received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
                         ", shutting down.");
  exitSignal_ = signal;
  try {
    stop();
  } catch (const std::exception& e) {
    log::debug(kSystem, std::string("stop() after a signal: ") + e.what());
  }
}

void PosixReactor::beforeFork() {
  mux_->beforeFork();
}

void PosixReactor::afterFork() {
  forks_ = forkCount();
  std::vector<std::pair<int, std::uint8_t>> interest;
  for (int fd = 0; fd < static_cast<int>(entries_.size()); ++fd) {
    if (entries_[fd].kernel != 0) interest.emplace_back(fd, entries_[fd].kernel);
  }
  if (std::error_code ec = mux_->afterFork(interest)) {
    log::error(kSystem, "re-registering descriptors after fork: " + ec.message());
  }
  // The waker and the signal pipe are shared with the parent until replaced.
  replaceWaker();
  if (signals_) replaceSignalPipe();
}

// The new descriptors are in place before the old ones go, so no wake-up or signal is lost.
void PosixReactor::replaceWaker() {
  auto old = std::exchange(waker_, std::make_shared<detail::Waker>());
  registerInternal(waker_);
  wakeFd_.store(waker_->writeFd(), std::memory_order_release);
  unregisterInternal(old->fileno());
}

void PosixReactor::replaceSignalPipe() {
  auto old = std::exchange(signals_, std::make_shared<detail::SignalPipe>(*this));
  registerInternal(signals_);
  int mine = old->writeFd();
  gSignalWriteFd.compare_exchange_strong(mine, signals_->writeFd());
  unregisterInternal(old->fileno());
}

}  // namespace coil
