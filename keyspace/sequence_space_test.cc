#include "keyspace/sequence_space.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace pgmerge::keyspace {
namespace {

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kMin = std::numeric_limits<int64_t>::min();

TEST(SequenceSpaceTest, NextValueFollowsIsCalled) {
  SequenceShape up;
  EXPECT_EQ(NextValue(up, {5, true}), 6);
  EXPECT_EQ(NextValue(up, {5, false}), 5);
  SequenceShape down{-1, kMin, -1, false};
  EXPECT_EQ(NextValue(down, {-1, true}), -2);
  EXPECT_EQ(NextValue(down, {-1, false}), -1);
  // Used up: past int64, not wrapped.
  EXPECT_EQ(NextValue(up, {kMax, true}), static_cast<__int128>(kMax) + 1);
  EXPECT_EQ(LastTaken(down, {-1, false}), 0);
}

TEST(SequenceSpaceTest, MergedPositionKeepsTheFurthestExactly) {
  SequenceShape up;
  // The same position on both sides comes back as it was, is_called too.
  EXPECT_EQ(MergedPosition(up, SequencePosition{1, false}, SequencePosition{1, false},
                           std::nullopt),
            (SequencePosition{1, false}));
  EXPECT_EQ(MergedPosition(up, SequencePosition{7, true}, SequencePosition{3, true}, 5),
            (SequencePosition{7, true}));
  EXPECT_EQ(MergedPosition(up, SequencePosition{7, true}, SequencePosition{3, true}, 9),
            (SequencePosition{9, true}));
  // (6, false) and (5, true) both give 6 next: production's form is kept.
  EXPECT_EQ(MergedPosition(up, SequencePosition{6, false}, SequencePosition{5, true},
                           std::nullopt),
            (SequencePosition{6, false}));
  // Descending: the lowest is the furthest.
  SequenceShape down{-1, kMin, -1, false};
  EXPECT_EQ(MergedPosition(down, SequencePosition{-1, true}, SequencePosition{-1, true},
                           std::nullopt),
            (SequencePosition{-1, true}));
  EXPECT_EQ(MergedPosition(down, SequencePosition{-3, true}, SequencePosition{-1, false},
                           -2),
            (SequencePosition{-3, true}));
  EXPECT_EQ(MergedPosition(down, SequencePosition{-3, true}, std::nullopt, -8),
            (SequencePosition{-8, true}));
  // START -5 MINVALUE -10, unused: kept as (-5, false).
  SequenceShape neg{1, -10, kMax, false};
  EXPECT_EQ(MergedPosition(neg, SequencePosition{-5, false}, SequencePosition{-5, false},
                           std::nullopt),
            (SequencePosition{-5, false}));
  // A key the sequence cannot return (outside its bounds) is not followed.
  SequenceShape small{1, 1, 100, false};
  EXPECT_EQ(MergedPosition(small, SequencePosition{10, true}, std::nullopt, 500),
            (SequencePosition{10, true}));
  EXPECT_EQ(MergedPosition(small, std::nullopt, std::nullopt, std::nullopt),
            std::nullopt);
}

TEST(SequenceSpaceTest, FreshKeysGoTheSequencesWayInsideItsBounds) {
  FreshKeyPlan up = PlanFreshKeys(41, false, 1, 2147483647);
  EXPECT_EQ(up.first, 42);
  EXPECT_EQ(up.At(2), 44);
  EXPECT_EQ(up.room, 2147483647u - 41u);
  FreshKeyPlan down = PlanFreshKeys(-7, true, -10, -1);
  EXPECT_EQ(down.first, -8);
  EXPECT_EQ(down.step, -1);
  EXPECT_EQ(down.At(2), -10);
  EXPECT_EQ(down.room, 3u);
  // At the top of the range: no room, no wrap.
  EXPECT_EQ(PlanFreshKeys(kMax, false, 1, kMax).room, 0u);
  EXPECT_EQ(PlanFreshKeys(kMax - 2, false, 1, kMax).room, 2u);
  EXPECT_EQ(PlanFreshKeys(32767, false, 1, 32767).room, 0u);
  EXPECT_EQ(PlanFreshKeys(kMin, true, kMin, -1).room, 0u);
  // Nothing taken inside the range yet: it starts at the near end.
  EXPECT_EQ(PlanFreshKeys(-20, false, -10, 10).first, -10);
  EXPECT_EQ(PlanFreshKeys(0, true, -10, -1).first, -1);
  // The whole int64 range free: room saturates instead of wrapping.
  EXPECT_EQ(PlanFreshKeys(static_cast<__int128>(kMin) - 1, false, kMin, kMax).room,
            UINT64_MAX);
  EXPECT_EQ(PlanFreshKeys(0, false, 5, 4).room, 0u);
}

}  // namespace
}  // namespace pgmerge::keyspace
