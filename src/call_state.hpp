#pragma once
// One call in flight on a backend: the type-erased body that runs a chunk's items, and the
// call's rules (detail/call_rules.hpp). Every backend runs chunks through run_chunk, so all
// share one contract.

#include <cstddef>
#include <exception>

#include "parmap/detail/call_recorder.hpp"
#include "parmap/detail/call_rules.hpp"
#include "parmap/detail/execute.hpp"

namespace parmap::detail {

class call_state {
 public:
  /// A call of `size` items on `threads` threads, as `p` and `opt` say.
  call_state(const plan& p, const options& opt, int threads, std::size_t size, chunk_body body,
             void* ctx)
      : rules_(opt, size),
        recorder_(opt.report, p.backend, p.schedule, threads, p.chunk),
        body_(body),
        ctx_(ctx) {}
  call_state(const call_state&) = delete;
  call_state& operator=(const call_state&) = delete;

  /// Runs items [begin, end) if the rules let a chunk start there, then counts them done.
  /// `participant` is the running thread's number in the call, in [0, threads): the pool's
  /// participant, OpenMP's thread number, TBB's arena slot.
  void run_chunk(std::size_t begin, std::size_t end, std::size_t participant) noexcept {
    if (!rules_.may_start(begin)) return;
    if (recorder_.on()) {
      (void)recorder_.timed(participant, [&] { return body_(ctx_, begin, end, *this); });
    } else {
      (void)body_(ctx_, begin, end, *this);
    }
    rules_.finished(end - begin, end - 1);
  }

  [[nodiscard]] call_rules& rules() noexcept { return rules_; }
  [[nodiscard]] const call_rules& rules() const noexcept { return rules_; }
  [[nodiscard]] call_recorder& recorder() noexcept { return recorder_; }

  /// See call_rules::halted.
  [[nodiscard]] bool halted(std::size_t begin) const noexcept { return rules_.halted(begin); }
  /// See call_rules::watched.
  [[nodiscard]] bool watched() const noexcept { return rules_.watched(); }

 private:
  call_rules rules_;
  call_recorder recorder_;
  const chunk_body body_;
  void* const ctx_;
};

}  // namespace parmap::detail
