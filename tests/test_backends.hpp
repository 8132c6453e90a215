#pragma once
// Runs a value-parameterized suite once per built-in backend, named after the backend, so that
// `--gtest_filter=*/tbb` (and `ctest -L tbb`) selects one backend's runs.
#include <gtest/gtest.h>
#include <parmap/parmap.hpp>

#include <string>

namespace parmap_test {

/// The test name suffix for a backend: its own name ("tbb").
inline std::string backend_name(const testing::TestParamInfo<parmap::backend>& info) {
  return std::string(parmap::to_string(info.param));
}

}  // namespace parmap_test

#define PARMAP_INSTANTIATE_FOR_BACKENDS(suite)                                              \
  INSTANTIATE_TEST_SUITE_P(Backends, suite,                                                 \
                           testing::ValuesIn(parmap::available_backends()),                 \
                           parmap_test::backend_name)
