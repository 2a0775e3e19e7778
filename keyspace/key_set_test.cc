// KeySet: the same answers whether the keys are dense (bitmap) or not.
#include "keyspace/key_set.h"

#include <cstdint>
#include <initializer_list>

#include "gtest/gtest.h"

namespace pgmerge::keyspace {
namespace {

TEST(KeySetTest, DenseKeysAcrossZero) {
  KeySet s;
  for (int64_t k : {-3, 5, 0, 5, 1000}) s.insert(static_cast<uint64_t>(k));
  s.Finalize();
  EXPECT_EQ(s.size(), 4u);
  for (int64_t k : {-3, 0, 5, 1000}) EXPECT_TRUE(s.contains(static_cast<uint64_t>(k))) << k;
  for (int64_t k : std::initializer_list<int64_t>{-4, -1, 1, 4, 6, 999, 1001, INT64_MIN, INT64_MAX}) {
    EXPECT_FALSE(s.contains(static_cast<uint64_t>(k))) << k;
  }
}

TEST(KeySetTest, ScatteredKeysHashed) {
  KeySet s;
  const uint64_t keys[] = {0x9E3779B97F4A7C15ULL, 1, 0xFFFFFFFFFFFFFFFFULL, 1ULL << 63};
  for (uint64_t k : keys) s.insert(k);
  s.Finalize();
  EXPECT_EQ(s.size(), 4u);
  for (uint64_t k : keys) EXPECT_TRUE(s.contains(k));
  EXPECT_FALSE(s.contains(2));
  EXPECT_FALSE(s.contains(0));
}

TEST(KeySetTest, Empty) {
  KeySet s;
  EXPECT_TRUE(s.empty());
  s.Finalize();
  EXPECT_TRUE(s.empty());
  EXPECT_FALSE(s.contains(0));
}

}  // namespace
}  // namespace pgmerge::keyspace
