// DeriveRestrictKey: hashed in steps (with pages handed back behind it), the
// key is the one of a single pass, and it tells inputs apart.
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "parser/dump_reader.h"

namespace pgmerge::parser {
namespace {

TEST(DeriveRestrictKeyTest, StepsCallBehindAndKeepTheKey) {
  // Larger than one 32 MiB step, so the hash goes in several.
  std::string big(size_t{70} << 20, 'x');
  big[12345] = 'y';
  const std::string small = "SELECT 1;\n";
  std::vector<std::pair<size_t, size_t>> calls;
  std::string stepped = DeriveRestrictKey(
      {big, small}, [&](size_t i, size_t offset) { calls.emplace_back(i, offset); });
  EXPECT_EQ(stepped, DeriveRestrictKey({big, small}));
  EXPECT_EQ(stepped.size(), 43u);
  std::vector<std::pair<size_t, size_t>> want = {
      {0, size_t{32} << 20}, {0, size_t{64} << 20}, {0, big.size()}, {1, small.size()}};
  EXPECT_EQ(calls, want);
  // The lengths go in: moving a byte from one input to the next changes it.
  EXPECT_NE(DeriveRestrictKey({"ab", "c"}), DeriveRestrictKey({"a", "bc"}));
}

}  // namespace
}  // namespace pgmerge::parser
