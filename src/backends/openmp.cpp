// The OpenMP backend: one parallel region of call.threads threads. Explicit schedules map to
// OpenMP's own over chunks of call.chunk items; automatic uses parmap's team_loop inside the
// region. Nested calls run their inner region on one thread unless the user enables OpenMP
// nesting (OMP_MAX_ACTIVE_LEVELS), which is OpenMP's rule.
#include <omp.h>

#include "team_loop.hpp"

namespace parmap::detail {
namespace {

/// One thread's share of the region. Runs as an orphaned worksharing loop.
void run_thread(const chunked_call& call, team_loop& team, std::size_t chunk, std::size_t chunks,
                void* sync) noexcept {
  tsan_acquire(sync);  // before the first look at the caller's data
  if (call.schedule == schedule::automatic) {
    // Everyone in an OpenMP team arrives: blocks are owned by the team's actual threads.
    team.work(static_cast<unsigned>(omp_get_thread_num()),
              static_cast<unsigned>(omp_get_num_threads()));  // places the thread itself
  } else {
    // OpenMP's threads are the user's too: whatever a placement pins ends with the region.
    const placement_scope placed;
    const auto me = static_cast<unsigned>(omp_get_thread_num());
    place_thread(call.placement, me);
    auto run_chunk = [&](std::size_t j) {
      call.run(j * chunk, std::min(call.size, (j + 1) * chunk), me);
    };
    // Each loop ends with nowait: the region's own closing barrier is the only join needed.
    switch (call.schedule) {
      case schedule::static_:
#pragma omp for schedule(static, 1) nowait
        for (std::size_t j = 0; j < chunks; ++j) run_chunk(j);
        break;
      case schedule::dynamic:
#pragma omp for schedule(dynamic, 1) nowait
        for (std::size_t j = 0; j < chunks; ++j) run_chunk(j);
        break;
      default:
#pragma omp for schedule(guided, 1) nowait
        for (std::size_t j = 0; j < chunks; ++j) run_chunk(j);
        break;
    }
  }
  tsan_release(sync);
}

}  // namespace

PARMAP_NO_TSAN void run_openmp(const chunked_call& call) {
  std::size_t chunk = 0;
  switch (call.schedule) {
    case schedule::automatic: break;
    case schedule::static_: chunk = call.static_chunk(); break;
    case schedule::dynamic: chunk = call.chunk_or_default(); break;
    case schedule::guided:
      // Guided over small units: OpenMP hands out shrinking runs of them.
      chunk = chunking::guided_unit(call.size, static_cast<std::size_t>(call.threads), call.chunk);
      break;
  }
  const std::size_t chunks = chunk == 0 ? 0 : chunk_count(call.size, chunk);
  team_loop team(call);
  void* const sync = call.state;
  tsan_release(sync);
#pragma omp parallel num_threads(call.threads)
  run_thread(call, team, chunk, chunks, sync);
  tsan_acquire(sync);
}

}  // namespace parmap::detail
