#include "parser/copy_text.h"

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pgmerge::parser {
namespace {

TEST(CopyTextTest, DecodesEveryEscape) {
  struct Case {
    std::string in, out;
  };
  const std::vector<Case> cases = {
      {"plain", "plain"},   {"a\\\\b", "a\\b"},  {"\\t", "\t"},
      {"\\n", "\n"},        {"\\r", "\r"},       {"\\b", "\b"},
      {"\\f", "\f"},        {"\\v", "\v"},       {"\\101", "A"},
      {"\\1", "\x01"},      {"\\0012", std::string("\x01", 1) + "2"},
      {"\\x41", "A"},       {"\\x4", "\x04"},    {"\\x4g", "\x04g"},
      {"\\xg", "xg"},       {"\\q", "q"},        {"\\.", "."},
      {"end\\", "end\\"},
  };
  for (const Case& c : cases) {
    std::string scratch;
    EXPECT_EQ(DecodeCopyField(c.in, &scratch), c.out) << c.in;
  }
}

TEST(CopyTextTest, ZeroCopyWithoutEscapes) {
  std::string field = "no escapes here";
  std::string scratch;
  std::string_view out = DecodeCopyField(field, &scratch);
  EXPECT_EQ(out.data(), field.data());
}

TEST(CopyTextTest, SplitsAtUnescapedTabs) {
  std::vector<std::string_view> f;
  SplitCopyRow("1\ta\\tb\t\\N\t\t", &f);
  EXPECT_EQ(f, (std::vector<std::string_view>{"1", "a\\tb", "\\N", "", ""}));
  SplitCopyRow("a\\\tb", &f);  // A backslash before a raw tab escapes it.
  EXPECT_EQ(f, (std::vector<std::string_view>{"a\\\tb"}));
  SplitCopyRow("", &f);
  EXPECT_EQ(f, (std::vector<std::string_view>{""}));
  EXPECT_EQ(CountCopyFields("1\t2\t3"), 3u);
  EXPECT_EQ(CountCopyFields("a\\\tb\tc"), 2u);
}

// The vectorised splitter against the obvious byte loop, on rows dense in
// tabs and backslashes of every length around the 16-byte blocks.
TEST(CopyTextTest, SplitMatchesAByteLoop) {
  auto reference = [](std::string_view row) {
    std::vector<std::string_view> out;
    size_t start = 0;
    for (size_t i = 0; i < row.size(); ++i) {
      if (row[i] == '\\') {
        ++i;  // Whatever follows is data.
      } else if (row[i] == '\t') {
        out.push_back(row.substr(start, i - start));
        start = i + 1;
      }
    }
    out.push_back(row.substr(start));
    return out;
  };
  uint64_t state = 42;
  auto next = [&]() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33);
  };
  // Runs of backslashes across the 64-byte blocks' edges; now and then a
  // byte that is not plain ASCII (the split says whether it saw one).
  const char alphabet[] = {'a', 'b', '\t', '\\', 'n', '\\', '\t', 'x', '\\', '\\'};
  const char odd[] = {'\0', '\xC3', '\xA9', '\x80', '\xFF'};
  std::vector<std::string_view> fields;
  for (int round = 0; round < 40000; ++round) {
    std::string row(next() % (round % 4 == 0 ? 300 : 70), '\0');
    for (char& c : row) c = alphabet[next() % sizeof alphabet];
    bool plain = true;
    if (!row.empty() && round % 3 == 0) {
      row[next() % row.size()] = odd[next() % sizeof odd];
      plain = false;
    }
    EXPECT_EQ(SplitCopyRow(row, &fields), plain) << row;
    ASSERT_EQ(fields, reference(row)) << row;
    ASSERT_EQ(CountCopyFields(row), fields.size()) << row;
  }
}

// CountNewlines agrees with a byte loop at every length and offset,
// including runs of newlines long enough to fill its byte lanes.
TEST(CopyTextTest, CountNewlinesMatchesAByteLoop) {
  std::mt19937 rng(7);
  std::string text(16 * 700 + 37, '\n');  // All newlines: every lane at its limit.
  auto loop = [](const char* p, const char* end) {
    int64_t n = 0;
    for (; p < end; ++p) n += *p == '\n';
    return n;
  };
  EXPECT_EQ(CountNewlines(text.data(), text.data() + text.size()),
            static_cast<int64_t>(text.size()));
  for (char& c : text) c = "\nab\n\t\x0a\xff"[rng() % 7];
  for (int trial = 0; trial < 2000; ++trial) {
    const size_t begin = rng() % 40;
    const size_t len = rng() % (text.size() - begin);
    const char* p = text.data() + begin;
    ASSERT_EQ(CountNewlines(p, p + len), loop(p, p + len)) << begin << " " << len;
  }
}

TEST(CopyTextTest, EncodeDecodeRoundTrip) {
  uint64_t x = 0x9E3779B97F4A7C15ULL;  // splitmix64: same bytes every run.
  for (int i = 0; i < 2000; ++i) {
    std::string raw;
    int n = static_cast<int>(x % 40);
    for (int k = 0; k < n; ++k) {
      x += 0x9E3779B97F4A7C15ULL;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      raw.push_back(static_cast<char>(z >> 56));
    }
    std::string encoded, scratch;
    AppendCopyEscaped(raw, &encoded);
    EXPECT_TRUE(IsCanonicalCopyField(encoded));
    EXPECT_EQ(encoded.find('\t'), std::string::npos);
    EXPECT_EQ(encoded.find('\n'), std::string::npos);
    EXPECT_EQ(DecodeCopyField(encoded, &scratch), raw);
  }
}

TEST(CopyTextTest, CanonicalForm) {
  std::string scratch;
  EXPECT_EQ(CanonicalCopyField("a\\x41", &scratch), "aA");
  EXPECT_EQ(CanonicalCopyField("a\\\\b", &scratch), "a\\\\b");
  EXPECT_EQ(CanonicalCopyField("\\N", &scratch), "\\N");
  EXPECT_FALSE(IsCanonicalCopyField("\\101"));
}

TEST(CopyTextTest, Utf8) {
  EXPECT_TRUE(IsValidUtf8("plain ascii, long enough for the word loop"));
  EXPECT_TRUE(IsValidUtf8("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80 b\xc4\xb1g\xc4\xb1nt"));
  EXPECT_FALSE(IsValidUtf8("\xc0\xaf"));          // Overlong.
  EXPECT_FALSE(IsValidUtf8("\xed\xa0\x80"));      // Surrogate.
  EXPECT_FALSE(IsValidUtf8("\xe2\x82"));          // Truncated.
  EXPECT_FALSE(IsValidUtf8("\xf4\x90\x80\x80"));  // Past U+10FFFF.
  EXPECT_FALSE(IsValidUtf8(std::string("ab\0cdefghijk", 12)));
  EXPECT_FALSE(IsValidUtf8("\xff"));
}

// A byte-at-a-time decoder, the definition IsValidUtf8 is checked against
// (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF; and
// no NUL, which PostgreSQL text cannot hold).
bool ReferenceUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = s[i];
    if (c == 0) return false;
    int len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size()) return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (int k = 1; k < len; ++k) {
      const unsigned char d = s[i + k];
      if ((d >> 6) != 2) return false;
      cp = cp << 6 | (d & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += len;
  }
  return true;
}

// Every string of one to three bytes, and four-byte ones over the values
// where the rules change, each set across a 16-byte block's edge and at
// the end; then random text of valid code points with one byte spoiled.
TEST(CopyTextTest, Utf8MatchesAByteLoop) {
  auto check = [](const std::string& bytes) {
    for (size_t at : {size_t{0}, size_t{13}, size_t{14}, size_t{15}, size_t{30}}) {
      std::string s(at, 'a');
      s += bytes;
      for (std::string tail : {"", "bc", "0123456789abcdefghij"}) {
        const std::string t = s + tail;
        ASSERT_EQ(IsValidUtf8(t), ReferenceUtf8(t)) << at << " " << testing::PrintToString(t);
        ASSERT_EQ(internal::IsValidUtf8Scalar(t), ReferenceUtf8(t)) << testing::PrintToString(t);
      }
    }
  };
  for (int a = 0; a < 256; ++a) {
    check(std::string(1, static_cast<char>(a)));
    for (int b = 0; b < 256; ++b) {
      const std::string two = {static_cast<char>(a), static_cast<char>(b)};
      ASSERT_EQ(IsValidUtf8(two), ReferenceUtf8(two));
      if (a >= 0xC0 || b >= 0x80) check(two);
    }
  }
  for (int a = 0xC0; a < 256; ++a) {
    for (int b = 0x80; b < 0xC0; ++b) {
      for (int c = 0; c < 256; ++c) {
        const std::string three = {static_cast<char>(a), static_cast<char>(b),
                                   static_cast<char>(c)};
        ASSERT_EQ(IsValidUtf8(three), ReferenceUtf8(three)) << testing::PrintToString(three);
      }
    }
  }
  const unsigned char edges[] = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0,
                                 0xBF, 0xC0, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0xFF};
  for (int a = 0xE0; a < 256; ++a) {
    for (unsigned char b : edges) {
      for (unsigned char c : edges) {
        for (unsigned char d : edges) {
          check({static_cast<char>(a), static_cast<char>(b), static_cast<char>(c),
                 static_cast<char>(d)});
        }
      }
    }
  }
  std::mt19937 rng(7);
  const std::vector<std::string> points = {"a", "\t", "\xC3\xA9", "\xD0\xBF", "\xE2\x82\xAC",
                                           "\xE6\x97\xA5", "\xF0\x9F\x98\x80", "\xF4\x8F\xBF\xBF"};
  for (int round = 0; round < 20000; ++round) {
    std::string s;
    const size_t n = rng() % 80;
    for (size_t k = 0; k < n; ++k) s += points[rng() % points.size()];
    ASSERT_TRUE(IsValidUtf8(s)) << testing::PrintToString(s);
    if (s.empty()) continue;
    s[rng() % s.size()] = static_cast<char>(rng() % 256);
    ASSERT_EQ(IsValidUtf8(s), ReferenceUtf8(s)) << testing::PrintToString(s);
    ASSERT_EQ(internal::IsValidUtf8Scalar(s), ReferenceUtf8(s)) << testing::PrintToString(s);
  }
}

}  // namespace
}  // namespace pgmerge::parser
