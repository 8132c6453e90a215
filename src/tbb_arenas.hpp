#pragma once
// One oneTBB task_arena per thread count, shared by the tbb and stdpar backends, so that
// `threads = k` means at most k threads in the call, and arenas are made once, not per call.

#include <tbb/task_arena.h>

namespace parmap::detail {

/// The arena of exactly `threads` slots (one reserved for the calling thread). Raises TBB's
/// global thread limit when `threads` exceeds it, so oversubscription really gets its threads.
tbb::task_arena& arena_for(int threads);

}  // namespace parmap::detail
