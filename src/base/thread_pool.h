// ThreadPool: a fixed set of worker threads that run submitted tasks in FIFO order.
//
// The pool owns its threads and joins them in Stop(), which the destructor calls; tasks
// already queued still run before Stop() returns. Tasks must not throw.
// Thread safety: Submit() and Wait() may be called from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mixtera {

class ThreadPool {
 public:
  // Starts `num_threads` workers (at least one). Each worker adds `nice_increment` (>= 0) to
  // its own nice value when it starts (Linux sets it per thread; the result is capped at 19),
  // so that its tasks yield the CPU to the process's other threads. The priority is a hint:
  // where it cannot be set, the workers run at the creator's.
  explicit ThreadPool(size_t num_threads, int nice_increment = 0);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Queues `task`. REQUIRES: Stop() has not been called.
  void Submit(std::function<void()> task);

  // Blocks until every task submitted so far has finished.
  void Wait();

  // Finishes the queued tasks and joins the workers. Idempotent.
  void Stop();

  size_t num_threads() const { return workers_.size(); }

  // Returns the number of hardware threads (at least 1).
  static size_t HardwareThreads();

 private:
  void WorkerLoop();

  std::mutex mu_;
  std::condition_variable work_cv_;          // signalled when a task arrives or on stop
  std::condition_variable idle_cv_;          // signalled when a task finishes
  std::deque<std::function<void()>> queue_;  // GUARDED_BY(mu_)
  size_t running_ = 0;                       // GUARDED_BY(mu_)
  bool stopping_ = false;                    // GUARDED_BY(mu_)
  std::vector<std::thread> workers_;
};

}  // namespace mixtera
