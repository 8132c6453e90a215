// The serial backend: the calling thread runs every chunk in index order.
#include "backends/loop.hpp"

namespace parmap::detail {

void run_serial(const loop& lp) {
  // The caller is the call's only thread, participant 0; the front gives back its own mask.
  place_thread(lp.placement, 0);
  // One thread needs no scheduling: unless the user set a chunk or something watches the
  // chunks (stop, deadline, progress), the whole range is one chunk.
  const std::size_t chunk =
      lp.chunk == 0 && !lp.state->watched() ? lp.size : lp.chunk_or_default();
  for (std::size_t begin = 0; begin < lp.size && !lp.state->halted(begin); begin += chunk) {
    lp.run(begin, std::min(lp.size, begin + chunk));
  }
}

}  // namespace parmap::detail
