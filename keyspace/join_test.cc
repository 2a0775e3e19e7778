// keyspace::JoinByKey and MatchRows: the one merge walk that pairs two
// sides' rows by key (dense and sparse keys, keys as uint64 including
// negative integers, unkeyed rows left out, empty sides).
#include <cstdint>
#include <tuple>
#include <vector>

#include "gtest/gtest.h"
#include "keyspace/key_index.h"

namespace pgmerge::keyspace {
namespace {

SideIndex Make(const std::vector<int64_t>& keys, const std::vector<int64_t>& unkeyed = {}) {
  SideIndex index(0, 0);
  for (int64_t k : keys) index.AddRow(static_cast<uint64_t>(k), static_cast<uint64_t>(k) * 7);
  for (int64_t k : unkeyed) index.AddUnkeyedRow(static_cast<uint64_t>(k), 0);
  EXPECT_FALSE(index.Finalize().has_value());
  return index;
}

using Pair = std::tuple<uint64_t, uint32_t, uint32_t>;  // Key, a's row, b's row.

std::vector<Pair> Join(const SideIndex& a, const SideIndex& b) {
  std::vector<Pair> out;
  JoinByKey(a, b, [&](uint32_t ra, uint32_t rb) {
    out.emplace_back(ra != kNoRow ? a.key(ra) : b.key(rb), ra, rb);
  });
  return out;
}

TEST(JoinByKeyTest, EveryKeyOnceAscendingWithBothRows) {
  // Out of order within each side, as heaps are dumped; sparse keys.
  SideIndex a = Make({30, 10, 20, 50});
  SideIndex b = Make({20, 40, 10, 60, 70});
  std::vector<Pair> want = {{10, 1, 2},     {20, 2, 0},     {30, 0, kNoRow}, {40, kNoRow, 1},
                            {50, 3, kNoRow}, {60, kNoRow, 3}, {70, kNoRow, 4}};
  EXPECT_EQ(Join(a, b), want);
}

TEST(JoinByKeyTest, DenseKeysAndOneSideEmpty) {
  SideIndex a = Make({1, 2, 3, 4});
  SideIndex empty = Make({});
  std::vector<Pair> want = {{1, 0, kNoRow}, {2, 1, kNoRow}, {3, 2, kNoRow}, {4, 3, kNoRow}};
  EXPECT_EQ(Join(a, empty), want);
  std::vector<Pair> flipped = {{1, kNoRow, 0}, {2, kNoRow, 1}, {3, kNoRow, 2}, {4, kNoRow, 3}};
  EXPECT_EQ(Join(empty, a), flipped);
  EXPECT_TRUE(Join(empty, empty).empty());
}

TEST(JoinByKeyTest, OrderIsByUnsignedKey) {
  // Integer keys are stored as their uint64 image: -1 sorts last.
  SideIndex a = Make({-1, 0, 5});
  SideIndex b = Make({5, -1});
  std::vector<Pair> want = {{0, 1, kNoRow}, {5, 2, 0}, {static_cast<uint64_t>(-1), 0, 1}};
  EXPECT_EQ(Join(a, b), want);
}

TEST(JoinByKeyTest, UnkeyedRowsTakeNoPart) {
  SideIndex a = Make({1, 2}, {3});
  SideIndex b = Make({3}, {1});
  std::vector<Pair> want = {{1, 0, kNoRow}, {2, 1, kNoRow}, {3, kNoRow, 0}};
  EXPECT_EQ(Join(a, b), want);
}

TEST(MatchRowsTest, PerRowOfAItsRowInB) {
  SideIndex a = Make({30, 10, 20}, {40});
  SideIndex b = Make({20, 40, 10});
  // a's rows: 30 (none in b), 10 (b's row 2), 20 (b's row 0), unkeyed 40 (never).
  EXPECT_EQ(MatchRows(a, b), (std::vector<uint32_t>{kNoRow, 2, 0, kNoRow}));
  EXPECT_EQ(MatchRows(b, a), (std::vector<uint32_t>{2, kNoRow, 1}));
}

TEST(MatchRowsTest, LargeDenseAndSparseAgreeWithFind) {
  for (int64_t step : {1, 1000}) {
    std::vector<int64_t> ka, kb;
    for (int64_t i = 0; i < 5000; ++i) ka.push_back((i ^ 3) * step);  // Nearly sorted.
    for (int64_t i = 2500; i < 7500; i += 2) kb.push_back(i * step);
    SideIndex a = Make(ka), b = Make(kb);
    std::vector<uint32_t> m = MatchRows(a, b);
    ASSERT_EQ(m.size(), a.size());
    for (uint32_t r = 0; r < a.size(); ++r) {
      std::optional<uint32_t> f = b.Find(a.key(r));
      EXPECT_EQ(m[r], f.value_or(kNoRow)) << "step " << step << " row " << r;
    }
  }
}

}  // namespace
}  // namespace pgmerge::keyspace
