// parmap::mpi::serializer: the built-in types round-trip, bad messages are reported, and a
// serializer whose read() disagrees with its write() ends a call with remote_error, not a hang.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <parmap/mpi.hpp>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "mpi_test.hpp"

// read() takes one int more than write() gave.
struct greedy {
  int value;
};

template <>
struct parmap::mpi::serializer<greedy> {
  static void write(writer& w, const greedy& g) { w.write(g.value); }
  static greedy read(reader& r) {
    const int v = r.read<int>();
    (void)r.read<int>();
    return greedy{v};
  }
};

namespace {

using parmap::mpi::reader;
using parmap::mpi::serializable;
using parmap::mpi::writer;

template <class T>
T round_trip(const T& value) {
  writer w;
  w.write(value);
  reader r(w.bytes().data(), w.bytes().size());
  T back = r.read<T>();
  EXPECT_EQ(r.remaining(), 0u);
  return back;
}

struct no_serializer {
  std::string s;
};

static_assert(serializable<int>);
static_assert(serializable<std::pair<int, double>>);
static_assert(serializable<std::vector<std::vector<std::string>>>);
static_assert(!serializable<int*>, "addresses mean nothing on another rank");
static_assert(!serializable<no_serializer>);
static_assert(!serializable<std::vector<no_serializer>>);

TEST(MpiSerializer, BuiltInTypesRoundTrip) {
  EXPECT_EQ(round_trip(-12345), -12345);
  EXPECT_EQ(round_trip(2.75), 2.75);
  EXPECT_EQ(round_trip(std::string()), "");
  EXPECT_EQ(round_trip(std::string("h\0llo", 5)), std::string("h\0llo", 5));
  EXPECT_EQ(round_trip(std::u32string(U"wide")), U"wide");
  EXPECT_EQ(round_trip(std::vector<double>{1.5, -2, 3}), (std::vector<double>{1.5, -2, 3}));
  EXPECT_EQ(round_trip(std::vector<bool>{true, false, true}),
            (std::vector<bool>{true, false, true}));
  const std::vector<std::vector<std::string>> nested = {{}, {"a", ""}, {"bc"}};
  EXPECT_EQ(round_trip(nested), nested);
  const auto t = std::make_tuple(std::string("x"), 7, std::vector<int>{1, 2});
  EXPECT_EQ(round_trip(t), t);
  EXPECT_EQ(round_trip(std::optional<std::string>()), std::nullopt);
  EXPECT_EQ(round_trip(std::optional<std::string>("y")), "y");
  EXPECT_EQ(round_trip(std::pair<std::string, int>("k", 3)), (std::pair<std::string, int>("k", 3)));
}

TEST(MpiSerializer, ShortMessagesAreReported) {
  writer w;
  w.write(std::uint64_t{1000});  // announces 1000 doubles, holds none
  reader r(w.bytes().data(), w.bytes().size());
  try {
    (void)r.read<std::vector<double>>();
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("announces 1000 elements"), std::string::npos) << e.what();
  }
  reader empty(nullptr, 0);
  EXPECT_THROW((void)empty.read<int>(), std::runtime_error);
}

TEST(MpiSerializer, DisagreeingSerializerEndsTheCallWithRemoteError) {
  const int size = parmap_test::world_size();
  const bool root = parmap_test::world_rank() == 0;
  std::vector<greedy> in;
  if (root) {
    for (int i = 0; i < 12; ++i) in.push_back(greedy{i});
  }
  std::string what;
  try {
    const auto out = parmap::mpi::parallel_map(
        MPI_COMM_WORLD, in, [](const greedy& g) { return g.value; }, {},
        parmap::mpi::options{.chunk = 4});
    if (root) {
      EXPECT_EQ(out.size(), 12u);
    }
  } catch (const parmap::mpi::remote_error& e) {
    what = e.original_what();
  }
  if (size == 1) {
    EXPECT_EQ(what, "");  // alone, nothing is serialized
  } else {
    // Items travel only to other ranks: whichever chunk went out failed to read.
    EXPECT_NE(what.find("bytes early"), std::string::npos) << what;
  }
}

}  // namespace
