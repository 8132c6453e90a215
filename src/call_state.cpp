#include "call_state.hpp"

namespace parmap::detail {

void record_error(call_state& state, std::size_t index) noexcept {
  state.rules().fail(index, std::current_exception());
}

}  // namespace parmap::detail
