#pragma once
// Runs a value-parameterized suite once per built-in backend, named after the backend, so that
// `--gtest_filter=*/tbb` (and `ctest -L tbb`) selects one backend's runs.
#include <gtest/gtest.h>
#include <parmap/parmap.hpp>

#include <array>
#include <cstddef>
#include <string>

namespace parmap_test {

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
