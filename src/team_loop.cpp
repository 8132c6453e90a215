#include "team_loop.hpp"

#include <algorithm>

namespace parmap::detail {

team_loop::team_loop(const loop& lp) : lp_(lp), slots_(static_cast<std::size_t>(lp.threads)) {
  if (lp.schedule != schedule::automatic) return;
  if (slots_ > inline_blocks) {
    heap_ = std::make_unique<block[]>(slots_);
    blocks_ = heap_.get();
  }
  for (std::size_t s = 0; s < slots_; ++s) {
    blocks_[s].next.store(slot_begin(s), std::memory_order_relaxed);
    blocks_[s].end = slot_begin(s + 1);
  }
  if (lp.chunk != 0) {
    grain_big_ = grain_small_ = lp.chunk;
  } else {
    // Few, large claims while the blocks stay balanced (uniform work costs ~8 claims per
    // thread); small ones once someone is idle, so uneven work still ends together.
    grain_big_ = std::max<std::size_t>(lp.size / slots_ / 8, 1);
    grain_small_ = std::max<std::size_t>(lp.size / slots_ / 64, 1);
  }
}

std::size_t team_loop::slot_begin(std::size_t slot) const noexcept {
  const std::size_t base = lp_.size / slots_, extra = lp_.size % slots_;
  return slot * base + std::min(slot, extra);
}

void team_loop::work() noexcept {
  place_thread(lp_.placement, arrivals_.fetch_add(1, std::memory_order_relaxed));
  switch (lp_.schedule) {
    case schedule::automatic: return work_automatic();
    case schedule::static_: return work_static();
    case schedule::dynamic: return work_dynamic();
    case schedule::guided: return work_guided();
  }
}

void team_loop::drain(block& b) noexcept {
  while (!lp_.state->halted(b.next.load(std::memory_order_relaxed))) {
    const std::size_t grain = hungry_.load(std::memory_order_relaxed) ? grain_small_ : grain_big_;
    const std::size_t begin = b.next.fetch_add(grain, std::memory_order_relaxed);
    if (begin >= b.end) return;
    lp_.run(begin, std::min(b.end, begin + grain));
  }
}

void team_loop::work_automatic() noexcept {
  // Home blocks are taken in arrival order; a block nobody arrived for is taken like a home.
  std::size_t home = slots_;
  for (std::size_t s; (s = next_slot_.fetch_add(1, std::memory_order_relaxed)) < slots_;) {
    if (home == slots_) home = s;
    drain(blocks_[s]);
  }
  if (home == slots_) home = 0;
  hungry_.store(true, std::memory_order_relaxed);
  for (std::size_t v = 1; v <= slots_; ++v) drain(blocks_[(home + v) % slots_]);
}

void team_loop::work_static() noexcept {
  // OpenMP's schedule(static, chunk): chunk j belongs to slot j % slots, decided up front.
  const std::size_t chunk = lp_.static_chunk();
  const std::size_t chunks = chunk_count(lp_.size, chunk);
  for (std::size_t s; (s = next_slot_.fetch_add(1, std::memory_order_relaxed)) < slots_;) {
    for (std::size_t j = s; j < chunks && !lp_.state->halted(j * chunk); j += slots_) {
      lp_.run(j * chunk, std::min(lp_.size, (j + 1) * chunk));
    }
  }
}

void team_loop::work_dynamic() noexcept {
  const std::size_t chunk = lp_.chunk_or_default();
  while (!lp_.state->halted(next_item_.load(std::memory_order_relaxed))) {
    const std::size_t begin = next_item_.fetch_add(chunk, std::memory_order_relaxed);
    if (begin >= lp_.size) return;
    lp_.run(begin, std::min(lp_.size, begin + chunk));
  }
}

void team_loop::work_guided() noexcept {
  // Claims of about remaining / (2 * threads), never below the chunk (default 1).
  const std::size_t least = std::max<std::size_t>(lp_.chunk, 1);
  const std::size_t divisor = 2 * slots_;
  std::size_t begin = next_item_.load(std::memory_order_relaxed);
  while (begin < lp_.size && !lp_.state->halted(begin)) {
    const std::size_t take = std::max(least, (lp_.size - begin + divisor - 1) / divisor);
    const std::size_t end = std::min(lp_.size, begin + take);
    if (next_item_.compare_exchange_weak(begin, end, std::memory_order_relaxed)) {
      lp_.run(begin, end);
      begin = next_item_.load(std::memory_order_relaxed);
    }
  }
}

}  // namespace parmap::detail
