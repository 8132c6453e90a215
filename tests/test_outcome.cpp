// Keeping going past failures: parmap::outcome, parmap::catching and parmap::failures. On every
// backend, a random set of failing items gives exactly those failures and every other value, in
// order, through parallel_map, parallel_map_into, parallel_zip_map, imap and imap_unordered,
// with exceptions of any type; a stop or a deadline still ends the call.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <exception>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <random>
#include <ranges>
#include <set>
#include <stdexcept>
#include <stop_token>
#include <string>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "test_backends.hpp"

/// An exception type that derives from nothing, at global scope so that its name reads plainly.
struct bad_header {
  int code;
};

/// A std::exception of the test's own.
struct convert_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

namespace {

using parmap::backend;
using parmap::outcome;
using namespace std::chrono_literals;

// ---- the types ---------------------------------------------------------------------------------

static_assert(sizeof(outcome<double>) == 2 * sizeof(double), "a value and one pointer");
static_assert(sizeof(outcome<void>) == sizeof(std::exception_ptr));
static_assert(std::is_nothrow_move_constructible_v<outcome<std::string>>);
static_assert(std::is_default_constructible_v<outcome<int>>);
static_assert(!std::is_copy_constructible_v<outcome<std::unique_ptr<int>>>);
static_assert(std::is_move_constructible_v<outcome<std::unique_ptr<int>>>);
static_assert(!std::is_constructible_v<outcome<int>, std::exception_ptr>,
              "an error needs the unexpect tag, as std::expected's does");
static_assert(parmap::is_outcome_v<const outcome<int>>);
static_assert(!parmap::is_outcome_v<int>);

// What catching makes of results: a value, a copy of a reference, void, and no nesting.
int plain(int x) {
  return x;
}
const std::string& ref(const std::string& s) {
  return s;
}
void nothing(int) {}
outcome<int> already(int x) {
  return x;
}
static_assert(
    std::same_as<std::invoke_result_t<parmap::catching_fn<decltype(&plain)>&, int>, outcome<int>>);
static_assert(std::same_as<parmap::catching_result_t<decltype(&ref), const std::string&>,
                           outcome<std::string>>);
static_assert(std::same_as<parmap::catching_result_t<decltype(&nothing), int>, outcome<void>>);
static_assert(std::same_as<parmap::catching_result_t<decltype(&already), int>, outcome<int>>);
// The wrapper is as invocable as the function, so every algorithm's constraints see through it.
static_assert(!std::is_invocable_v<parmap::catching_fn<int (*)(int)>&, std::string>);

/// An outcome holding what `throw value` would have thrown.
template <class T, class E>
outcome<T> failed_with(E value) {
  return outcome<T>(parmap::unexpect, std::make_exception_ptr(std::move(value)));
}

TEST(OutcomeType, ValuesAndErrors) {
  const outcome<int> zero;
  EXPECT_TRUE(zero.has_value());
  EXPECT_EQ(zero.value(), 0);
  EXPECT_FALSE(zero.error());
  EXPECT_EQ(zero.what(), "");
  EXPECT_EQ(zero.error_type_name(), "");

  outcome<std::string> s("text");
  EXPECT_TRUE(s);
  EXPECT_EQ(*s, "text");
  EXPECT_EQ(s->size(), 4u);
  EXPECT_EQ(s.value_or("other"), "text");
  const outcome<std::string> built(std::in_place, std::size_t{3}, 'x');
  EXPECT_EQ(built.value(), "xxx");

  const auto e = failed_with<std::string>(convert_error("bad header"));
  EXPECT_FALSE(e.has_value());
  EXPECT_FALSE(e);
  EXPECT_TRUE(e.error());
  EXPECT_EQ(e.value_or("fallback"), "fallback");
  EXPECT_THROW((void)e.value(), convert_error);
  EXPECT_EQ(e.what(), "bad header");
  EXPECT_EQ(e.error_type_name(), "convert_error");

  EXPECT_THROW(outcome<int>(parmap::unexpect, std::exception_ptr()), std::invalid_argument);
  EXPECT_THROW(outcome<void>(parmap::unexpect, std::exception_ptr()), std::invalid_argument);
}

TEST(OutcomeType, WhatForEveryKindOfException) {
  EXPECT_EQ(failed_with<int>(std::out_of_range("index 9")).what(), "index 9");
  EXPECT_EQ(failed_with<int>(std::out_of_range("index 9")).error_type_name(), "std::out_of_range");
  EXPECT_EQ(failed_with<int>(bad_header{7}).what(), "exception of type bad_header");
  EXPECT_EQ(failed_with<int>(bad_header{7}).error_type_name(), "bad_header");
  EXPECT_EQ(failed_with<int>(42).what(), "exception of type int");
  EXPECT_EQ(failed_with<int>("a thrown literal").what(), "a thrown literal");
  EXPECT_EQ(failed_with<int>(std::string("a thrown string")).what(), "a thrown string");
  EXPECT_NE(failed_with<int>(std::string("a thrown string")).error_type_name().find("basic_string"),
            std::string::npos);
}

TEST(OutcomeType, ValueRethrowsTheOriginalObject) {
  const auto o = failed_with<int>(bad_header{7});
  try {
    (void)o.value();
    ADD_FAILURE() << "no exception";
  } catch (const bad_header& h) {
    EXPECT_EQ(h.code, 7);
  }
  const auto v = outcome<void>(parmap::unexpect, std::make_exception_ptr(42));
  try {
    v.value();
    ADD_FAILURE() << "no exception";
  } catch (int i) {
    EXPECT_EQ(i, 42);
  }
  EXPECT_NO_THROW(outcome<void>().value());
  // error() is the very exception, not a copy.
  const auto again = o;
  EXPECT_EQ(again.error(), o.error());
}

TEST(OutcomeType, CopiesMovesAndAssignmentsBetweenStates) {
  outcome<std::string> a("value a");
  outcome<std::string> b = failed_with<std::string>(convert_error("error b"));
  outcome<std::string> c = a;
  EXPECT_EQ(c.value(), "value a");
  c = b;  // value <- error
  EXPECT_EQ(c.what(), "error b");
  c = a;  // error <- value
  EXPECT_EQ(c.value(), "value a");
  c = outcome<std::string>("moved");
  EXPECT_EQ(c.value(), "moved");
  outcome<std::string> d = failed_with<std::string>(42);
  d = b;  // error <- error
  EXPECT_EQ(d.what(), "error b");
  // A moved-from outcome keeps its state: an error stays an error.
  outcome<std::string> moved = std::move(b);
  EXPECT_EQ(moved.what(), "error b");
  EXPECT_FALSE(b.has_value());  // NOLINT(bugprone-use-after-move): the point of the check

  // Move-only and non-default-constructible values.
  outcome<std::unique_ptr<int>> p(std::make_unique<int>(5));
  outcome<std::unique_ptr<int>> q = std::move(p);
  EXPECT_EQ(**q, 5);
  struct no_default {
    explicit no_default(int v) : value(v) {}
    int value;
  };
  static_assert(!std::is_default_constructible_v<outcome<no_default>>);
  outcome<no_default> n(no_default(3));
  n = failed_with<no_default>(1);
  EXPECT_FALSE(n.has_value());
  n = outcome<no_default>(no_default(4));
  EXPECT_EQ(n->value, 4);
}

// ---- catching as a callable --------------------------------------------------------------------

struct record {
  std::string name;
  int size;
  [[nodiscard]] int twice() const {
    if (size < 0) throw std::domain_error("negative size of " + name);
    return 2 * size;
  }
};

TEST(Catching, ForwardsArgumentsLikeInvoke) {
  // An lvalue argument stays an lvalue: fn may change it.
  int counter = 1;
  auto bump = parmap::catching([](int& x) { return ++x; });
  EXPECT_EQ(bump(counter).value(), 2);
  EXPECT_EQ(counter, 2);
  // An rvalue argument stays an rvalue: fn may take it over.
  auto take = parmap::catching([](std::unique_ptr<int>&& p) { return *std::move(p) + 1; });
  EXPECT_EQ(take(std::make_unique<int>(4)).value(), 5);
  // Member pointers: a data member (copied out) and a member function.
  const record r{"r", 21};
  EXPECT_EQ(parmap::catching(&record::name)(r).value(), "r");
  EXPECT_EQ(parmap::catching(&record::twice)(r).value(), 42);
  const auto negative = parmap::catching(&record::twice)(record{"neg", -1});
  EXPECT_EQ(negative.what(), "negative size of neg");
  // Several arguments, a const wrapper, a copy of it.
  const auto add =
      parmap::catching([](int a, long b, double c) { return static_cast<double>(a + b) + c; });
  const auto copy = add;
  EXPECT_EQ(copy(1, 2L, 0.5).value(), 3.5);
  // A move-only function.
  auto owner = parmap::catching([p = std::make_unique<int>(9)](int x) { return *p + x; });
  auto moved = std::move(owner);
  EXPECT_EQ(moved(1).value(), 10);
}

TEST(Catching, VoidAndOutcomeResults) {
  auto check = parmap::catching([](int x) {
    if (x < 0) throw std::invalid_argument("negative");
  });
  EXPECT_TRUE(check(1).has_value());
  EXPECT_EQ(check(-1).what(), "negative");
  // A function that already returns an outcome keeps its own outcomes, and its throws join them.
  auto nested = parmap::catching([](int x) -> outcome<int> {
    if (x == 0) throw bad_header{0};
    if (x < 0) return failed_with<int>(std::runtime_error("reported"));
    return x;
  });
  EXPECT_EQ(nested(3).value(), 3);
  EXPECT_EQ(nested(-3).what(), "reported");
  EXPECT_EQ(nested(0).what(), "exception of type bad_header");
}

TEST(Catching, StopsAreNotCaught) {
  auto cancel = parmap::catching([](int) -> int { throw parmap::cancelled(); });
  EXPECT_THROW((void)cancel(1), parmap::cancelled);
  auto late = parmap::catching([](int) -> int { throw parmap::timeout(); });
  EXPECT_THROW((void)late(1), parmap::timeout);
}

TEST(Failures, ListsIndexAndMessageInOrder) {
  std::vector<outcome<int>> results = {1, failed_with<int>(convert_error("one")), 3,
                                       failed_with<int>(bad_header{2}), 5};
  const auto f = parmap::failures(results);
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].index, 1u);
  EXPECT_EQ(f[0].what, "one");
  EXPECT_EQ(f[1].index, 3u);
  EXPECT_EQ(f[1].what, "exception of type bad_header");
  EXPECT_TRUE(parmap::failures(std::vector<outcome<int>>{1, 2}).empty());
  EXPECT_TRUE(parmap::failures(std::vector<outcome<void>>(3)).empty());
}

// ---- every algorithm, every backend ------------------------------------------------------------

/// Which items fail, and how: a fixed-seed random set of about `percent` % of [0, n), each
/// failing with one of three kinds of exception by its index.
class failure_plan {
 public:
  failure_plan(std::size_t n, unsigned percent, unsigned seed) {
    std::mt19937 gen(seed);
    std::uniform_int_distribution<unsigned> pick(0, 99);
    for (std::size_t i = 0; i < n; ++i) {
      if (pick(gen) < percent) failing_.insert(i);
    }
  }

  [[nodiscard]] bool fails(std::size_t i) const { return failing_.contains(i); }
  [[nodiscard]] const std::set<std::size_t>& failing() const { return failing_; }

  /// Throws item i's exception if it fails: a std::exception, a type derived from nothing, or
  /// an int.
  void maybe_throw(std::size_t i) const {
    if (!fails(i)) return;
    switch (i % 3) {
      case 0:
        throw convert_error("item " + std::to_string(i) + ": bad header");
      case 1:
        throw bad_header{static_cast<int>(i)};
      default:
        throw static_cast<int>(i);
    }
  }

  /// What outcome::what() says for a failing item.
  [[nodiscard]] static std::string message(std::size_t i) {
    switch (i % 3) {
      case 0:
        return "item " + std::to_string(i) + ": bad header";
      case 1:
        return "exception of type bad_header";
      default:
        return "exception of type int";
    }
  }

  /// Checks that the exception in `e` is item i's own, with its own type and contents.
  static void expect_original(const std::exception_ptr& e, std::size_t i) {
    try {
      std::rethrow_exception(e);
    } catch (const convert_error& x) {
      EXPECT_EQ(i % 3, 0u) << "at " << i;
      EXPECT_EQ(std::string(x.what()), message(i));
    } catch (const bad_header& h) {
      EXPECT_EQ(i % 3, 1u) << "at " << i;
      EXPECT_EQ(h.code, static_cast<int>(i));
    } catch (int v) {
      EXPECT_EQ(i % 3, 2u) << "at " << i;
      EXPECT_EQ(v, static_cast<int>(i));
    }
  }

  /// Checks results[i] against item i: the failure it should be, or `value(i)`.
  template <class T, class V>
  void expect_results(const std::vector<outcome<T>>& results, V value) const {
    for (std::size_t i = 0; i < results.size(); ++i) {
      if (fails(i)) {
        ASSERT_FALSE(results[i].has_value()) << "item " << i << " should have failed";
        EXPECT_EQ(results[i].what(), message(i)) << "at " << i;
        expect_original(results[i].error(), i);
      } else {
        ASSERT_TRUE(results[i].has_value()) << "item " << i << ": " << results[i].what();
        EXPECT_EQ(*results[i], value(i)) << "at " << i;
      }
    }
    const auto f = parmap::failures(results);
    ASSERT_EQ(f.size(), failing_.size());
    auto it = failing_.begin();
    for (const parmap::failure& one : f) {
      EXPECT_EQ(one.index, *it);
      EXPECT_EQ(one.what, message(*it));
      ++it;
    }
  }

 private:
  std::set<std::size_t> failing_;
};

class Outcome : public testing::TestWithParam<backend> {
 protected:
  [[nodiscard]] parmap::options opts(int threads = 3, std::size_t chunk = 0) const {
    return parmap::options{.backend = GetParam(), .threads = threads, .chunk = chunk};
  }
};

constexpr std::size_t sizes[] = {0, 1, 2, 97, 5000};
constexpr std::size_t chunks[] = {0, 1, 7, 256};

TEST_P(Outcome, MapKeepsEveryValueAndEveryFailure) {
  unsigned seed = 1;
  for (std::size_t n : sizes) {
    for (std::size_t chunk : chunks) {
      for (unsigned percent : {0u, 3u, 50u, 100u}) {
        SCOPED_TRACE("n=" + std::to_string(n) + " chunk=" + std::to_string(chunk) +
                     " percent=" + std::to_string(percent));
        const failure_plan plan(n, percent, seed++);
        std::atomic<std::size_t> calls{0};
        const auto results = parmap::parallel_map(std::views::iota(std::size_t{0}, n),
                                                  parmap::catching([&](std::size_t i) {
                                                    calls.fetch_add(1, std::memory_order_relaxed);
                                                    plan.maybe_throw(i);
                                                    return static_cast<long>(i) * 3 - 1;
                                                  }),
                                                  opts(3, chunk));
        static_assert(std::same_as<decltype(results), const std::vector<outcome<long>>>);
        ASSERT_EQ(results.size(), n);
        EXPECT_EQ(calls.load(), n) << "every item runs, failures or not";
        plan.expect_results(results, [](std::size_t i) { return static_cast<long>(i) * 3 - 1; });
      }
    }
  }
}

TEST_P(Outcome, MapIntoAPreallocatedOutput) {
  const std::size_t n = 3001;
  const failure_plan plan(n, 10, 77);
  std::vector<double> in(n);
  for (std::size_t i = 0; i < n; ++i) in[i] = static_cast<double>(i) / 4;
  // Stale contents of every kind: values and errors from an earlier call.
  std::vector<outcome<double>> out(n);
  for (std::size_t i = 0; i < n; i += 5) out[i] = failed_with<double>(std::runtime_error("old"));
  for (std::size_t chunk : {0u, 1u, 64u}) {
    parmap::parallel_map_into(in, out, parmap::catching([&](const double& x) {
                                const auto i = static_cast<std::size_t>(x * 4);
                                plan.maybe_throw(i);
                                return x * 2;
                              }),
                              opts(2, chunk));
    plan.expect_results(out, [](std::size_t i) { return static_cast<double>(i) / 2; });
  }
}

/// "f<i>", built by appending: GCC 12 warns falsely (-Wrestrict) about "f" + std::string.
std::string file_name(std::size_t i) {
  std::string s = "f";
  s += std::to_string(i);
  return s;
}

TEST_P(Outcome, ZipOverSeveralRanges) {
  const std::size_t n = 2500;
  const failure_plan plan(n, 7, 5);
  std::vector<std::string> names(n);
  std::list<int> sizes_list;
  for (std::size_t i = 0; i < n; ++i) {
    names[i] = file_name(i);
    sizes_list.push_back(static_cast<int>(i % 10));
  }
  for (std::size_t chunk : {0u, 3u}) {
    const auto results = parmap::parallel_zip_map(
        parmap::catching([&](std::size_t i, const std::string& name, int size) {
          plan.maybe_throw(i);
          return name + ":" + std::to_string(size);
        }),
        std::views::iota(std::size_t{0}, n), names, sizes_list, opts(3, chunk));
    plan.expect_results(results,
                        [](std::size_t i) { return file_name(i) + ":" + std::to_string(i % 10); });
  }
}

TEST_P(Outcome, ImapYieldsEveryOutcomeInOrder) {
  const std::size_t n = 1500;
  const failure_plan plan(n, 10, 11);
  for (std::size_t window : {0u, 1u, 16u}) {
    SCOPED_TRACE("window=" + std::to_string(window));
    std::vector<outcome<std::size_t>> results;
    for (auto& o :
         parmap::imap(std::views::iota(std::size_t{0}, n), parmap::catching([&](std::size_t i) {
                        plan.maybe_throw(i);
                        return i * i;
                      }),
                      opts(), parmap::stream_options{.window = window})) {
      results.push_back(std::move(o));
    }
    ASSERT_EQ(results.size(), n);
    plan.expect_results(results, [](std::size_t i) { return i * i; });
  }
}

TEST_P(Outcome, ImapUnorderedYieldsEveryOutcomeOnce) {
  const std::size_t n = 1500;
  const failure_plan plan(n, 10, 12);
  std::map<std::size_t, outcome<std::size_t>> by_index;
  for (auto& [i, o] : parmap::imap_unordered(std::views::iota(std::size_t{0}, n),
                                             parmap::catching([&](std::size_t k) {
                                               // Uneven work, so completion order differs.
                                               if (k % 97 == 0) std::this_thread::sleep_for(1ms);
                                               plan.maybe_throw(k);
                                               return k + 1;
                                             }),
                                             opts())) {
    ASSERT_TRUE(by_index.emplace(i, std::move(o)).second) << "index " << i << " twice";
  }
  ASSERT_EQ(by_index.size(), n);
  std::vector<outcome<std::size_t>> results;
  for (auto& entry : by_index) results.push_back(std::move(entry.second));
  plan.expect_results(results, [](std::size_t i) { return i + 1; });
}

TEST_P(Outcome, FunctionsThatReturnNothing) {
  const std::size_t n = 800;
  const failure_plan plan(n, 20, 3);
  std::vector<std::atomic<int>> touched(n);
  const auto results = parmap::parallel_map(std::views::iota(std::size_t{0}, n),
                                            parmap::catching([&](std::size_t i) {
                                              touched[i].fetch_add(1);
                                              plan.maybe_throw(i);
                                            }),
                                            opts(3, 16));
  static_assert(std::same_as<decltype(results), const std::vector<outcome<void>>>);
  ASSERT_EQ(results.size(), n);
  for (std::size_t i = 0; i < n; ++i) {
    EXPECT_EQ(touched[i].load(), 1);
    EXPECT_EQ(results[i].has_value(), !plan.fails(i)) << "at " << i;
  }
  const auto f = parmap::failures(results);
  ASSERT_EQ(f.size(), plan.failing().size());
  EXPECT_EQ(f.front().what, failure_plan::message(f.front().index));
}

TEST_P(Outcome, AStopStillEndsTheCall) {
  // Items fail all along; halfway through the first hundred, fn requests a stop. The call must
  // throw parmap::cancelled: the failures caught so far do not turn a stop into a result.
  const std::size_t n = 20000;
  const failure_plan plan(n, 30, 8);
  std::stop_source stop;
  parmap::options o = opts(3, 1);
  o.stop = stop.get_token();
  std::atomic<std::size_t> calls{0};
  auto fn = parmap::catching([&](std::size_t i) {
    if (calls.fetch_add(1) == 50) stop.request_stop();
    plan.maybe_throw(i);
    return i;
  });
  EXPECT_THROW((void)parmap::parallel_map(std::views::iota(std::size_t{0}, n), fn, o),
               parmap::cancelled);
  EXPECT_LT(calls.load(), n);

  // Streams too, in both orders.
  for (bool ordered : {true, false}) {
    std::stop_source s;
    parmap::options so = opts(3);
    so.stop = s.get_token();
    std::size_t seen = 0;
    auto count = parmap::catching([&](std::size_t i) {
      plan.maybe_throw(i);
      return i;
    });
    auto run = [&](auto&& stream) {
      for (auto& r : stream) {
        (void)r;
        if (++seen == 100) s.request_stop();
      }
    };
    if (ordered) {
      EXPECT_THROW(run(parmap::imap(std::views::iota(std::size_t{0}, n), count, so)),
                   parmap::cancelled);
    } else {
      EXPECT_THROW(run(parmap::imap_unordered(std::views::iota(std::size_t{0}, n), count, so)),
                   parmap::cancelled);
    }
    EXPECT_LT(seen, n);
  }
}

TEST_P(Outcome, ADeadlineStillEndsTheCall) {
  const std::size_t n = 4000;
  const failure_plan plan(n, 30, 9);
  parmap::options o = opts(2, 1);
  o.deadline = std::chrono::steady_clock::now() + 30ms;
  auto slow = parmap::catching([&](std::size_t i) {
    std::this_thread::sleep_for(200us);
    plan.maybe_throw(i);
    return i;
  });
  EXPECT_THROW((void)parmap::parallel_map(std::views::iota(std::size_t{0}, n), slow, o),
               parmap::timeout);
  std::vector<outcome<std::size_t>> out(n);
  o.deadline = std::chrono::steady_clock::now() + 30ms;
  EXPECT_THROW(parmap::parallel_map_into(std::views::iota(std::size_t{0}, n), out, slow, o),
               parmap::timeout);
}

TEST_P(Outcome, ACancelledNestedCallPropagates) {
  // fn runs a nested call that is cancelled: that is the stop of the whole computation, not a
  // failure of the item, so catching lets it through and the outer call throws it.
  std::stop_source inner_stop;
  inner_stop.request_stop();
  const parmap::options inner{.backend = GetParam(), .threads = 2, .stop = inner_stop.get_token()};
  auto outer_fn = parmap::catching([&](int x) {
    if (x == 5) {
      return static_cast<int>(parmap::parallel_map(
                                  std::views::iota(0, 10), [](int y) { return y; }, inner)
                                  .size());
    }
    return x;
  });
  EXPECT_THROW((void)parmap::parallel_map(std::views::iota(0, 100), outer_fn, opts(2, 4)),
               parmap::cancelled);
  // A nested call that fails for another reason is an item failure like any other.
  auto nested_failure = parmap::catching([&](int x) {
    const auto inner_results = parmap::parallel_map(
        std::views::iota(0, 10),
        [x](int y) {
          if (x == 5 && y == 3) throw convert_error("inner 3");
          return y;
        },
        parmap::options{.backend = GetParam(), .threads = 2});
    return static_cast<int>(inner_results.size());
  });
  const auto results = parmap::parallel_map(std::views::iota(0, 100), nested_failure, opts(2, 4));
  const auto f = parmap::failures(results);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].index, 5u);
  EXPECT_EQ(f[0].what, "inner 3");
}

PARMAP_INSTANTIATE_FOR_BACKENDS(Outcome);

}  // namespace
