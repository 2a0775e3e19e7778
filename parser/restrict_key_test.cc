// The \restrict key: an input digested in steps (as the index pass reads
// it) gives the digest of one pass, and the key tells inputs apart.
#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "parser/dump_reader.h"

namespace pgmerge::parser {
namespace {

TEST(InputDigesterTest, StepsKeepTheKey) {
  std::string big(size_t{3} << 20, 'x');
  big[12345] = 'y';
  const std::string small = "SELECT 1;\n";
  InputDigester stepped(big);
  // Uneven steps, one going back (ignored) and one past the end (cut).
  size_t want = 0;
  for (size_t at : {size_t{1}, size_t{4096}, size_t{100}, size_t{1} << 20, size_t{5} << 20}) {
    want = std::min(std::max(at, want), big.size());
    stepped.Through(at);
    EXPECT_EQ(stepped.done(), want) << at;
  }
  InputDigester half(big);
  half.Through(big.size() / 2);  // Finish hashes the rest.
  const InputDigest a = stepped.Finish(), b = half.Finish(), c = InputDigester(big).Finish();
  EXPECT_EQ(a.sha256, c.sha256);
  EXPECT_EQ(b.sha256, c.sha256);
  EXPECT_EQ(a.size, big.size());
  const std::string key = RestrictKeyOf({c, InputDigester(small).Finish()});
  EXPECT_EQ(key, DeriveRestrictKey({big, small}));
  EXPECT_EQ(key.size(), 43u);
  EXPECT_TRUE(IsValidRestrictKey(key));
  // The lengths go in: moving a byte from one input to the next changes it.
  EXPECT_NE(DeriveRestrictKey({"ab", "c"}), DeriveRestrictKey({"a", "bc"}));
}

}  // namespace
}  // namespace pgmerge::parser
