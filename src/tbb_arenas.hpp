#pragma once
// oneTBB task_arenas for the tbb and stdpar backends, so that `threads = k` means at most k
// threads in the call; arenas are made once per calling thread and thread count, not per call.

#include <tbb/task_arena.h>

namespace parmap::detail {

/// The calling thread's arena of exactly `threads` slots (one reserved for this thread). Raises
/// TBB's global thread limit when `threads` exceeds it, so oversubscription gets its threads.
tbb::task_arena& arena_for(int threads);

/// How many tbb or stdpar chunks this thread is running: a call made while it is non-zero is
/// nested in one. (TBB's own thread index cannot tell: a thread that has used TBB once stays
/// attached to the default arena.)
inline thread_local int chunks_running = 0;

/// Marks the running of one chunk of a tbb or stdpar call on this thread.
class chunk_scope {
 public:
  chunk_scope() noexcept { ++chunks_running; }
  ~chunk_scope() { --chunks_running; }
  chunk_scope(const chunk_scope&) = delete;
  chunk_scope& operator=(const chunk_scope&) = delete;
};

/// Runs f() with at most `threads` threads: in arena_for(threads), or, for a call nested in a
/// chunk that runs in an arena of no more than `threads` slots, right there. A nested call thus
/// only ever moves into a smaller arena: entering a larger one could wait for a slot held by
/// threads that are themselves waiting for this arena (3 -> 2 -> 3 threads deadlocked), and
/// moves that only go down cannot form such a cycle.
template <class F>
void run_in_arena(int threads, F&& f) {
  if (chunks_running > 0 && tbb::this_task_arena::max_concurrency() <= threads) {
    f();
    return;
  }
  arena_for(threads).execute(f);
}

}  // namespace parmap::detail
