// parmap::mpi::parallel_map checks MPI's state before touching it: not initialized, initialized
// without thread support, finalized. One process goes through all three states, in order, so
// this file has its own main and one test.
#include <gtest/gtest.h>
#include <mpi.h>

#include <parmap/mpi.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::string refusal() {
  try {
    (void)parmap::mpi::parallel_map(MPI_COMM_WORLD, std::vector<int>{1, 2},
                                    [](int x) { return x; });
  } catch (const std::logic_error& e) {
    return e.what();
  }
  return {};
}

TEST(MpiEnvironment, RefusedBeforeInitWithoutThreadsAndAfterFinalize) {
  int flag = 0;
  MPI_Initialized(&flag);
  ASSERT_EQ(flag, 0);
  EXPECT_NE(refusal().find("MPI is not initialized"), std::string::npos) << refusal();

  int provided = 0;
  MPI_Init_thread(nullptr, nullptr, MPI_THREAD_SINGLE, &provided);
  if (provided == MPI_THREAD_SINGLE) {
    EXPECT_NE(refusal().find("MPI_THREAD_SINGLE"), std::string::npos) << refusal();
  } else {
    // This MPI gives more than asked: the call must then work.
    EXPECT_EQ(refusal(), "");
  }
  MPI_Finalize();
  EXPECT_NE(refusal().find("finalized"), std::string::npos) << refusal();
}

}  // namespace

int main(int argc, char** argv) {
  testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
