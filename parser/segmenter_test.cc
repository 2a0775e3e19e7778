#include "parser/segmenter.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pgmerge::parser {
namespace {

struct Piece {
  SegmentKind kind;
  std::string text;
  int64_t line;
  bool operator==(const Piece& o) const {
    return kind == o.kind && text == o.text && line == o.line;
  }
};

std::ostream& operator<<(std::ostream& os, const Piece& p) {
  return os << static_cast<int>(p.kind) << "@" << p.line << ":[" << p.text << "]";
}

absl::StatusOr<std::vector<Piece>> Cut(const std::string& input) {
  DumpSegmenter seg(input, "t.sql");
  std::vector<Piece> out;
  Segment s;
  for (;;) {
    absl::StatusOr<bool> more = seg.Next(&s);
    if (!more.ok()) return more.status();
    if (!*more) return out;
    out.push_back({s.kind, std::string(s.text), s.line});
  }
}

std::string ErrorOf(const std::string& input) {
  absl::StatusOr<std::vector<Piece>> r = Cut(input);
  return r.ok() ? "ok" : std::string(r.status().message());
}

constexpr auto kSql = SegmentKind::kSql;
constexpr auto kRow = SegmentKind::kCopyRow;

TEST(SegmenterTest, StatementsCommentsAndMeta) {
  auto r = Cut("--\n-- header\n--\n\\restrict KEY\nSET a = 1;\n\n"
               "/* c; */ CREATE TABLE t (a int); -- trailing; comment\n"
               "\\unrestrict KEY\n");
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<Piece> want = {{SegmentKind::kMeta, "\\restrict KEY", 4},
                             {kSql, "SET a = 1;", 5},
                             {kSql, "CREATE TABLE t (a int);", 7},
                             {SegmentKind::kMeta, "\\unrestrict KEY", 8}};
  EXPECT_EQ(*r, want);
}

TEST(SegmenterTest, SemicolonsInsideQuotes) {
  const std::vector<std::string> statements = {
      "SELECT 'a;b';",
      "SELECT 'it''s;';",
      "SELECT \"we;ird\"\"name\" FROM t;",
      "SELECT E'it\\'s; ok';",
      "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; $$ LANGUAGE sql;",
      "CREATE FUNCTION g() RETURNS text AS $body$ SELECT '$$;'; $body$ LANGUAGE sql;",
      "SELECT 1 /* a; /* nested; */ still; */ ;",
      "SELECT 1 -- not; the end\n;",
      "CREATE FUNCTION h() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; "
      "SELECT CASE WHEN true THEN 2 END; END;",
      "SELECT $1::text, a$b FROM t;",
  };
  for (const std::string& st : statements) {
    auto r = Cut(st + "\nSELECT 2;\n");
    ASSERT_TRUE(r.ok()) << st << ": " << r.status();
    ASSERT_EQ(r->size(), 2u) << st;
    EXPECT_EQ((*r)[0].text, st);
    EXPECT_EQ((*r)[1].text, "SELECT 2;");
  }
}

TEST(SegmenterTest, StandardConformingStringsOff) {
  // With the setting off, a backslash escapes the quote in a plain literal.
  auto r = Cut("SET standard_conforming_strings = off;\nSELECT 'a\\';b';\nSELECT 3;\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[1].text, "SELECT 'a\\';b';");
  // On (the default), the same backslash is a plain character.
  r = Cut("SELECT 'a\\';\nSELECT 3;\n");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].text, "SELECT 'a\\';");
}

TEST(SegmenterTest, CopyBlocks) {
  auto r = Cut("COPY public.t (a, b) FROM stdin;\n"
               "1\tx;y\n"
               "2\t\\.\n"          // An escaped "\." inside data is data.
               "\\.x\t3\n"         // So is a line that only starts with it.
               "\\.\n"
               "COPY public.e (a) FROM stdin;\n"
               "\\.\n"             // An empty table.
               "SELECT 1;\n");
  ASSERT_TRUE(r.ok()) << r.status();
  std::vector<Piece> want = {{SegmentKind::kCopyHeader, "COPY public.t (a, b) FROM stdin;", 1},
                             {kRow, "1\tx;y", 2},
                             {kRow, "2\t\\.", 3},
                             {kRow, "\\.x\t3", 4},
                             {SegmentKind::kCopyEnd, "\\.", 5},
                             {SegmentKind::kCopyHeader, "COPY public.e (a) FROM stdin;", 6},
                             {SegmentKind::kCopyEnd, "\\.", 7},
                             {kSql, "SELECT 1;", 8}};
  EXPECT_EQ(*r, want);
}

TEST(SegmenterTest, CrlfLineEnds) {
  auto r = Cut("SET a = 1;\r\nCOPY public.t (a) FROM stdin;\r\n1\r\n2\r\n\\.\r\nSELECT 1;\r\n");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 6u);
  EXPECT_EQ((*r)[2], (Piece{kRow, "1", 3}));
  EXPECT_EQ((*r)[3], (Piece{kRow, "2", 4}));
  EXPECT_EQ((*r)[4].kind, SegmentKind::kCopyEnd);
  EXPECT_EQ((*r)[5], (Piece{kSql, "SELECT 1;", 6}));
}

TEST(SegmenterTest, ErrorsNameFileAndLine) {
  EXPECT_EQ(ErrorOf("SELECT 1;\nSELECT 'open;\n"), "t.sql:2: unterminated quoted string");
  EXPECT_EQ(ErrorOf("SELECT \"open;\n"), "t.sql:1: unterminated quoted identifier");
  EXPECT_EQ(ErrorOf("\nSELECT $x$ open;\n"), "t.sql:2: unterminated dollar-quoted string $x$");
  EXPECT_EQ(ErrorOf("/* open\n"), "t.sql:1: unterminated /* comment");
  EXPECT_EQ(ErrorOf("SELECT 1;\nSELECT 2\n"),
            "t.sql:2: statement is not terminated by ';' (file truncated?)");
  EXPECT_EQ(ErrorOf("COPY public.t (a) FROM stdin;\n1\n2\n"),
            "t.sql:1: COPY data block has no terminating \\. line (file truncated?)");
  EXPECT_EQ(ErrorOf("COPY public.t (a) FROM stdin;\n1\n2"),
            "t.sql:3: COPY data ends mid-row without a terminating \\. line (file "
            "truncated?)");
}

TEST(SegmenterTest, IsCopyFromStdin) {
  EXPECT_TRUE(IsCopyFromStdin("COPY public.t (a) FROM stdin;"));
  EXPECT_TRUE(IsCopyFromStdin("copy t from STDIN ;"));
  EXPECT_FALSE(IsCopyFromStdin("COPY t TO stdout;"));
  EXPECT_FALSE(IsCopyFromStdin("COPYX t FROM stdin;"));
  EXPECT_FALSE(IsCopyFromStdin("COPY t FROM '/file';"));
}

}  // namespace
}  // namespace pgmerge::parser

namespace pgmerge::parser {
namespace {

// Skimming a COPY block counts exactly the rows cutting it would return,
// whatever the data holds, and leaves the segmenter at the same place.
TEST(SegmenterTest, SkipCopyBlockCountsRows) {
  std::vector<std::string> blocks = {
      "\\.\n",
      "1\n\\.\n",
      "1\tx\n\\\\.\n2\n\\.x\n\\N\t\\.\n\\.\n",
      "a\r\nb\r\n\\.\r\n",
      std::string(100, 'x') + "\n\\\\\n\\N\n" + std::string(7, 'y') + "\n\\.\n",
      "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n\\.",
  };
  // Long blocks dense in line ends and backslashes: the skim's 16-byte
  // blocks, their lane sums every 255 blocks, and lines starting with a
  // backslash at every offset.
  uint64_t state = 7;
  auto next = [&]() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<uint32_t>(state >> 33);
  };
  const char alphabet[] = {'a', '\\', '.', '\n', '\n', 'x', '\t', '\\'};
  for (size_t size : {5u, 17u, 300u, 4100u, 9000u, 20000u}) {
    std::string block(size, 'a');
    for (char& c : block) c = alphabet[next() % sizeof alphabet];
    // No line of it may be the terminator but the last.
    for (size_t at = block.find("\\."); at != std::string::npos; at = block.find("\\.", at + 1)) {
      if (at == 0 || block[at - 1] == '\n') block[at + 1] = 'x';
    }
    blocks.push_back(block + "\n\\.\n");
  }
  for (const std::string& block : blocks) {
    const std::string dump = "COPY public.t (a) FROM stdin;\n" + block + "\nSELECT 1;\n";
    DumpSegmenter cut(dump, "t.sql"), skim(dump, "t.sql");
    Segment a, b;
    ASSERT_TRUE(*cut.Next(&a));
    ASSERT_TRUE(*skim.Next(&b));
    int64_t rows = 0;
    for (;;) {
      ASSERT_TRUE(*cut.Next(&a));
      if (a.kind == SegmentKind::kCopyEnd) break;
      ++rows;
    }
    absl::StatusOr<int64_t> skipped = skim.SkipCopyBlock();
    ASSERT_TRUE(skipped.ok()) << skipped.status();
    EXPECT_EQ(*skipped, rows) << block;
    ASSERT_TRUE(*cut.Next(&a));
    ASSERT_TRUE(*skim.Next(&b));
    EXPECT_EQ(a.text, b.text);
    EXPECT_EQ(a.line, b.line);
  }
  DumpSegmenter truncated("COPY public.t (a) FROM stdin;\n1\n\\\\.\n2\n", "t.sql");
  Segment s;
  ASSERT_TRUE(*truncated.Next(&s));
  EXPECT_EQ(truncated.SkipCopyBlock().status().message(),
            "t.sql:1: COPY data block has no terminating \\. line (file truncated?)");
}

// A jump to a row found before goes on from that row, on its line; a
// place where no row starts moves nothing.
TEST(SegmenterTest, JumpToCopyRowOnlyToARowStart) {
  const std::string dump =
      "COPY public.t (a) FROM stdin;\n1\n22\n333\n\\.\nSELECT 1;\n";
  const size_t row1 = dump.find("1\n"), row3 = dump.find("333");
  for (size_t wrong : {row1, row3 + 1, dump.find("\\."), dump.find("SELECT"), dump.size()}) {
    // (SELECT: just past the "\." line.)
    DumpSegmenter jump(dump, "t.sql");
    Segment s;
    ASSERT_TRUE(*jump.Next(&s));  // The COPY line.
    EXPECT_FALSE(jump.JumpToCopyRow(wrong, 4)) << wrong;
    ASSERT_TRUE(*jump.Next(&s));
    EXPECT_EQ(s.offset, row1);  // Nothing moved.
  }
  DumpSegmenter jump(dump, "t.sql");
  Segment s;
  EXPECT_FALSE(jump.JumpToCopyRow(row3, 4));  // No block open.
  ASSERT_TRUE(*jump.Next(&s));
  ASSERT_TRUE(jump.JumpToCopyRow(row3, 4));
  ASSERT_TRUE(*jump.Next(&s));
  EXPECT_EQ(s.text, "333");
  EXPECT_EQ(s.line, 4);
  ASSERT_TRUE(*jump.Next(&s));
  EXPECT_EQ(s.kind, SegmentKind::kCopyEnd);
  EXPECT_EQ(s.line, 5);
}

// A jump to a "\." line found before gives what cutting the rows gives
// after it; anywhere else it moves nothing.
TEST(SegmenterTest, JumpToCopyEndOnlyToATerminator) {
  const std::string dump =
      "COPY public.t (a) FROM stdin;\n1\n\\\\.\n\\.x\n2\n\\.\nSELECT 1;\n";
  Segment a, end;
  DumpSegmenter cut(dump, "t.sql");
  do {
    ASSERT_TRUE(*cut.Next(&end));
  } while (end.kind != SegmentKind::kCopyEnd);
  ASSERT_TRUE(*cut.Next(&a));
  const size_t row1 = dump.find("1\n");
  for (size_t wrong : {size_t{0}, row1, dump.find("\\\\."), dump.find("\\.x"),
                       end.offset + 1, dump.size()}) {
    DumpSegmenter jump(dump, "t.sql");
    Segment s;
    ASSERT_TRUE(*jump.Next(&s));  // The COPY line.
    EXPECT_FALSE(jump.JumpToCopyEnd(wrong, 9)) << wrong;
    ASSERT_TRUE(*jump.Next(&s));
    EXPECT_EQ(s.offset, row1);  // Nothing moved.
  }
  DumpSegmenter jump(dump, "t.sql");
  Segment s;
  EXPECT_FALSE(jump.JumpToCopyEnd(end.offset, end.line));  // No block open.
  ASSERT_TRUE(*jump.Next(&s));
  ASSERT_TRUE(jump.JumpToCopyEnd(end.offset, end.line));
  ASSERT_TRUE(*jump.Next(&s));
  EXPECT_EQ(s.kind, SegmentKind::kCopyEnd);
  EXPECT_EQ(s.line, end.line);
  ASSERT_TRUE(*jump.Next(&s));
  EXPECT_EQ(s.text, a.text);
  EXPECT_EQ(s.line, a.line);
}

}  // namespace
}  // namespace pgmerge::parser

namespace pgmerge::parser {
namespace {

// Every spelling SET accepts: after it, a plain literal's backslash escapes
// (off) or does not (on), from the next line on.
TEST(SegmenterPsqlTest, StandardConformingStringsSpellings) {
  const std::vector<std::pair<std::string, bool>> sets = {
      {"SET standard_conforming_strings = off;", false},
      {"set STANDARD_CONFORMING_STRINGS to OFF;", false},
      {"SET standard_conforming_strings = false;", false},
      {"SET standard_conforming_strings = 'no';", false},
      {"SET standard_conforming_strings TO 0;", false},
      {"SET standard_conforming_strings = 'F';", false},
      {"SET SESSION standard_conforming_strings = of;", false},
      {"SET LOCAL standard_conforming_strings = n;", false},
      {"SELECT pg_catalog.set_config('standard_conforming_strings', 'off', false);",
       false},
      {"SET standard_conforming_strings = on;", true},
      {"SET standard_conforming_strings = 'TRUE';", true},
      {"SET standard_conforming_strings TO yes;", true},
      {"SET standard_conforming_strings = 1;", true},
      {"SET standard_conforming_strings TO DEFAULT;", true},
      {"RESET standard_conforming_strings;", true},
      {"RESET ALL;", true},
  };
  for (const auto& [set, on] : sets) {
    // Start from the other value, so that every SET changes it.
    std::string input = absl::StrCat(on ? "SET standard_conforming_strings = off;\n" : "",
                                     set, "\nSELECT 'a\\';\nSELECT 2;\n");
    DumpSegmenter seg(input, "t.sql");
    Segment s;
    std::vector<std::string> texts;
    for (;;) {
      absl::StatusOr<bool> more = seg.Next(&s);
      if (!more.ok()) break;  // Off: the literal never ends.
      if (!*more) break;
      texts.push_back(std::string(s.text));
    }
    if (on) {
      EXPECT_EQ(texts.back(), "SELECT 2;") << set;
      EXPECT_EQ(texts[texts.size() - 2], "SELECT 'a\\';") << set;
    } else {
      // The literal swallows "';\nSELECT 2;" and never ends.
      EXPECT_EQ(texts.size(), 1u) << set;
    }
  }
}

TEST(SegmenterPsqlTest, RefusesWhatPsqlWouldRun) {
  auto error = [](const std::string& input) {
    DumpSegmenter seg(input, "t.sql");
    Segment s;
    for (;;) {
      absl::StatusOr<bool> more = seg.Next(&s);
      if (!more.ok()) return std::string(more.status().message());
      if (!*more) return std::string("ok");
    }
  };
  EXPECT_NE(error("SELECT 1 \\g\n").find("t.sql:1: psql would run \\g"), std::string::npos);
  EXPECT_NE(error("SELECT 1\\; SELECT 2;\n").find("psql would run \\;"), std::string::npos);
  EXPECT_NE(error("SELECT :DBNAME;\n").find("variable"), std::string::npos);
  EXPECT_EQ(error("SELECT :nobody, a::int, x[1:2];\n"), "ok");
  EXPECT_NE(error("SET standard_conforming_strings = maybe;\n").find("cannot tell"),
            std::string::npos);
  EXPECT_NE(error("SET standard_conforming_strings = off; SELECT 1,\n'b\\'';\n").find(
                "on the line where"),
            std::string::npos);
  EXPECT_NE(error("COPY public.t (a) FROM stdin; SELECT 1;\n1\n\\.\n").find("after a COPY"),
            std::string::npos);
  // A nested comment between statements hides its "*/ \\! id".
  EXPECT_EQ(error("/* a /* b */ \n\\! id */ SELECT 1;\n"), "ok");
}

}  // namespace
}  // namespace pgmerge::parser
