#include "base/parallel.h"

#include <atomic>
#include <vector>

#include "gtest/gtest.h"

namespace pgmerge {
namespace {

TEST(ParallelForTest, EachPieceOnceOnItsWorker) {
  for (size_t n : {0, 1, 2, 7, 1000}) {
    std::vector<std::atomic<int>> done(n);
    std::vector<int> worker(n, -1);
    ParallelFor(n, 3, [&](size_t i, int w) {
      ++done[i];
      worker[i] = w;
    });
    for (size_t i = 0; i < n; ++i) {
      EXPECT_EQ(done[i], 1);
      EXPECT_GE(worker[i], 0);
      EXPECT_LT(worker[i], 3);
    }
  }
}

}  // namespace
}  // namespace pgmerge
