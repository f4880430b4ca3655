// ThreadPool: worker threads that grow on demand, wait on a condition variable, drain on stop().
// Tests: test/core/reactor/ThreadPoolTest.cpp, test/core/reactor/ThreadsTest.cpp
#include <coil/core/ThreadPool.hpp>

#include <coil/core/Log.hpp>

#include <algorithm>
#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

#if defined(__linux__)
#include <pthread.h>
#endif

namespace coil {

namespace {

constexpr const char* kLogSystem = "coil.threadpool";

void checkBounds(std::size_t minThreads, std::size_t maxThreads) {
  if (minThreads > maxThreads)
    throw std::invalid_argument("ThreadPool: minimum (" + std::to_string(minThreads) +
                                ") is greater than maximum (" + std::to_string(maxThreads) + ")");
}

void nameThisThread([[maybe_unused]] const std::string& name) {
#if defined(__linux__)
  if (name.empty()) return;
  std::string shortName = name.substr(0, 15);  // the kernel keeps 15 characters
  pthread_setname_np(pthread_self(), shortName.c_str());
#endif
}

}  // namespace

ThreadPool::ThreadPool(std::size_t minThreads, std::size_t maxThreads, std::string name)
    : name_(std::move(name)), min_(minThreads), max_(maxThreads) {
  checkBounds(minThreads, maxThreads);
}

ThreadPool::~ThreadPool() {
  try {
    stop();
  } catch (...) {
    log::currentException("ThreadPool destroyed from one of its own threads", kLogSystem);
    std::terminate();
  }
}

void ThreadPool::start() {
  std::list<Worker> finished;
  {
    std::unique_lock lock(mutex_);
    if (started_) return;
    started_ = true;
    joined_ = false;
    finished = takeFinished(lock);
    while (live_ < min_) spawn(lock);
    growForBacklog(lock);
  }
  joinAll(finished);
}

void ThreadPool::stop() {
  std::list<Worker> workers;
  std::deque<std::function<void()>> dropped;
  {
    std::unique_lock lock(mutex_);
    const auto self = std::this_thread::get_id();
    for (const Worker& w : workers_)
      if (w.thread.get_id() == self)
        throw std::logic_error("ThreadPool.stop() called from one of the pool's threads");
    joined_ = true;
    started_ = false;
    stopping_ = true;
    workers = std::move(workers_);  // list nodes (and the workers' iterators) stay valid
    workers_.clear();
    wake_.notify_all();
  }
  joinAll(workers);  // the workers drain the queue before they leave
  {
    std::unique_lock lock(mutex_);
    stopping_ = false;
    dropped.swap(queue_);  // nobody left to run it (never started, or a maximum of 0)
  }
  // `dropped` dies here, outside the lock: destructors may call back into the pool.
}

void ThreadPool::callInThread(std::function<void()> f) {
  if (!f) throw std::invalid_argument("ThreadPool.callInThread: an empty function");
  std::list<Worker> finished;
  {
    std::unique_lock lock(mutex_);
    if (joined_) {
      lock.unlock();
      return;  // dropped: `f` is destroyed on this thread
    }
    queue_.push_back(std::move(f));
    if (started_) {
      finished = takeFinished(lock);
      if (idle_ > 0) wake_.notify_one();
      try {
        growForBacklog(lock);
      } catch (...) {
        if (live_ == 0) {  // nothing could ever run it: give it back to the caller
          std::function<void()> back = std::move(queue_.back());
          queue_.pop_back();
          lock.unlock();
          throw;
        }
        log::currentException("ThreadPool could not start another worker", kLogSystem);
      }
    }
  }
  joinAll(finished);
}

void ThreadPool::adjustPoolsize(std::size_t minThreads, std::size_t maxThreads) {
  checkBounds(minThreads, maxThreads);
  std::list<Worker> finished;
  {
    std::unique_lock lock(mutex_);
    min_ = minThreads;
    max_ = maxThreads;
    if (!started_) return;
    finished = takeFinished(lock);
    while (live_ < min_) spawn(lock);
    growForBacklog(lock);
    if (live_ > max_) wake_.notify_all();  // the excess leave when idle
  }
  joinAll(finished);
}

std::size_t ThreadPool::minThreads() const {
  std::lock_guard lock(mutex_);
  return min_;
}

std::size_t ThreadPool::maxThreads() const {
  std::lock_guard lock(mutex_);
  return max_;
}

bool ThreadPool::started() const {
  std::lock_guard lock(mutex_);
  return started_;
}

bool ThreadPool::joined() const {
  std::lock_guard lock(mutex_);
  return joined_;
}

std::size_t ThreadPool::threadCount() const {
  std::lock_guard lock(mutex_);
  return live_;
}

std::size_t ThreadPool::workingCount() const {
  std::lock_guard lock(mutex_);
  return working_;
}

std::size_t ThreadPool::pendingCount() const {
  std::lock_guard lock(mutex_);
  return queue_.size();
}

void ThreadPool::spawn(std::unique_lock<std::mutex>&) {
  workers_.emplace_back();
  auto it = std::prev(workers_.end());
  std::size_t number = ++spawned_;
  try {
    it->thread = std::thread(&ThreadPool::workerMain, this, it, number);
  } catch (...) {
    workers_.erase(it);
    throw;
  }
  ++live_;
}

void ThreadPool::growForBacklog(std::unique_lock<std::mutex>& lock) {
  // One new worker per queued function that no free worker (idle, or just started) can take,
  // up to the maximum.
  while (live_ < max_ && queue_.size() > live_ - working_) spawn(lock);
}

std::list<ThreadPool::Worker> ThreadPool::takeFinished(std::unique_lock<std::mutex>&) {
  std::list<Worker> finished;
  for (auto it = workers_.begin(); it != workers_.end();) {
    auto next = std::next(it);
    if (it->done) finished.splice(finished.end(), workers_, it);
    it = next;
  }
  return finished;
}

void ThreadPool::joinAll(std::list<Worker>& workers) {
  for (Worker& w : workers)
    if (w.thread.joinable()) w.thread.join();
  workers.clear();
}

void ThreadPool::workerMain(std::list<Worker>::iterator self, std::size_t number) {
  nameThisThread(name_.empty() ? std::string() : name_ + "-" + std::to_string(number));
  std::unique_lock lock(mutex_);
  for (;;) {
    if (live_ > max_) break;  // the maximum was lowered: leave
    if (!queue_.empty()) {
      std::function<void()> f = std::move(queue_.front());
      queue_.pop_front();
      ++working_;
      lock.unlock();
      log::callLogged("Unhandled error in a thread pool function", kLogSystem, f);
      f = nullptr;  // destroyed outside the lock: its destructor may queue more work
      lock.lock();
      --working_;
      continue;
    }
    if (stopping_) break;
    ++idle_;
    wake_.wait(lock);
    --idle_;
  }
  --live_;
  self->done = true;
}

}  // namespace coil
