// The serial backend: the calling thread runs every chunk in index order.
#include "backends/loop.hpp"

namespace parmap::detail {

void run_serial(const loop& lp) {
  const std::size_t chunk = lp.chunk_or_default();
  for (std::size_t begin = 0; begin < lp.size && !lp.state->halted(begin); begin += chunk) {
    lp.run(begin, std::min(lp.size, begin + chunk));
  }
}

}  // namespace parmap::detail
