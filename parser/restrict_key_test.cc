// The \restrict key: an input digested in steps (as the index pass reads
// it) gives the digest of one pass; COPY rows are searched for
// \unrestrict instead of hashed, and where any holds it there is no key
// until every input is hashed whole (HostileInputTest shows the merge's).
#include "parser/restrict_key.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "gtest/gtest.h"

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
  half.Through(big.size() / 2);  // Finish takes the rest.
  const InputDigest a = stepped.Finish(), b = half.Finish(), c = InputDigester(big).Finish();
  EXPECT_EQ(a.sha256, c.sha256);
  EXPECT_EQ(b.sha256, c.sha256);
  EXPECT_EQ(a.size, big.size());
  EXPECT_EQ(a.row_blocks, 0u);
  const std::string key = *RestrictKeyOf({c, InputDigester(small).Finish()});
  EXPECT_EQ(key, DeriveRestrictKey({big, small}));
  EXPECT_EQ(key.size(), 43u);
  EXPECT_TRUE(IsValidRestrictKey(key));
  // The lengths go in: moving a byte from one input to the next changes it.
  EXPECT_NE(DeriveRestrictKey({"ab", "c"}), DeriveRestrictKey({"a", "bc"}));
}

// A dump with one COPY block: header, rows, terminator, a statement.
struct Dump {
  std::string text;
  size_t rows_begin, rows_end;
};
Dump WithRows(const std::string& rows, const std::string& after = "SELECT 2;\n") {
  Dump d;
  d.text = "SELECT 1;\nCOPY t (a) FROM stdin;\n";
  d.rows_begin = d.text.size();
  d.text += rows;
  d.rows_end = d.text.size();
  d.text += "\\.\n" + after;
  return d;
}
// As the index pass takes it: steps of `step` bytes, the block marked.
InputDigest DigestOf(const Dump& d, size_t step) {
  InputDigester g(d.text);
  for (size_t at = 0; at < d.rows_begin; at += step) g.Through(at);
  g.BeginRows(d.rows_begin);
  for (size_t at = d.rows_begin; at < d.rows_end; at += step) g.Through(at);
  g.EndRows(d.rows_end);
  return g.Finish();
}
std::string KeyOf(const Dump& d, size_t step = 7) {
  return *RestrictKeyOf({DigestOf(d, step)});
}

TEST(InputDigesterTest, RowsSearchedNotHashed) {
  const Dump plain = WithRows("1\n2\n3\n");
  const InputDigest g = DigestOf(plain, 5);
  EXPECT_EQ(g.row_blocks, 1u);
  EXPECT_FALSE(g.rows_unrestrict);
  // Steps do not matter; the rows' bytes do not go in, their length does,
  // and every byte outside them does.
  EXPECT_EQ(KeyOf(plain, 1), KeyOf(plain, 1000));
  EXPECT_EQ(KeyOf(plain), KeyOf(WithRows("4\n5\n6\n")));
  EXPECT_NE(KeyOf(plain), KeyOf(WithRows("1\n2\n33\n")));
  EXPECT_NE(KeyOf(plain), KeyOf(WithRows("1\n2\n3\n", "SELECT 3;\n")));
  // Not the key of the input hashed whole.
  EXPECT_NE(KeyOf(plain), DeriveRestrictKey({plain.text}));
  // A step that went past the rows' end before EndRows: those bytes are
  // hashed all the same.
  InputDigester late(plain.text);
  late.BeginRows(plain.rows_begin);
  late.Through(plain.text.size());
  late.EndRows(plain.rows_end);
  EXPECT_EQ(*RestrictKeyOf({late.Finish()}), KeyOf(plain));
}

TEST(InputDigesterTest, TheWordInRowsGivesNoKey) {
  const Dump other = WithRows("1\n");
  for (const std::string word : {"\\unrestrict", "\\UnReStRiCt", "\\\\unrestrict"}) {
    for (size_t cut = 0; cut <= 12; ++cut) {  // The word across a step.
      const Dump d = WithRows(std::string(40 - cut, 'a') + word + " K\n");
      for (size_t step : {size_t{1}, size_t{9}, size_t{10}, size_t{40}, size_t{1000}}) {
        const InputDigest g = DigestOf(d, step);
        EXPECT_TRUE(g.rows_unrestrict) << word << " " << cut << " " << step;
        EXPECT_EQ(RestrictKeyOf({DigestOf(other, step), g}), std::nullopt);
      }
    }
  }
  // Outside the rows it is hashed, not searched for.
  const Dump stated = WithRows("1\n", "\\unrestrict K\n");
  EXPECT_FALSE(DigestOf(stated, 3).rows_unrestrict);
  EXPECT_NE(KeyOf(stated), DeriveRestrictKey({stated.text}));
  // Only the command: the word alone, or after a space, or cut, is not it.
  EXPECT_FALSE(DigestOf(WithRows("unrestricted\n\\ unrestrict\n\\unrestric t\n\\nrestrict\n"), 4)
                   .rows_unrestrict);
}

TEST(HoldsUnrestrictCommandTest, EveryPlaceAndCase) {
  const std::string word = "\\unrestrict";
  for (size_t n = 0; n < 80; ++n) {
    for (size_t at = 0; at + word.size() <= n; ++at) {
      std::string s(n, '\\');  // Backslashes everywhere: many candidates.
      std::string w = word;
      const size_t upper = 1 + at % 10;
      w[upper] = static_cast<char>(w[upper] - 32);
      s.replace(at, w.size(), w);
      EXPECT_TRUE(HoldsUnrestrictCommand(s)) << n << " " << at;
      s[at + (at % 11)] = '_';
      EXPECT_FALSE(HoldsUnrestrictCommand(s)) << n << " " << at;
    }
  }
  // Bytes that fold onto letters: 'U' | 0x20 is 'u', but so is nothing
  // else; the backslash is not folded ('|' is '\\' | 0x20).
  EXPECT_FALSE(HoldsUnrestrictCommand(std::string("\\\xd5nrestrict", 11)));
  EXPECT_FALSE(HoldsUnrestrictCommand("|unrestrict"));
  EXPECT_FALSE(HoldsUnrestrictCommand("\\unrestric"));
}

}  // namespace
}  // namespace pgmerge::parser
