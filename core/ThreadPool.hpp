#pragma once
/// @file ThreadPool: a pool of worker threads that grows on demand (Twisted's
/// python/threadpool.ThreadPool), used by the reactor's callInThread() and deferToThread().

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <list>
#include <mutex>
#include <string>
#include <thread>

namespace coil {

/// Runs functions on worker threads. Work queued before start() waits for it; start() makes
/// `minThreads` workers, and more are made on demand (one per queued function no idle worker can
/// take) up to `maxThreads`. Idle workers wait on a condition variable; workers beyond a lowered
/// maximum leave once they are idle. An exception escaping a function is logged (system
/// "coil.threadpool") and the worker goes on.
///
/// stop() lets the workers finish everything already queued, then joins them; work queued after
/// stop() — or still queued when no worker is left to run it (the pool never started, or its
/// maximum is 0) — is dropped: the function is destroyed, on the thread that called
/// callInThread() or stop(), without being run. A stopped pool may be started again.
///
/// Thread: any, for every method (all are serialised by one mutex), except that stop() and the
/// destructor must not be called from one of the pool's own threads.
class ThreadPool {
 public:
  /// A pool that is not started yet (Twisted's defaults: 5, 20). `minThreads > maxThreads`
  /// throws std::invalid_argument. `name` prefixes the workers' thread names (where supported).
  explicit ThreadPool(std::size_t minThreads = 5, std::size_t maxThreads = 20,
                      std::string name = {});
  /// stop().
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  /// Starts the workers: at least minThreads, more for work already queued (up to maxThreads).
  /// Does nothing when already started. Thread: any.
  void start();

  /// Finishes the queued work, joins every worker and marks the pool joined. Idempotent.
  /// Throws std::logic_error when called from one of the pool's threads. Thread: any but the
  /// pool's.
  void stop();

  /// Queues `f` to run on a worker (dropped after stop(); see the class comment). An empty `f`
  /// throws std::invalid_argument. Thread: any.
  void callInThread(std::function<void()> f);

  /// Sets the bounds. When started: makes workers up to the new minimum (and for queued work up
  /// to the new maximum); workers above the new maximum leave when idle. `minThreads >
  /// maxThreads` throws std::invalid_argument. Thread: any.
  void adjustPoolsize(std::size_t minThreads, std::size_t maxThreads);

  /// The minimum number of workers while started. Thread: any.
  std::size_t minThreads() const;
  /// The maximum number of workers. Thread: any.
  std::size_t maxThreads() const;
  /// The name given at construction. Thread: any.
  const std::string& name() const noexcept { return name_; }
  /// True between start() and stop(). Thread: any.
  bool started() const;
  /// True once stop() has been called (until the next start()). Thread: any.
  bool joined() const;
  /// Workers alive (running work or idle). Thread: any.
  std::size_t threadCount() const;
  /// Workers running a function right now. Thread: any.
  std::size_t workingCount() const;
  /// Functions queued and not yet taken by a worker. Thread: any.
  std::size_t pendingCount() const;

 private:
  struct Worker {
    std::thread thread;
    bool done = false;  // set (under mutex_) as the worker leaves
  };

  void workerMain(std::list<Worker>::iterator self, std::size_t number);
  void spawn(std::unique_lock<std::mutex>& lock);
  void growForBacklog(std::unique_lock<std::mutex>& lock);
  std::list<Worker> takeFinished(std::unique_lock<std::mutex>& lock);
  static void joinAll(std::list<Worker>& workers);

  const std::string name_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  std::list<Worker> workers_;  // every worker not yet joined (including ones that are leaving)
  std::size_t min_;
  std::size_t max_;
  std::size_t live_ = 0;     // workers that have not left
  std::size_t idle_ = 0;     // workers waiting on wake_
  std::size_t working_ = 0;  // workers running a function
  std::size_t spawned_ = 0;  // for thread names
  bool started_ = false;
  bool joined_ = false;
  bool stopping_ = false;  // inside stop(): idle workers leave once the queue is empty
};

}  // namespace coil
