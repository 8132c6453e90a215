#include "tbb_arenas.hpp"

#include <map>
#include <memory>
#include <mutex>

#include <tbb/global_control.h>

namespace parmap::detail {
namespace {

/// Lets TBB start `threads` threads even where that is more than the CPUs.
void allow_parallelism(int threads) {
  static std::mutex mutex;
  static std::unique_ptr<tbb::global_control> limit;
  static int limit_value = 0;
  std::lock_guard lock(mutex);
  const auto allowed = static_cast<int>(
      tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
  if (threads > allowed && threads > limit_value) {
    // The newest control must exist before the old one goes, or the limit drops back.
    auto raised = std::make_unique<tbb::global_control>(
        tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
    limit = std::move(raised);
    limit_value = threads;
  }
}

}  // namespace

tbb::task_arena& arena_for(int threads) {
  // Each calling thread has arenas of its own: their one reserved slot is always free for it,
  // so entering never waits for threads that may themselves be waiting for this caller (a
  // thread of an OpenMP team inside a TBB chunk, say). TBB's worker threads are shared by all
  // arenas and bounded by the global limit, so this adds no threads.
  thread_local std::map<int, std::unique_ptr<tbb::task_arena>> arenas;
  auto& arena = arenas[threads];
  if (!arena) {
    allow_parallelism(threads);
    arena = std::make_unique<tbb::task_arena>(threads, 1);
    arena->initialize();
  }
  return *arena;
}

}  // namespace parmap::detail
