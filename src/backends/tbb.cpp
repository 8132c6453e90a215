// The oneTBB backend: tbb::parallel_for over blocked ranges in an arena of lp.threads slots.
// static -> static_partitioner, dynamic -> simple_partitioner (ranges of at most lp.chunk
// items), guided and automatic -> auto_partitioner.
#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/partitioner.h>

#include "backends/loop.hpp"
#include "tbb_arenas.hpp"

namespace parmap::detail {

void run_tbb(const loop& lp) {
  auto body = [&lp](const tbb::blocked_range<std::size_t>& r) {
    lp.enter();
    place_thread(lp.placement, static_cast<unsigned>(tbb::this_task_arena::current_thread_index()));
    lp.run(r.begin(), r.end());
    lp.leave();
  };
  auto run_with = [&](std::size_t grain, const auto& partitioner) {
    arena_lease lease(lp.threads, lp.placement);
    lease.arena().execute([&] {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, lp.size, grain), body, partitioner);
    });
  };
  switch (lp.schedule) {
    case schedule::static_:
      return run_with(lp.chunk != 0 ? lp.chunk : 1, tbb::static_partitioner());
    case schedule::dynamic:
      return run_with(lp.chunk_or_default(), tbb::simple_partitioner());
    case schedule::automatic:
    case schedule::guided:
      // The auto_partitioner splits on demand, down to a floor (chunking::tbb_grain).
      return run_with(chunking::tbb_grain(lp.size, static_cast<std::size_t>(lp.threads), lp.chunk),
                      tbb::auto_partitioner());
  }
}

}  // namespace parmap::detail
