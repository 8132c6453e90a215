#pragma once
// How a team of threads shares one call's chunks under a schedule, when the backend leaves the
// claiming to parmap (the thread pool, and OpenMP's automatic schedule). Each participant calls
// work() once; the calls together run every chunk exactly once, however many participants
// actually arrive (from 1 to call.threads).

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "backends/chunked_call.hpp"

namespace parmap::detail {

class team_loop {
 public:
  explicit team_loop(const chunked_call& call);
  team_loop(const team_loop&) = delete;
  team_loop& operator=(const team_loop&) = delete;

  /// Runs chunks until none is left that this participant may claim. `participant` is the
  /// caller's place in the team, in [0, call.threads): its home block and its CPU under a
  /// placement. `team_size` is how many participants surely arrive (an OpenMP team), or 0 when
  /// that is unknown (the pool's helpers may be taken back): then participants that never
  /// arrive are fine too, their work is claimed by others.
  void work(unsigned participant, unsigned team_size = 0) noexcept;

 private:
  // automatic: one range per participant, packed as (next, end) item indices in one 64-bit
  // word. Its owner claims from the front; an idle thief takes the back half of someone's
  // range in one exchange and makes it its own. Owner and thief touch the same cache line only
  // at the moment of a theft, so cheap items cost a few claims per thread, and uneven items
  // are split as often as they need.
  struct alignas(64) owned_range {
    std::atomic<std::uint64_t> range{0};
    std::atomic<bool> robbed{false};   // claims shrink once a thief has come
    std::atomic<bool> arrived{false};  // its owner has started
    std::atomic<std::size_t> grain{0};  // its owner's claim size, once timed
  };
  static constexpr std::size_t inline_ranges = 8;
  /// The largest call the automatic schedule splits into owned ranges; past it, it claims like
  /// dynamic (item indices must fit the 32-bit halves of a range).
  static constexpr std::size_t max_stealing_size = 0xffffffffu;

  [[nodiscard]] std::size_t place_begin(std::size_t place) const noexcept;
  void work_automatic(std::size_t participant, std::size_t team_size) noexcept;
  void work_static(std::size_t participant) noexcept;
  void work_dynamic(std::size_t participant) noexcept;
  void work_guided(std::size_t participant) noexcept;
  /// Runs the owner's claims of `d` until it is empty. `grain` is this participant's claim
  /// size: 0 until its first claim has been timed (see work_automatic).
  void run_own(owned_range& d, std::size_t& grain, std::size_t participant) noexcept;
  [[nodiscard]] bool steal_into(owned_range& mine, std::size_t home,
                                bool owners_may_be_missing) noexcept;

  const chunked_call& call_;
  const std::size_t places_;
  std::size_t grain_big_ = 1;    // automatic: the largest claim (cheap items)
  std::size_t grain_small_ = 1;  // automatic: the smallest claim, and the first, timed one
  alignas(64) std::atomic<std::size_t> next_place_{0};
  alignas(64) std::atomic<std::size_t> next_item_{0};
  owned_range inline_[inline_ranges];
  std::unique_ptr<owned_range[]> heap_;
  owned_range* ranges_ = inline_;
};

}  // namespace parmap::detail
