#pragma once
// oneTBB task_arenas for the tbb and stdpar backends, so that `threads = k` means at most k
// threads in the call. Arenas are made once per calling thread and thread count, not per call,
// and released when their thread ends.
//
// A good guest in a program that uses TBB itself: after a call, the user's own TBB code sees
// the global_control values it set (parmap's raise of the thread limit lasts only while a
// call that needs it runs). (A placement's pins end with each chunk: backends/tbb.cpp.)

#include <tbb/global_control.h>
#include <tbb/task_arena.h>

#include <memory>

#include "parmap/options.hpp"

namespace parmap::detail {

struct thread_arena;

/// One call's use of an arena: the calling thread's arena of exactly `threads` slots (one
/// reserved for this thread, so entering never waits for threads that may themselves wait for
/// this caller), with TBB's thread limit raised for the call when `threads` exceeds it.
class arena_lease {
 public:
  explicit arena_lease(int threads);
  ~arena_lease();
  arena_lease(const arena_lease&) = delete;
  arena_lease& operator=(const arena_lease&) = delete;

  [[nodiscard]] tbb::task_arena& arena() noexcept { return *arena_; }

 private:
  // Declared first, destroyed last: the limit outlives the arena's use. Made and dropped
  // through limit_raise (tbb_arenas.cpp), never directly.
  tbb::global_control* raised_limit_ = nullptr;
  // For calls made while the calling thread ends (its arenas are gone): an arena of its own.
  std::unique_ptr<thread_arena> one_off_;
  tbb::task_arena* arena_ = nullptr;
};

}  // namespace parmap::detail
