#pragma once
// How a team of threads shares one loop's chunks under a schedule, when the backend leaves the
// claiming to parmap (the thread pool, and OpenMP's automatic schedule). Each participant calls
// work() once; the calls together run every chunk exactly once, however many participants
// actually arrive (from 1 to lp.threads).

#include <atomic>
#include <cstddef>
#include <memory>

#include "backends/loop.hpp"

namespace parmap::detail {

class team_loop {
 public:
  explicit team_loop(const loop& lp);
  team_loop(const team_loop&) = delete;
  team_loop& operator=(const team_loop&) = delete;

  /// Runs chunks until none is left that this participant may claim.
  void work() noexcept;

 private:
  // One contiguous block per participant (automatic): its owner claims from the front, and
  // so do thieves once their own block is empty.
  struct alignas(64) block {
    std::atomic<std::size_t> next{0};
    std::size_t end = 0;
  };
  static constexpr std::size_t inline_blocks = 8;

  [[nodiscard]] std::size_t slot_begin(std::size_t slot) const noexcept;
  void work_automatic() noexcept;
  void work_static() noexcept;
  void work_dynamic() noexcept;
  void work_guided() noexcept;
  void drain(block& b) noexcept;

  const loop& lp_;
  const std::size_t slots_;
  std::size_t grain_big_ = 1;    // automatic: claims while nobody is idle
  std::size_t grain_small_ = 1;  // automatic: claims once a participant has run out of work
  alignas(64) std::atomic<unsigned> arrivals_{0};
  std::atomic<std::size_t> next_slot_{0};
  std::atomic<bool> hungry_{false};
  alignas(64) std::atomic<std::size_t> next_item_{0};
  block inline_[inline_blocks];
  std::unique_ptr<block[]> heap_;
  block* blocks_ = inline_;
};

}  // namespace parmap::detail
