// The serial backend: the calling thread runs every chunk in index order.
#include "backends/chunked_call.hpp"

namespace parmap::detail {

void run_serial(const chunked_call& call) {
  // The caller is the call's only thread, participant 0; the front gives back its own mask.
  place_thread(call.placement, 0);
  // One thread needs no scheduling: unless the user set a chunk or something watches the
  // chunks (stop, deadline, progress), the whole range is one chunk.
  const std::size_t chunk =
      call.chunk == 0 && !call.state->watched() ? call.size : call.chunk_or_default();
  for (std::size_t begin = 0; begin < call.size && !call.state->halted(begin); begin += chunk) {
    call.run(begin, std::min(call.size, begin + chunk), 0);
  }
}

}  // namespace parmap::detail
