#pragma once
// What fills a call_report (parmap/report.hpp), written once for every algorithm: execute's
// chunks, a stream's items, an MPI rank's local calls. Each of the call's threads adds its
// units of work under its own participant number; publish() writes the report on the calling
// thread once the work has ended. With options::report null it holds nothing and costs one
// branch per unit of work.

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>

#include "parmap/options.hpp"
#include "parmap/report.hpp"

namespace parmap::detail {

class call_recorder {
 public:
  using clock = std::chrono::steady_clock;

  /// Starts the wall clock of a call on backend `b` with `threads` participants, numbered
  /// [0, threads). `chunk_given` is options::chunk (0: automatic).
  call_recorder(call_report* out, parmap::backend b, parmap::schedule s, int threads,
                std::size_t chunk_given);
  call_recorder(const call_recorder&) = delete;
  call_recorder& operator=(const call_recorder&) = delete;

  /// Whether anything is recorded (options::report was set).
  [[nodiscard]] bool on() const noexcept { return out_ != nullptr; }

  /// Participant `who` ran one unit of work: `items` items completed in `busy`. Safe from any
  /// thread.
  void add(std::size_t who, std::size_t items, clock::duration busy) noexcept;

  /// Runs `work` (which returns the items it completed) as one unit of participant `who`,
  /// timed when recording. Returns what `work` returned.
  template <class Work>
  std::size_t timed(std::size_t who, Work&& work) {
    if (!on()) return work();
    const auto t0 = clock::now();
    const std::size_t items = work();
    add(who, items, clock::now() - t0);
    return items;
  }

  /// Adds everything `part` recorded (a sub-call's report: an MPI rank's chunk) to this call,
  /// participant by participant.
  void merge(const call_report& part) noexcept;

  /// Writes the report, from the calling thread, after every unit of work has ended: its wall
  /// time ends now. Does nothing when not recording. Never throws: without memory for the
  /// per-thread entries it leaves per_thread empty.
  void publish() noexcept;

 private:
  struct alignas(64) share {
    std::atomic<std::size_t> items{0};
    std::atomic<std::size_t> chunks{0};
    std::atomic<std::int64_t> busy_ns{0};
  };

  call_report* const out_;
  const parmap::backend backend_;
  const parmap::schedule schedule_;
  const std::size_t threads_;
  const std::size_t chunk_given_;
  const clock::time_point start_;
  std::unique_ptr<share[]> shares_;  // threads_ of them when recording
  std::atomic<std::size_t> merged_chunks_{0};
};

}  // namespace parmap::detail
