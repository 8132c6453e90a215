#pragma once
// parmap's own pool of worker threads, shared by every call of the threads backend.
//
// A call's caller always works on its own task, and pool workers join it as helpers when they
// are idle. Nothing ever waits for a helper that has not started, so nested calls and calls
// from many threads at once cannot deadlock: in the worst case the caller does all the work.
// Idle workers spin for a short while (a follow-up call then starts in well under a
// microsecond) and then sleep on a futex, using no CPU.
//
// Lifetime: the pool is made on first use and never destroyed. Its workers sleep between
// calls and end with the process, as libgomp's and oneTBB's do. So exit never waits for work
// that other threads still run, and a call from a static destructor (or from a thread still
// running during exit) finds the pool intact. No thread is ever detached: each worker belongs
// to the pool for the life of the process.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace parmap::detail {

/// Work that several threads run together; participate(i) is called once by each of them, i
/// being the thread's place in the team (0 for the caller, 1.. for the helpers), and must
/// return when the work is done or nothing is left that this thread can claim.
class team_task {
 public:
  virtual void participate(unsigned index) noexcept = 0;

 protected:
  ~team_task() = default;
};

class thread_pool {
 public:
  /// The process-wide pool, started on first use and never destroyed (see above).
  static thread_pool& instance();

  /// Runs task.participate() on the calling thread and on up to `helpers` pool workers (the
  /// pool grows to the largest number ever asked for, at most max_threads - 1 workers).
  /// Returns when every thread that started the task has returned from it; no worker touches
  /// the task after that.
  void run(team_task& task, int helpers);

  thread_pool(const thread_pool&) = delete;
  thread_pool& operator=(const thread_pool&) = delete;

 private:
  struct worker;
  thread_pool() = default;
  void work(worker& w) noexcept;

  mutable std::mutex mutex_;
  std::vector<std::unique_ptr<worker>> workers_;  // guarded by mutex_
  std::vector<worker*> idle_;  // guarded by mutex_; not assigned to any call, most recent last
};

}  // namespace parmap::detail
