#pragma once
// Thread pinning for options::placement, shared by every backend.
//
// A thread parmap pins remembers the mask it had before, and every pin is undone when the
// thread's part of the call ends: the caller gets back exactly its own mask (also when fn
// throws), and the threads of the pool, of OpenMP and of oneTBB go back to what they were, so
// the user's own parallel code never runs on threads parmap left pinned.

#include "parmap/options.hpp"

namespace parmap::detail {

/// thread_placement() of a thread that parmap has not pinned.
inline constexpr int not_pinned = -1;

/// Pins the calling thread to the CPU that `where` gives the call's participant number `index`
/// (any non-negative number; it wraps around the process's CPUs), remembering the thread's mask
/// from before its first pin. With placement::none, undoes parmap's pin of this thread, if any.
/// A repeated request costs no system call.
void place_thread(placement where, unsigned index) noexcept;

/// The CPU parmap pinned the calling thread to, or not_pinned.
[[nodiscard]] int thread_placement() noexcept;

/// Returns the calling thread to `previous`, a value thread_placement() gave earlier: pinned to
/// that CPU again, or (not_pinned) back on the mask it had before parmap pinned it.
void restore_placement(int previous) noexcept;

/// Restores the calling thread's placement at the end of a scope (its part of one call), with
/// or without a placement: a nested call without one unpins the thread (place_thread(none)),
/// and the outer call's pin must come back after it.
class placement_scope {
 public:
  placement_scope() noexcept : previous_(thread_placement()) {}
  ~placement_scope() { restore_placement(previous_); }
  placement_scope(const placement_scope&) = delete;
  placement_scope& operator=(const placement_scope&) = delete;

 private:
  const int previous_;
};

}  // namespace parmap::detail
