#pragma once
// Exceptions parmap throws on its own account (errors thrown by the user's function are
// rethrown unchanged).

#include <stdexcept>

namespace parmap {

/// Thrown by a parmap call when options::stop was requested before or during the call.
/// No chunk starts after the request is seen; chunks already running finish.
class cancelled : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
  cancelled() : std::runtime_error("parmap: the call was cancelled through options.stop") {}
};

/// Thrown by a parmap call when options::deadline passed before the work was done.
/// No chunk starts after the deadline is seen; chunks already running finish.
class timeout : public cancelled {
 public:
  timeout() : cancelled("parmap: the call passed options.deadline before it finished") {}
};

}  // namespace parmap
