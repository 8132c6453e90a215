// parmap::mpi::parallel_map rejects bad arguments with a clear std::invalid_argument on every
// rank before any work, and the next call still works.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <parmap/mpi.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "mpi_test.hpp"

namespace {

using parmap_test::gather_all;
using parmap_test::world_rank;
using parmap_test::world_size;

class MpiArguments : public testing::Test {
 protected:
  // Runs `call` on every rank and returns the text of the std::invalid_argument it threw
  // ("" if it threw none). Counts calls of the mapped function in `calls`.
  template <class Call>
  std::string rejection(Call call) {
    try {
      call();
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return {};
  }
  // A valid call after a rejected one: nothing is left over from it.
  void still_works() {
    const std::vector<int> in = root ? std::vector<int>{1, 2, 3, 4, 5} : std::vector<int>{};
    const auto out = parmap::mpi::parallel_map(
        MPI_COMM_WORLD, in, [](int x) { return x + 1; }, {},
        parmap::mpi::options{.all_gather = true});
    EXPECT_EQ(out, (std::vector<int>{2, 3, 4, 5, 6}));
  }
  std::vector<int> input(std::size_t n) const {
    return root ? std::vector<int>(n, 7) : std::vector<int>{};
  }
  std::atomic<int> calls{0};
  const int rank = world_rank();
  const int size = world_size();
  const bool root = rank == 0;
};

int count(std::atomic<int>& calls, int x) {
  ++calls;
  return x;
}

TEST_F(MpiArguments, NullCommunicator) {
  const auto text = rejection([&] {
    (void)parmap::mpi::parallel_map(MPI_COMM_NULL, input(3),
                                    [&](int x) { return count(calls, x); });
  });
  EXPECT_NE(text.find("MPI_COMM_NULL"), std::string::npos) << text;
  EXPECT_EQ(calls.load(), 0);
  still_works();
}

TEST_F(MpiArguments, RootOutOfRange) {
  for (int bad : {-1, size, size + 5}) {
    const auto text = rejection([&] {
      (void)parmap::mpi::parallel_map(
          MPI_COMM_WORLD, input(3), [&](int x) { return count(calls, x); }, {},
          parmap::mpi::options{.root = bad});
    });
    EXPECT_NE(text.find("root is " + std::to_string(bad)), std::string::npos) << text;
  }
  EXPECT_EQ(calls.load(), 0);
  still_works();
}

TEST_F(MpiArguments, OptionsThatDifferAcrossRanks) {
  if (size < 2) GTEST_SKIP() << "needs two ranks";
  struct mismatch {
    const char* name;
    parmap::mpi::options opt;
  };
  const std::vector<mismatch> cases = {
      {"chunk", parmap::mpi::options{.chunk = static_cast<std::size_t>(rank) + 1}},
      {"all_gather", parmap::mpi::options{.all_gather = rank == 1}},
      {"root", parmap::mpi::options{.root = rank == 0 ? 0 : 1}},
  };
  for (const auto& c : cases) {
    const auto text = rejection([&] {
      (void)parmap::mpi::parallel_map(
          MPI_COMM_WORLD, input(10), [&](int x) { return count(calls, x); }, {}, c.opt);
    });
    EXPECT_NE(text.find(std::string("mpi::options::") + c.name + " must be the same"),
              std::string::npos)
        << text;
  }
  EXPECT_EQ(calls.load(), 0);
  still_works();
}

TEST_F(MpiArguments, InputSizeMismatch) {
  if (size < 2) GTEST_SKIP() << "needs two ranks";
  // The last rank passes an input of another size than the root's.
  const std::vector<int> in = root               ? std::vector<int>(10, 1)
                              : rank == size - 1 ? std::vector<int>(4, 1)
                                                 : std::vector<int>{};
  const auto text = rejection([&] {
    (void)parmap::mpi::parallel_map(MPI_COMM_WORLD, in, [&](int x) { return count(calls, x); });
  });
  EXPECT_NE(text.find("root's input has 10 items"), std::string::npos) << text;
  EXPECT_NE(text.find("4 items"), std::string::npos) << text;
  EXPECT_EQ(calls.load(), 0);
  // An input of the root's size on other ranks is accepted (and not read).
  const std::vector<int> same = root ? std::vector<int>{1, 2, 3} : std::vector<int>{9, 9, 9};
  const auto out = parmap::mpi::parallel_map(
      MPI_COMM_WORLD, same, [](int x) { return -x; }, {}, parmap::mpi::options{.all_gather = true});
  EXPECT_EQ(out, (std::vector<int>{-1, -2, -3}));
  still_works();
}

TEST_F(MpiArguments, BadLocalOptionsOnOneRank) {
  // The last rank asks for a backend outside the enum: it reports its own reason, the others
  // name it.
  const int bad = size - 1;
  parmap::options local{};
  if (rank == bad) local.backend = static_cast<parmap::backend>(99);
  const auto text = rejection([&] {
    (void)parmap::mpi::parallel_map(
        MPI_COMM_WORLD, input(6), [&](int x) { return count(calls, x); }, local);
  });
  EXPECT_NE(text.find("backend"), std::string::npos) << text;
  if (rank != bad) {
    EXPECT_NE(text.find("rank " + std::to_string(bad) + " rejected the call"), std::string::npos)
        << text;
  }
  EXPECT_EQ(calls.load(), 0);
  still_works();
}

TEST_F(MpiArguments, ProgressCallbackNeedNotAgree) {
  // Only the root's on_progress is called, so the other ranks may leave theirs empty.
  std::size_t last_done = 0;
  std::size_t last_total = 0;
  parmap::options local{};
  if (root) {
    local.on_progress = [&](std::size_t done, std::size_t total) {
      last_done = done;
      last_total = total;
    };
  }
  const auto out = parmap::mpi::parallel_map(
      MPI_COMM_WORLD, input(6), [&](int x) { return count(calls, x); }, local);
  if (root) {
    EXPECT_EQ(out, std::vector<int>(6, 7));
    EXPECT_EQ(last_done, 6u);
    EXPECT_EQ(last_total, 6u);
  }
  const auto mapped = gather_all(calls.load());
  std::int64_t total = 0;
  for (auto c : mapped) total += c;
  EXPECT_EQ(total, 6);
  still_works();
}

TEST_F(MpiArguments, IntercommunicatorIsRejected) {
  if (size < 2) GTEST_SKIP() << "needs two ranks";
  MPI_Comm half = MPI_COMM_NULL;
  MPI_Comm_split(MPI_COMM_WORLD, rank % 2, rank, &half);
  MPI_Comm inter = MPI_COMM_NULL;
  // Leaders: rank 0 of each half, that is world ranks 0 and 1.
  MPI_Intercomm_create(half, 0, MPI_COMM_WORLD, rank % 2 == 0 ? 1 : 0, 17, &inter);
  const auto text = rejection([&] {
    (void)parmap::mpi::parallel_map(inter, input(3), [&](int x) { return count(calls, x); });
  });
  EXPECT_NE(text.find("intercommunicators are not supported"), std::string::npos) << text;
  MPI_Comm_free(&inter);
  MPI_Comm_free(&half);
  still_works();
}

TEST_F(MpiArguments, FunneledMeansTheMainThreadOnly) {
  int level = 0;
  MPI_Query_thread(&level);
  if (level != MPI_THREAD_FUNNELED) GTEST_SKIP() << "MPI runs above MPI_THREAD_FUNNELED";
  std::string text;
  std::thread other([&] {
    try {
      (void)parmap::mpi::parallel_map(MPI_COMM_WORLD, input(3), [](int x) { return x; });
    } catch (const std::logic_error& e) {
      text = e.what();
    }
  });
  other.join();
  EXPECT_NE(text.find("main thread"), std::string::npos) << text;
  still_works();
}

TEST_F(MpiArguments, EveryRankThrowsTheSameRejection) {
  // The same verdict on every rank keeps SPMD code in step: compare the texts' lengths.
  const auto text = rejection([&] {
    (void)parmap::mpi::parallel_map(
        MPI_COMM_WORLD, input(3), [](int x) { return x; }, {}, parmap::mpi::options{.root = size});
  });
  const auto lengths = gather_all(static_cast<std::int64_t>(text.size()));
  for (auto l : lengths) EXPECT_EQ(l, lengths[0]);
  EXPECT_GT(lengths[0], 0);
}

}  // namespace
