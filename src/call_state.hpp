#pragma once
// One call in flight on a backend: the type-erased body that runs a chunk's items, and the
// call's rules (detail/call_rules.hpp). Every backend runs chunks through run_chunk, so all
// share one contract.

#include <cstddef>
#include <exception>

#include "parmap/detail/call_rules.hpp"
#include "parmap/detail/execute.hpp"

namespace parmap::detail {

class call_state {
 public:
  call_state(const options& opt, std::size_t size, chunk_body body, void* ctx) noexcept
      : rules_(opt, size), body_(body), ctx_(ctx) {}
  call_state(const call_state&) = delete;
  call_state& operator=(const call_state&) = delete;

  /// Runs items [begin, end) if the rules let a chunk start there, then counts them done.
  void run_chunk(std::size_t begin, std::size_t end) noexcept {
    if (!rules_.may_start(begin)) return;
    body_(ctx_, begin, end, *this);
    rules_.finished(end - begin, end - 1);
  }

  [[nodiscard]] call_rules& rules() noexcept { return rules_; }
  [[nodiscard]] const call_rules& rules() const noexcept { return rules_; }

  /// See call_rules::halted.
  [[nodiscard]] bool halted(std::size_t begin) const noexcept { return rules_.halted(begin); }
  /// See call_rules::watched.
  [[nodiscard]] bool watched() const noexcept { return rules_.watched(); }

 private:
  call_rules rules_;
  const chunk_body body_;
  void* const ctx_;
};

}  // namespace parmap::detail
