// Leaving the host's affinity as it was found, on every backend: a caller keeps exactly its own
// mask after a call with a placement (also when fn throws), the runtime's threads are not left
// pinned, a thread that pinned itself does not shrink "every CPU" for the process, and oneTBB's
// global thread limit is what the user set once a call has ended.
#include <pthread.h>
#include <sched.h>

#include <atomic>
#include <cstddef>
#include <mutex>
#include <numeric>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "child_process.hpp"
#include "test_backends.hpp"

#if PARMAP_TEST_WITH_TBB
#include <tbb/global_control.h>
#endif

namespace {

using parmap::backend;
using parmap::placement;

cpu_set_t thread_mask() {
  cpu_set_t set;
  CPU_ZERO(&set);
  EXPECT_EQ(pthread_getaffinity_np(pthread_self(), sizeof(set), &set), 0);
  return set;
}

std::string cpus_of(const cpu_set_t& set) {
  std::string s;
  for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (!CPU_ISSET(cpu, &set)) continue;
    if (!s.empty()) s += ',';
    s += std::to_string(cpu);
  }
  return "{" + s + "}";
}

/// The last CPU of the process's mask: a pin that differs from what any placement gives first.
unsigned last_cpu(const cpu_set_t& set) {
  unsigned last = 0;
  for (unsigned cpu = 0; cpu < CPU_SETSIZE; ++cpu) {
    if (CPU_ISSET(cpu, &set)) last = cpu;
  }
  return last;
}

class Affinity : public testing::TestWithParam<backend> {
 protected:
  void SetUp() override {
    process_ = thread_mask();  // the test's main thread is never pinned
    if (CPU_COUNT(&process_) < 2) GTEST_SKIP() << "needs 2 usable CPUs to tell masks apart";
  }

  /// Runs `body` on a new thread that first pinned itself to the last CPU alone.
  template <class Body>
  void on_pinned_thread(Body body) {
    std::thread t([&] {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(last_cpu(process_), &one);
      ASSERT_EQ(pthread_setaffinity_np(pthread_self(), sizeof(one), &one), 0);
      body(one);
    });
    t.join();
  }

  cpu_set_t process_;
};

TEST_P(Affinity, PinnedCallerKeepsItsOwnMaskAfterAPlacedCall) {
  // A placed call from this unpinned thread first: what a pinned caller gets back must not
  // depend on which thread made the process's first placed call.
  std::vector<int> warm(100);
  (void)parmap::parallel_map(
      warm, [](int x) { return x; },
      parmap::options{.backend = GetParam(), .threads = 2, .placement = placement::spread});
  for (placement where : {placement::spread, placement::close}) {
    on_pinned_thread([&](const cpu_set_t& own) {
      std::vector<int> in(1000);
      std::iota(in.begin(), in.end(), 0);
      const parmap::options o{.backend = GetParam(), .threads = 2, .placement = where};
      const auto out = parmap::parallel_map(
          in, [](int x) { return x + 1; }, o);
      EXPECT_EQ(out.back(), 1000);
      const cpu_set_t after = thread_mask();
      EXPECT_TRUE(CPU_EQUAL(&after, &own)) << parmap::to_string(where) << ": caller pinned to "
                                           << cpus_of(own) << " came back with " << cpus_of(after);
    });
  }
}

TEST_P(Affinity, PinnedCallerKeepsItsOwnMaskWhenFnThrows) {
  on_pinned_thread([&](const cpu_set_t& own) {
    std::vector<int> in(1000);
    std::iota(in.begin(), in.end(), 0);
    const parmap::options o{
        .backend = GetParam(), .threads = 2, .chunk = 10, .placement = placement::spread};
    EXPECT_THROW((void)parmap::parallel_map(
                     in,
                     [](int x) {
                       if (x == 500) throw std::runtime_error("item 500");
                       return x;
                     },
                     o),
                 std::runtime_error);
    const cpu_set_t after = thread_mask();
    EXPECT_TRUE(CPU_EQUAL(&after, &own))
        << "caller pinned to " << cpus_of(own) << " came back with " << cpus_of(after);
  });
}

TEST_P(Affinity, UnpinnedCallerKeepsTheProcessMask) {
  std::vector<int> in(1000);
  const parmap::options o{.backend = GetParam(), .threads = 2, .placement = placement::spread};
  (void)parmap::parallel_map(
      in, [](int x) { return x; }, o);
  const cpu_set_t after = thread_mask();
  EXPECT_TRUE(CPU_EQUAL(&after, &process_)) << "came back with " << cpus_of(after);
}

TEST_P(Affinity, RuntimeThreadsAreNotLeftPinnedAfterAPlacedCall) {
  // The threads that ran a placed call (the pool's, OpenMP's, TBB's workers) run the next call
  // without a placement on the whole process mask: the user's own OpenMP and TBB code gets
  // the same runtime threads.
  std::vector<int> in(20000);
  const parmap::options placed{
      .backend = GetParam(), .threads = 2, .chunk = 100, .placement = placement::close};
  (void)parmap::parallel_map(
      in, [](int x) { return x; }, placed);
  std::mutex m;
  std::set<std::string> masks;
  const parmap::options plain{.backend = GetParam(), .threads = 2, .chunk = 100};
  (void)parmap::parallel_map(
      in,
      [&](int x) {
        const std::string mask = cpus_of(thread_mask());
        std::lock_guard lock(m);
        masks.insert(mask);
        return x;
      },
      plain);
  EXPECT_EQ(masks, std::set<std::string>{cpus_of(process_)});
}

TEST_P(Affinity, FirstCallFromAPinnedThreadDoesNotShrinkTheProcess) {
  // In a child: only there can the pinned thread's call be the process's first.
  const auto st =
      parmap_test::run_child("pinned_first_call", {std::string(parmap::to_string(GetParam()))});
  ASSERT_TRUE(st.ok()) << st.describe();
  const std::string expect = std::to_string(CPU_COUNT(&process_));
  EXPECT_NE(st.output.find("usable_cpus " + expect + "\n"), std::string::npos) << st.output;
  EXPECT_NE(st.output.find("resolve_threads(0) " + expect + "\n"), std::string::npos) << st.output;
  // parmap's own workers must not inherit the pin of the thread that happened to start them.
  // OpenMP's and TBB's threads follow their runtime's rules (OMP_PROC_BIND and the like),
  // which parmap leaves alone.
  if (GetParam() == backend::threads) {
    EXPECT_NE(st.output.find("helpers on the process mask: yes\n"), std::string::npos) << st.output;
  }
}

PARMAP_INSTANTIATE_FOR_BACKENDS(Affinity);

#if PARMAP_TEST_WITH_TBB
TEST(TbbGuest, ThreadLimitIsTheUsersAgainAfterAnOversubscribedCall) {
  using gc = tbb::global_control;
  const std::size_t before = gc::active_value(gc::max_allowed_parallelism);
  const int threads = static_cast<int>(before) + 6;
  std::atomic<int> inside{0}, peak{0};
  std::vector<int> in(64);
  (void)parmap::parallel_map(
      in,
      [&](int x) {
        const int now = ++inside;
        for (int seen = peak.load(); now > seen && !peak.compare_exchange_weak(seen, now);) {
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
        --inside;
        return x;
      },
      parmap::options{.backend = backend::tbb, .threads = threads, .chunk = 1});
  EXPECT_GT(peak.load(), static_cast<int>(before)) << "the call itself got its threads";
  EXPECT_EQ(gc::active_value(gc::max_allowed_parallelism), before);
}

TEST(TbbGuest, AUsersLowerLimitStillHoldsDuringACall) {
  using gc = tbb::global_control;
  const gc mine(gc::max_allowed_parallelism, 1);
  std::size_t seen = 0;
  std::vector<int> in(4);
  (void)parmap::parallel_map(
      in,
      [&](int x) {
        seen = gc::active_value(gc::max_allowed_parallelism);
        return x;
      },
      parmap::options{.backend = backend::tbb, .threads = 8, .chunk = 4});
  EXPECT_EQ(seen, 1u);
  EXPECT_EQ(gc::active_value(gc::max_allowed_parallelism), 1u);
}
#endif

}  // namespace
