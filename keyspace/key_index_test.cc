#include "keyspace/key_index.h"

#include <cstdint>
#include <limits>

#include "gtest/gtest.h"

namespace pgmerge::keyspace {
namespace {

TEST(ParseInt64Test, Values) {
  int64_t v = 0;
  EXPECT_TRUE(ParseInt64("0", &v) && v == 0);
  EXPECT_TRUE(ParseInt64("-42", &v) && v == -42);
  EXPECT_TRUE(ParseInt64("+7", &v) && v == 7);
  EXPECT_TRUE(ParseInt64("9223372036854775807", &v) &&
              v == std::numeric_limits<int64_t>::max());
  EXPECT_TRUE(ParseInt64("-9223372036854775808", &v) &&
              v == std::numeric_limits<int64_t>::min());
  EXPECT_FALSE(ParseInt64("9223372036854775808", &v));
  EXPECT_FALSE(ParseInt64("\\N", &v));
  EXPECT_FALSE(ParseInt64("", &v));
  EXPECT_FALSE(ParseInt64("-", &v));
  EXPECT_FALSE(ParseInt64("12a", &v));
  EXPECT_FALSE(ParseInt64("1.5", &v));
}

TEST(SideIndexTest, FindsKeysInAnyOrder) {
  for (bool dense : {true, false}) {
    SideIndex index(1, 0);
    // Ascending with a few out of order, as pg_dump writes heaps.
    const int64_t keys[] = {1, 2, 3, 7, 5, 9, 4, 10, 6, 8};
    for (int64_t k : keys) {
      int64_t key = dense ? k : k * 10;
      uint32_t row = index.AddRow(static_cast<uint64_t>(key), key * 3);
      index.AddFk(key + 1);
      EXPECT_EQ(index.fk(row, 0), key + 1);
    }
    ASSERT_FALSE(index.Finalize().has_value());
    for (int64_t k = 1; k <= 10; ++k) {
      int64_t key = dense ? k : k * 10;
      std::optional<uint32_t> row = index.Find(static_cast<uint64_t>(key));
      ASSERT_TRUE(row.has_value()) << key;
      EXPECT_EQ(index.key(*row), static_cast<uint64_t>(key));
      EXPECT_EQ(index.fingerprint(*row), static_cast<uint64_t>(key * 3));
    }
    EXPECT_FALSE(index.Find(0).has_value());
    EXPECT_FALSE(index.Find(11 * 10).has_value());
    EXPECT_FALSE(index.Find(dense ? 100 : 15).has_value());
  }
}

TEST(SideIndexTest, ReportsDuplicateKeys) {
  SideIndex index(0, 0);
  index.AddRow(5, 0);
  index.AddRow(6, 0);
  index.AddRow(5, 1);
  std::optional<uint64_t> dup = index.Finalize();
  ASSERT_TRUE(dup.has_value());
  EXPECT_EQ(*dup, 5u);
}

TEST(SideIndexTest, UnkeyedRowsAreNotFound) {
  SideIndex index(0, 0);
  index.AddUnkeyedRow(42, 1);
  index.Finalize();
  EXPECT_FALSE(index.Find(42).has_value());
  EXPECT_EQ(index.size(), 1u);
}

TEST(RowMultisetTest, CountsCopies) {
  RowMultiset m;
  m.Add(7);
  m.Add(7);
  EXPECT_TRUE(m.Take(7));
  EXPECT_TRUE(m.Take(7));
  EXPECT_FALSE(m.Take(7));
  EXPECT_FALSE(m.Take(8));
}

TEST(RemapTableTest, AppliesAndSorts) {
  RemapTable r;
  r.Set(12, 40);
  r.Set(11, 39);
  EXPECT_EQ(r.Apply(11), 39);
  EXPECT_EQ(r.Apply(13), 13);
  EXPECT_EQ(r.Sorted(), (std::vector<std::pair<int64_t, int64_t>>{{11, 39}, {12, 40}}));
}

}  // namespace
}  // namespace pgmerge::keyspace
