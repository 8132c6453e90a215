// The oneTBB backend: tbb::parallel_for over blocked ranges in an arena of call.threads slots.
// static -> static_partitioner, dynamic -> simple_partitioner (ranges of at most call.chunk
// items), guided and automatic -> auto_partitioner.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include "backends/chunked_call.hpp"
#include "tbb_arenas.hpp"

namespace parmap::detail {

void run_tbb(const chunked_call& call) {
  auto body = [&call](const tbb::blocked_range<std::size_t>& r) {
    call.enter();
    // TBB's workers are the user's too: whatever a placement pins ends with the chunk.
    const placement_scope placed;
    const auto slot = static_cast<unsigned>(tbb::this_task_arena::current_thread_index());
    place_thread(call.placement, slot);
    call.run(r.begin(), r.end(), slot);
    call.leave();
  };
  auto run_with = [&](std::size_t grain, const auto& partitioner) {
    arena_lease lease(call.threads);
    lease.arena().execute([&] {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, call.size, grain), body, partitioner);
    });
  };
  switch (call.schedule) {
    case schedule::static_:
      return run_with(call.chunk != 0 ? call.chunk : 1, tbb::static_partitioner());
    case schedule::dynamic:
      return run_with(call.chunk_or_default(), tbb::simple_partitioner());
    case schedule::automatic:
    case schedule::guided:
      // The auto_partitioner splits on demand, down to a floor (chunking::tbb_grain).
      return run_with(
          chunking::tbb_grain(call.size, static_cast<std::size_t>(call.threads), call.chunk),
          tbb::auto_partitioner());
  }
}

}  // namespace parmap::detail
