#pragma once
// Thread pinning for options::placement, shared by every backend.

#include "parmap/options.hpp"

namespace parmap::detail {

/// Pins the calling thread to the CPU that `placement` gives the call's participant number
/// `index` (any non-negative number; it wraps around the usable CPUs). With placement::none,
/// undoes an earlier pin of this thread. Remembers each thread's pin, so a repeated request
/// costs no system call.
void place_thread(placement where, unsigned index) noexcept;

}  // namespace parmap::detail
