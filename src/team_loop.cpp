#include "team_loop.hpp"

#include <algorithm>
#include <chrono>

namespace parmap::detail {

namespace {

constexpr std::uint64_t pack(std::size_t next, std::size_t end) noexcept {
  return static_cast<std::uint64_t>(next) | (static_cast<std::uint64_t>(end) << 32);
}
constexpr std::size_t next_of(std::uint64_t r) noexcept { return r & 0xffffffffu; }
constexpr std::size_t end_of(std::uint64_t r) noexcept { return r >> 32; }

}  // namespace

team_loop::team_loop(const chunked_call& call)
    : call_(call), places_(static_cast<std::size_t>(call.threads)) {
  if (call.schedule != schedule::automatic || call.size > max_stealing_size) return;
  if (places_ > inline_ranges) {
    heap_ = std::make_unique<owned_range[]>(places_);
    ranges_ = heap_.get();
  }
  for (std::size_t s = 0; s < places_; ++s) {
    ranges_[s].range.store(pack(place_begin(s), place_begin(s + 1)), std::memory_order_relaxed);
  }
  if (call.chunk != 0) {
    grain_big_ = grain_small_ = call.chunk;
  } else {
    // Costly items: balance is worth many small claims; cheap items: a few large ones per
    // thread (see run_own and chunking.hpp).
    grain_big_ = chunking::largest_claim(call.size / places_);
    grain_small_ = chunking::smallest_claim(call.size / places_);
  }
}

std::size_t team_loop::place_begin(std::size_t place) const noexcept {
  const std::size_t base = call_.size / places_, extra = call_.size % places_;
  return place * base + std::min(place, extra);
}

void team_loop::work(unsigned participant, unsigned team_size) noexcept {
  const placement_scope placed;
  place_thread(call_.placement, participant);
  switch (call_.schedule) {
    case schedule::automatic: return work_automatic(participant, team_size);
    case schedule::static_: return work_static(participant);
    case schedule::dynamic: return work_dynamic(participant);
    case schedule::guided: return work_guided(participant);
  }
}

void team_loop::run_own(owned_range& d, std::size_t& grain, std::size_t participant) noexcept {
  std::uint64_t r = d.range.load(std::memory_order_relaxed);
  for (;;) {
    const std::size_t next = next_of(r), end = end_of(r);
    if (next >= end) return;
    std::size_t take = grain == 0 ? grain_small_ : grain;
    // Once robbed, claims also halve with what is left, so everyone ends together.
    if (d.robbed.load(std::memory_order_relaxed)) {
      take = std::min(take, std::max(grain_small_, (end - next) / 2));
    }
    take = std::min(take, end - next);
    if (!d.range.compare_exchange_weak(r, pack(next + take, end), std::memory_order_relaxed)) {
      continue;  // a thief moved the end: look again
    }
    if (call_.state->halted(next)) return;
    if (grain != 0) {
      call_.run(next, next + take, participant);
    } else {
      // The first claim is small and timed: items that cost more than a claim's overhead
      // many times over keep small claims (balance is then worth it); cheap items get
      // claims large enough to cost about chunking::claim_target_ns each, up to grain_big_.
      const auto t0 = std::chrono::steady_clock::now();
      call_.run(next, next + take, participant);
      const double ns = std::chrono::duration<double, std::nano>(
                            std::chrono::steady_clock::now() - t0).count();
      grain = chunking::timed_claim(std::max(ns, 1.0) / static_cast<double>(take), grain_small_,
                                    grain_big_);
      d.grain.store(grain, std::memory_order_relaxed);
    }
    r = d.range.load(std::memory_order_relaxed);
  }
}

bool team_loop::steal_into(owned_range& mine, std::size_t home,
                           bool owners_may_be_missing) noexcept {
  for (std::size_t v = 1; v < places_; ++v) {
    owned_range& victim = ranges_[(home + v) % places_];
    std::uint64_t r = victim.range.load(std::memory_order_relaxed);
    for (;;) {
      const std::size_t next = next_of(r), end = end_of(r);
      if (next >= end) break;
      const bool absent = owners_may_be_missing && !victim.arrived.load(std::memory_order_relaxed);
      // A leftover under half its owner's claim stays there: with cheap items, the cache
      // traffic of a theft costs more than the items. An owner that may never come loses all.
      const std::size_t left = end - next;
      const std::size_t owners_grain = victim.grain.load(std::memory_order_relaxed);
      if (!absent && left <= (owners_grain == 0 ? grain_small_ : owners_grain) / 2) break;
      const std::size_t keep = absent ? 0 : left / 2;
      if (!victim.range.compare_exchange_weak(r, pack(next, next + keep),
                                              std::memory_order_relaxed)) {
        continue;
      }
      if (!absent && !victim.robbed.load(std::memory_order_relaxed)) {
        victim.robbed.store(true, std::memory_order_relaxed);
      }
      // Only this thread writes its own owned_range while it is empty: thieves leave empty ones.
      mine.range.store(pack(next + keep, end), std::memory_order_relaxed);
      mine.robbed.store(false, std::memory_order_relaxed);
      return true;
    }
  }
  return false;
}

void team_loop::work_automatic(std::size_t participant, std::size_t team_size) noexcept {
  if (call_.size > max_stealing_size) return work_dynamic(participant);
  // A participant owns the owned_range of its place in the team (and, in a team known to be smaller
  // than the owned ranges, every team_size-th one after it).
  const std::size_t home = participant % places_;
  owned_range& mine = ranges_[home];
  mine.arrived.store(true, std::memory_order_relaxed);
  // With a chunk set by the user, claims are that chunk; else the first claim is timed.
  std::size_t grain = call_.chunk != 0 ? call_.chunk : 0;
  if (team_size != 0) {
    for (std::size_t s = home + team_size; s < places_; s += team_size) {
      run_own(ranges_[s], grain, participant);
    }
  }
  do {
    run_own(mine, grain, participant);
  } while (steal_into(mine, home, team_size == 0));
}

void team_loop::work_static(std::size_t participant) noexcept {
  // OpenMP's schedule(static, chunk): chunk j belongs to place j % places, decided up front.
  const std::size_t chunk = call_.static_chunk();
  const std::size_t chunks = chunk_count(call_.size, chunk);
  for (std::size_t s; (s = next_place_.fetch_add(1, std::memory_order_relaxed)) < places_;) {
    for (std::size_t j = s; j < chunks && !call_.state->halted(j * chunk); j += places_) {
      call_.run(j * chunk, std::min(call_.size, (j + 1) * chunk), participant);
    }
  }
}

void team_loop::work_dynamic(std::size_t participant) noexcept {
  const std::size_t chunk = call_.chunk_or_default();
  while (!call_.state->halted(next_item_.load(std::memory_order_relaxed))) {
    const std::size_t begin = next_item_.fetch_add(chunk, std::memory_order_relaxed);
    if (begin >= call_.size) return;
    call_.run(begin, std::min(call_.size, begin + chunk), participant);
  }
}

void team_loop::work_guided(std::size_t participant) noexcept {
  // Claims of about remaining / (2 * threads), never below the chunk (default 1).
  const std::size_t least = std::max<std::size_t>(call_.chunk, 1);
  const std::size_t divisor = 2 * places_;
  std::size_t begin = next_item_.load(std::memory_order_relaxed);
  while (begin < call_.size && !call_.state->halted(begin)) {
    const std::size_t take = std::max(least, (call_.size - begin + divisor - 1) / divisor);
    const std::size_t end = std::min(call_.size, begin + take);
    if (next_item_.compare_exchange_weak(begin, end, std::memory_order_relaxed)) {
      call_.run(begin, end, participant);
      begin = next_item_.load(std::memory_order_relaxed);
    }
  }
}

}  // namespace parmap::detail
