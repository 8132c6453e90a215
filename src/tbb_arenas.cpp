#include "tbb_arenas.hpp"

#include <tbb/info.h>

#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

#include "parmap/detail/assert.hpp"

namespace parmap::detail {

struct thread_arena {
  explicit thread_arena(int threads) : arena(threads, 1) { arena.initialize(); }
  tbb::task_arena arena;
};

namespace {

/// The arenas of one calling thread, by thread count.
using thread_arenas = std::map<int, std::unique_ptr<thread_arena>>;

// Plain thread_locals (trivially destructible) stay readable while the thread ends; the
// releaser below frees the arenas then. A call made after that (from a static destructor of
// the main thread, say) finds `arenas_released` and uses a one-off arena.
thread_local thread_arenas* arenas = nullptr;
thread_local bool arenas_released = false;

struct arenas_releaser {
  bool armed = false;
  ~arenas_releaser() {
    delete arenas;
    arenas = nullptr;
    arenas_released = true;
  }
};
thread_local arenas_releaser release_arenas_at_thread_exit;

thread_arena* find_or_make(int threads) {
  if (arenas_released) return nullptr;
  if (arenas == nullptr) {
    arenas = new thread_arenas();
    release_arenas_at_thread_exit.armed = true;  // its destructor frees `arenas`
  }
  auto& entry = (*arenas)[threads];
  if (!entry) entry = std::make_unique<thread_arena>(threads);
  return entry.get();
}

/// Raising and dropping TBB's thread limit, safely while the process exits. libtbb's
/// global_control bookkeeping is made of static objects that exit destroys, while other
/// threads may still be making calls; a global_control made or destroyed after that crashes.
/// So the first raise registers an exit handler, which runs before libtbb's statics are
/// destroyed (they were made earlier): from then on no limit is made, and a raise still held
/// by a running call is left in place rather than destroyed. One lock orders the two, and is
/// held only while a control is made or destroyed (microseconds), never for a call.
class limit_raise {
 public:
  static tbb::global_control* make(std::size_t threads) {
    state& s = the_state();
    std::lock_guard lock(s.mutex);
    if (s.exiting) return nullptr;
    static const bool registered = std::atexit(on_exit) == 0;
    if (!registered) return nullptr;  // without the handler, exit could not be made safe
    return new tbb::global_control(tbb::global_control::max_allowed_parallelism, threads);
  }
  static void drop(tbb::global_control* control) noexcept {
    if (control == nullptr) return;
    state& s = the_state();
    std::lock_guard lock(s.mutex);
    if (!s.exiting) {
      delete control;
      return;
    }
    try {
      s.parked.push_back(control);  // kept reachable: the process is ending anyway
    } catch (...) {
    }
  }

 private:
  struct state {
    std::mutex mutex;
    bool exiting = false;                      // guarded by mutex
    std::vector<tbb::global_control*> parked;  // guarded by mutex; raises left at exit
  };
  static state& the_state() {
    static state* const s = new state();  // never destroyed: used during exit
    return *s;
  }
  static void on_exit() noexcept {
    state& s = the_state();
    std::lock_guard lock(s.mutex);
    s.exiting = true;
  }
};

/// TBB's own thread limit when nobody has set one: what oneTBB finds usable (it reads the
/// affinity mask and the cgroup quota itself).
int tbb_default_parallelism() {
  static const int n = tbb::info::default_concurrency();
  return n;
}

}  // namespace

arena_lease::arena_lease(int threads) {
  PARMAP_ASSERT(threads >= 1);
  // Only a call that wants more threads than TBB starts by default raises the limit, and only
  // while it runs. TBB keeps the smallest of all live limits, so a lower one the user set
  // still wins.
  if (threads > tbb_default_parallelism()) {
    raised_limit_ = limit_raise::make(static_cast<std::size_t>(threads));
  }
  try {
    thread_arena* mine = find_or_make(threads);
    if (mine == nullptr) {
      one_off_ = std::make_unique<thread_arena>(threads);
      mine = one_off_.get();
    }
    arena_ = &mine->arena;
  } catch (...) {
    limit_raise::drop(raised_limit_);  // no destructor runs for a lease that was never made
    throw;
  }
}

arena_lease::~arena_lease() {
  one_off_.reset();
  limit_raise::drop(raised_limit_);
}

}  // namespace parmap::detail
