// The OpenMP backend: an OpenMP parallel region of lp.threads threads. Explicit schedules map to
// OpenMP's own, over chunks of lp.chunk items; automatic uses parmap's team_loop inside the
// region. Nested calls run their inner region on one thread unless the user enables OpenMP
// nesting (OMP_MAX_ACTIVE_LEVELS), which is OpenMP's rule.
#include <omp.h>

#include "team_loop.hpp"

namespace parmap::detail {

void run_openmp(const loop& lp) {
  const int threads = lp.threads;
  switch (lp.schedule) {
    case schedule::automatic: {
      team_loop team(lp);
#pragma omp parallel num_threads(threads)
      team.work();
      return;
    }
    case schedule::static_: {
      const std::size_t chunk = lp.static_chunk(), chunks = chunk_count(lp.size, chunk);
#pragma omp parallel for num_threads(threads) schedule(static, 1)
      for (std::size_t j = 0; j < chunks; ++j) {
        lp.run(j * chunk, std::min(lp.size, (j + 1) * chunk));
      }
      return;
    }
    case schedule::dynamic: {
      const std::size_t chunk = lp.chunk_or_default(), chunks = chunk_count(lp.size, chunk);
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
      for (std::size_t j = 0; j < chunks; ++j) {
        lp.run(j * chunk, std::min(lp.size, (j + 1) * chunk));
      }
      return;
    }
    case schedule::guided: {
      // Guided over small units: OpenMP hands out shrinking runs of them.
      const std::size_t unit = lp.chunk != 0 ? lp.chunk
                                             : std::max<std::size_t>(
                                                   lp.size / (static_cast<std::size_t>(threads) * 64), 1);
      const std::size_t units = chunk_count(lp.size, unit);
#pragma omp parallel for num_threads(threads) schedule(guided, 1)
      for (std::size_t j = 0; j < units; ++j) {
        lp.run(j * unit, std::min(lp.size, (j + 1) * unit));
      }
      return;
    }
  }
}

}  // namespace parmap::detail
