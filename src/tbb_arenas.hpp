#pragma once
// oneTBB task_arenas for the tbb and stdpar backends, so that `threads = k` means at most k
// threads in the call; arenas are made once per calling thread and thread count, not per call.

#include <tbb/task_arena.h>

namespace parmap::detail {

/// The calling thread's arena of exactly `threads` slots (one reserved for this thread). Raises
/// TBB's global thread limit when `threads` exceeds it, so oversubscription gets its threads.
tbb::task_arena& arena_for(int threads);

}  // namespace parmap::detail
