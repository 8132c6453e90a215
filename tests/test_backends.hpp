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
#include <vector>

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

/// One way of splitting a call over n items: the options' threads, chunk and schedule.
struct split {
  int threads;
  std::size_t chunk;
  parmap::schedule schedule;
  std::size_t n;
};

/// The splits on which every algorithm that covers indices (map, parallel_for) must run each
/// index exactly once. Fewer items than threads, every schedule:
inline std::vector<split> fewer_items_than_threads() {
  std::vector<split> out;
  for (std::size_t n = 1; n < 8; ++n) {
    for (auto s : all_schedules) out.push_back({8, 0, s, n});
  }
  return out;
}

/// Sizes that no thread count divides evenly.
inline std::vector<split> uneven_splits() {
  std::vector<split> out;
  for (std::size_t n : {5u, 7u, 97u, 1001u, 4099u}) {
    for (int threads : {2, 3, 7}) {
      for (auto s : all_schedules) out.push_back({threads, 0, s, n});
    }
  }
  return out;
}

/// Every schedule x chunk (automatic, 1, odd, large, beyond the input) x thread count
/// (including joblib's -1), on empty, tiny and uneven inputs.
inline std::vector<split> every_schedule_chunk_and_thread_count() {
  std::vector<split> out;
  for (std::size_t n : {0u, 1u, 5u, 1237u}) {
    for (auto s : all_schedules) {
      for (std::size_t chunk :
           {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{1000}, n + 5}) {
        for (int threads : {1, 2, 3, 8, -1}) out.push_back({threads, chunk, s, n});
      }
    }
  }
  return out;
}

/// A million items, every schedule at all CPUs, and dynamic chunks of 4096 on 3 threads.
inline std::vector<split> large_splits() {
  constexpr std::size_t n = 1'000'003;
  std::vector<split> out;
  for (auto s : all_schedules) out.push_back({-1, 0, s, n});
  out.push_back({3, 4096, parmap::schedule::dynamic, n});
  return out;
}

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
