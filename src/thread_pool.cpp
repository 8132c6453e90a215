#include "thread_pool.hpp"

#include <chrono>

#include "parmap/detail/assert.hpp"
#include "parmap/options.hpp"
#include "process_cpus.hpp"

namespace parmap::detail {
namespace {

// A worker's assignment: none, a call's task (the task's address), the task running, or the
// task done. Only the worker moves it from running to done; only the call that assigned the
// task moves it from assigned or done back to none, and then returns the worker to the idle
// list. So the worker's last touch of a call is a store to its own assignment word, which lives
// as long as the pool: after it, the caller may return and destroy the task.
constexpr std::uintptr_t unassigned = 0;
constexpr std::uintptr_t task_running = 1;
constexpr std::uintptr_t task_done = 2;
constexpr std::uintptr_t first_task = 3;  // every task address is above the states

// How long an idle worker (and a caller waiting for its helpers) spins before it sleeps:
// long enough that back-to-back calls never pay for a wake-up, short enough to be invisible
// to anyone measuring idle CPU.
constexpr auto spin_time = std::chrono::microseconds(200);

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#endif
}

/// Spins on `value` until pred(value) holds or the spin time is over; returns the last value.
template <class T, class Pred>
T spin_until(const std::atomic<T>& value, Pred pred) noexcept {
  T v = value.load(std::memory_order_acquire);
  if (pred(v)) return v;
  const auto give_up = std::chrono::steady_clock::now() + spin_time;
  for (unsigned i = 1;; ++i) {
    cpu_relax();
    v = value.load(std::memory_order_acquire);
    if (pred(v)) return v;
    if (i % 64 == 0 && std::chrono::steady_clock::now() > give_up) return v;
  }
}

}  // namespace

struct alignas(64) thread_pool::worker {
  std::atomic<std::uintptr_t> assignment{unassigned};
  std::atomic<std::uint32_t> wake{0};  // bumped on every assignment; the futex a worker sleeps on
  unsigned index = 0;                   // its place in the team it is assigned to
  std::thread thread;

  void assign(std::uintptr_t task) noexcept {
    assignment.store(task, std::memory_order_release);
    wake.fetch_add(1, std::memory_order_release);
    wake.notify_one();
  }
};

thread_pool& thread_pool::instance() {
  // Never destroyed: see thread_pool.hpp. Reachable from here, so leak checkers stay quiet.
  static thread_pool* const pool = new thread_pool();
  return *pool;
}

void thread_pool::work(worker& w) noexcept {
  // A new thread inherits the mask of whichever thread started it; a caller's pin is its own.
  unpin_to_process_cpus();
  for (;;) {
    const std::uint32_t seen = w.wake.load(std::memory_order_acquire);
    std::uintptr_t s = spin_until(w.assignment, [](std::uintptr_t v) { return v >= first_task; });
    if (s < first_task) {
      w.wake.wait(seen, std::memory_order_acquire);
      continue;
    }
    // The caller may take the assignment back if it finished the work alone; whoever wins
    // this exchange decides whether the task sees this worker at all.
    if (!w.assignment.compare_exchange_strong(s, task_running, std::memory_order_acq_rel)) continue;
    reinterpret_cast<team_task*>(s)->participate(w.index);
    // The last touch of the call: from here on its caller may return.
    w.assignment.store(task_done, std::memory_order_release);
    w.assignment.notify_all();
  }
}

void thread_pool::run(team_task& task, int helpers) {
  const auto token = reinterpret_cast<std::uintptr_t>(&task);
  constexpr std::size_t inline_helpers = 16;
  worker* inline_team[inline_helpers];
  std::vector<worker*> big_team;
  worker** team = inline_team;
  auto wanted = static_cast<std::size_t>(helpers);
  if (wanted > inline_helpers) {
    big_team.resize(wanted);
    team = big_team.data();
  }

  std::size_t recruited = 0, woken = 0;
  {
    std::lock_guard lock(mutex_);
    for (; recruited < wanted && !idle_.empty(); ++recruited) {
      team[recruited] = idle_.back();
      idle_.pop_back();
    }
    woken = recruited;
    // Grow the pool while it is smaller than this call asks for; callers that run at the
    // same time share the workers instead, so the pool stays bounded.
    const std::size_t limit = static_cast<std::size_t>(max_threads - 1);
    for (; recruited < wanted && workers_.size() < std::min(wanted, limit); ++recruited) {
      try {
        auto w = std::make_unique<worker>();
        w->index = static_cast<unsigned>(recruited + 1);
        w->assignment.store(token, std::memory_order_relaxed);
        worker* raw = w.get();
        workers_.reserve(workers_.size() + 1);
        w->thread = std::thread([this, raw] { work(*raw); });
        team[recruited] = raw;
        workers_.push_back(std::move(w));
      } catch (...) {
        // Out of threads or memory: the call runs with the helpers it has (the caller alone at
        // worst), which is always correct.
        break;
      }
    }
  }
  for (std::size_t i = 0; i < woken; ++i) {
    team[i]->index = static_cast<unsigned>(i + 1);  // published by assign's release store
    team[i]->assign(token);
  }

  task.participate(0);

  // Helpers that have not started yet are not needed any more: take them back, so the caller
  // never waits for a sleeping thread to wake up just to find nothing left to do. Then wait
  // for the ones that started, and return every helper to the idle list.
  for (std::size_t i = 0; i < recruited; ++i) {
    std::atomic<std::uintptr_t>& assignment = team[i]->assignment;
    std::uintptr_t expected = token;
    if (assignment.compare_exchange_strong(expected, unassigned, std::memory_order_acq_rel))
      continue;
    auto finished = [](std::uintptr_t v) { return v == task_done; };
    for (std::uintptr_t v; !finished(v = spin_until(assignment, finished));) {
      assignment.wait(v, std::memory_order_acquire);
    }
    PARMAP_ASSERT(assignment.load(std::memory_order_relaxed) == task_done);
    assignment.store(unassigned, std::memory_order_relaxed);
  }
  if (recruited != 0) {
    std::lock_guard lock(mutex_);
    idle_.insert(idle_.end(), team, team + recruited);
  }
}

}  // namespace parmap::detail
