#include "base/strings.h"

#include "gtest/gtest.h"

namespace pgmerge {
namespace {

TEST(StartsWithWordTest, WordThenSpaceOrEnd) {
  EXPECT_TRUE(StartsWithWord("INSERT INTO public.t VALUES (1);", "INSERT"));
  EXPECT_TRUE(StartsWithWord("SET client_encoding = 'UTF8';", "SET"));
  EXPECT_TRUE(StartsWithWord("SET\tx = y;", "SET"));
  EXPECT_TRUE(StartsWithWord("GRANT\nSELECT ON t TO r;", "GRANT"));
  EXPECT_TRUE(StartsWithWord("REVOKE", "REVOKE"));
}

TEST(StartsWithWordTest, AnyCase) {
  EXPECT_TRUE(StartsWithWord("alter table t owner to r;", "ALTER"));
  EXPECT_TRUE(StartsWithWord("Set session authorization r;", "SET"));
}

TEST(StartsWithWordTest, EndsAtAByteNoIdentifierHas) {
  EXPECT_TRUE(StartsWithWord("GRANT;", "GRANT"));
  EXPECT_TRUE(StartsWithWord("INSERT/* c */INTO t VALUES (1);", "INSERT"));
  EXPECT_TRUE(StartsWithWord("SET(x)", "SET"));
}

TEST(StartsWithWordTest, NotAPrefixOfALongerWord) {
  EXPECT_FALSE(StartsWithWord("SETTINGS", "SET"));
  EXPECT_FALSE(StartsWithWord("SET_x = 1;", "SET"));
  EXPECT_FALSE(StartsWithWord("SET1 = 1;", "SET"));
  EXPECT_FALSE(StartsWithWord("GRANTED", "GRANT"));
}

TEST(StartsWithWordTest, SeveralWords) {
  EXPECT_TRUE(StartsWithWord("ALTER LARGE OBJECT 1 OWNER TO r;", "ALTER LARGE OBJECT"));
  EXPECT_FALSE(StartsWithWord("ALTER LARGE OBJECTS", "ALTER LARGE OBJECT"));
}

TEST(StartsWithWordTest, ShorterOrOtherText) {
  EXPECT_FALSE(StartsWithWord("", "SET"));
  EXPECT_FALSE(StartsWithWord("SE", "SET"));
  EXPECT_FALSE(StartsWithWord(" SET x = 1;", "SET"));
  EXPECT_FALSE(StartsWithWord("RESET x;", "SET"));
}

}  // namespace
}  // namespace pgmerge
