#pragma once
// Runs a value-parameterized suite once per built-in backend, named after the backend, so that
// `--gtest_filter=*/tbb` (and `ctest -L tbb`) selects one backend's runs.
#include <gtest/gtest.h>
#include <parmap/parmap.hpp>

#include <array>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <utility>

// PARMAP_TEST_SANITIZED: 1 in ThreadSanitizer and AddressSanitizer builds, where tests scale
// down their repetitions and stretch their timeouts.
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define PARMAP_TEST_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define PARMAP_TEST_SANITIZED 1
#endif
#endif

namespace parmap_test {

/// The message of the std::invalid_argument that `call` throws; fails the test if it throws
/// nothing or something else.
template <class Call>
std::string invalid_argument_message(Call&& call) {
  try {
    std::forward<Call>(call)();
  } catch (const std::invalid_argument& e) {
    return e.what();
  } catch (...) {
    ADD_FAILURE() << "threw something other than std::invalid_argument";
    return {};
  }
  ADD_FAILURE() << "threw nothing";
  return {};
}

/// Every schedule, for tests that run each one.
inline constexpr std::array all_schedules = {parmap::schedule::automatic, parmap::schedule::static_,
                                             parmap::schedule::dynamic, parmap::schedule::guided};

/// An exception type that derives from nothing, carrying the index that threw it.
struct item_failed {
  std::size_t index;
};

/// The test name suffix for a backend: its own name ("tbb").
inline std::string backend_name(const testing::TestParamInfo<parmap::backend>& info) {
  return std::string(parmap::to_string(info.param));
}

}  // namespace parmap_test

#define PARMAP_INSTANTIATE_FOR_BACKENDS(suite)                                              \
  INSTANTIATE_TEST_SUITE_P(Backends, suite,                                                 \
                           testing::ValuesIn(parmap::available_backends()),                 \
                           parmap_test::backend_name)
