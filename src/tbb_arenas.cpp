#include "tbb_arenas.hpp"

#include <map>
#include <memory>
#include <mutex>

#include <tbb/global_control.h>

namespace parmap::detail {

tbb::task_arena& arena_for(int threads) {
  static std::mutex mutex;
  static std::map<int, std::unique_ptr<tbb::task_arena>> arenas;
  static std::unique_ptr<tbb::global_control> limit;
  static int limit_value = 0;

  std::lock_guard lock(mutex);
  auto& arena = arenas[threads];
  if (!arena) {
    const auto allowed = static_cast<int>(
        tbb::global_control::active_value(tbb::global_control::max_allowed_parallelism));
    if (threads > allowed && threads > limit_value) {
      // The newest control must exist before the old one goes, or the limit drops back.
      auto raised = std::make_unique<tbb::global_control>(
          tbb::global_control::max_allowed_parallelism, static_cast<std::size_t>(threads));
      limit = std::move(raised);
      limit_value = threads;
    }
    arena = std::make_unique<tbb::task_arena>(threads, 1);
    arena->initialize();
  }
  return *arena;
}

}  // namespace parmap::detail
