// Differential proof that pgmerge cuts statements where psql does: the same
// text goes through DumpSegmenter and through the real psql 15 (against a
// real PostgreSQL 15, so standard_conforming_strings is what the server
// reports), whose -L log frames each query exactly as it was sent.
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "parser/segmenter.h"
#include "tests/test_postgres.h"

namespace pgmerge::testing {
namespace {

// Whitespace and "--" to the end of a line removed, naively (inside literals
// too), and leading /* */ comments: psql drops "--" comments from what it
// sends and keeps a /* */ before the first token, pgmerge the other way.
std::string Normalize(std::string_view s, bool strip_leading_comments) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '-' && i + 1 < s.size() && s[i + 1] == '-') {
      while (i < s.size() && s[i] != '\n' && s[i] != '\r') ++i;
      continue;
    }
    if (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' ||
        s[i] == '\f') {
      continue;
    }
    out.push_back(s[i]);
  }
  while (strip_leading_comments && out.rfind("/*", 0) == 0) {
    int depth = 0;
    size_t i = 0;
    for (; i + 1 < out.size(); ++i) {
      if (out[i] == '/' && out[i + 1] == '*') {
        ++depth;
        ++i;
      } else if (out[i] == '*' && out[i + 1] == '/') {
        ++i;
        if (--depth == 0) break;
      }
    }
    if (depth != 0) break;
    out.erase(0, i + 1);
  }
  return out;
}

struct Cut {
  std::vector<std::string> statements;  // Up to the first stop.
  bool stopped = false;  // At a backslash, a refusal, or the end unterminated.
  bool has_meta = false;
};

Cut CutWithPgmerge(const std::string& input) {
  Cut cut;
  parser::DumpSegmenter seg(input, "in.sql");
  parser::Segment s;
  for (;;) {
    absl::StatusOr<bool> more = seg.Next(&s);
    if (!more.ok()) {
      cut.stopped = true;
      return cut;
    }
    if (!*more) return cut;
    if (s.kind == parser::SegmentKind::kMeta) {
      if (s.text.rfind("\\restrict ", 0) == 0 ||
          s.text.rfind("\\unrestrict ", 0) == 0) {
        continue;  // psql runs these; they send nothing.
      }
      cut.stopped = true;
      cut.has_meta = true;
      return cut;
    }
    if (s.kind == parser::SegmentKind::kSql ||
        s.kind == parser::SegmentKind::kCopyHeader) {
      cut.statements.push_back(Normalize(s.text, false));
    }
  }
}

class LexerPsqlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pg_ = SharedTestPostgres();
    ASSERT_NE(pg_, nullptr);
  }

  // The queries psql sends for `input`, read from its -L log.
  std::vector<std::string> PsqlQueries(const std::string& db,
                                       const std::string& input) {
    std::string in = absl::StrCat(pg_->tmp_dir(), "/lex-", counter_, ".sql");
    std::string log = absl::StrCat(pg_->tmp_dir(), "/lex-", counter_++, ".log");
    std::ofstream(in, std::ios::binary) << input;
    std::remove(log.c_str());
    absl::StatusOr<CommandResult> r = RunCommand(
        {"psql", "-X", "-q", "-U", "postgres", "-h", pg_->socket_dir(), "-p",
         std::to_string(pg_->port()), "-d", db, "-o", "/dev/null", "-L", log,
         "-f", in});
    EXPECT_TRUE(r.ok());
    std::ifstream f(log, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(f)),
                     std::istreambuf_iterator<char>());
    static constexpr std::string_view kHead = "********* QUERY **********\n";
    static constexpr std::string_view kTail = "\n**************************\n\n";
    std::vector<std::string> out;
    size_t at = 0;
    while ((at = text.find(kHead, at)) != std::string::npos) {
      at += kHead.size();
      size_t end = text.find(kTail, at);
      if (end == std::string::npos) break;
      out.push_back(Normalize(std::string_view(text).substr(at, end - at), true));
      at = end + kTail.size();
    }
    return out;
  }

  // pgmerge's statements equal psql's, up to where pgmerge stops.
  void ExpectSameCut(const std::string& db, const std::string& input,
                     int* compared) {
    Cut cut = CutWithPgmerge(input);
    std::vector<std::string> sent = PsqlQueries(db, input);
    // psql also sends a comment-only or unterminated rest; pgmerge refuses
    // or skips it.
    while (!cut.stopped && sent.size() > cut.statements.size() &&
           sent.back().empty()) {
      sent.pop_back();
    }
    if (cut.stopped) {
      ASSERT_GE(sent.size(), cut.statements.size()) << input;
      sent.resize(cut.statements.size());
    }
    ASSERT_EQ(cut.statements.size(), sent.size()) << input;
    for (size_t i = 0; i < sent.size(); ++i) {
      ASSERT_EQ(cut.statements[i], sent[i]) << "statement " << i << " of\n" << input;
    }
    *compared += static_cast<int>(sent.size());
  }

  TestPostgres* pg_ = nullptr;
  int counter_ = 0;
};

TEST_F(LexerPsqlTest, TrickyStatements) {
  ASSERT_TRUE(pg_->CreateDatabase("lexer_tricky").ok());
  const std::vector<std::string> cases = {
      "SELECT 1 /* a /* nested ; */ still ; */ ;\nSELECT 2;\n",
      "/* lead /* nested; */ ; */ SELECT 3;\n",
      "SET standard_conforming_strings = false;\nSELECT 'a\\';b';\nSELECT 4;\n",
      "SET standard_conforming_strings TO 'OFF';\nSELECT 'a\\'';\nSELECT 5;\n",
      "SET standard_conforming_strings = 0;\nSELECT 'x\\';y';\nSET "
      "standard_conforming_strings = yes;\nSELECT 'z\\';\n",
      "SET SESSION standard_conforming_strings = of;\nSELECT '\\'';\nRESET "
      "standard_conforming_strings;\nSELECT '\\';\n",
      "SELECT pg_catalog.set_config('standard_conforming_strings', 'off', "
      "false);\nSELECT '\\';';\nSELECT 6;\n",
      "SET standard_conforming_strings = off; SELECT '\\';\nSELECT '\\'';\n",
      "SELECT E'\\'';\nSELECT e'\\\\';\nSELECT U&'\\';\nSELECT 7;\n",
      "SELECT B'01''1';\nSELECT X'0f';\nSELECT N'it''s';\n",
      "SELECT 'a'\r'b';\nSELECT E'a'\n'\\'';\nSELECT 8;\n",
      "SELECT $$ ; $$, $a$ $$ ; $a$, $1, a$b, 1$q$ ; $q$;\nSELECT 9;\n",
      "SELECT \"a;\"\"b\", U&\"c;\";\n",
      "CREATE FUNCTION add_one(begin integer) RETURNS integer LANGUAGE sql\n"
      "    RETURN begin + 1;\nSELECT 10;\n",
      "CREATE OR REPLACE FUNCTION f(x int) RETURNS int LANGUAGE sql\nBEGIN "
      "ATOMIC\n  SELECT CASE WHEN x > 0 THEN 1 ELSE 2 END;\n  SELECT 3;\nEND;\n"
      "SELECT 11;\n",
      "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES "
      "((SELECT CASE WHEN true THEN 1 END)); END;\nSELECT 12;\n",
      "SELECT 1e'x';\nSELECT 1.e'\\';\nSELECT 13;\n",
      "SELECT a::text, :foo, :'bar', :\"baz\" FROM t;\nSELECT 14;\n",
      "SELECT '--', 1 -- c ; \n;\nSELECT 15; -- tail\n",
      "SELECT E'a\\\n';\nSELECT 16;\n",
  };
  int compared = 0;
  for (const std::string& c : cases) ExpectSameCut("lexer_tricky", c, &compared);
  EXPECT_GT(compared, 40);
}

TEST_F(LexerPsqlTest, SharedDumps) {
  int compared = 0;
  int n = 0;
  for (const char* path :
       {"regression/regression.dump.sql", "pagila/pagila.dump.sql",
        "pagila/pagila.inserts100.dump.sql", "chinook/chinook.dump.sql",
        "northwind/northwind.inserts.dump.sql", "french_towns/french_towns.dump.sql",
        "iso3166/iso3166.dump.sql"}) {
    std::ifstream f(SharedTestdata() + "/" + path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(f)),
                     std::istreambuf_iterator<char>());
    ASSERT_FALSE(text.empty()) << path;
    std::string db = absl::StrCat("lexer_dump_", n++);
    ASSERT_TRUE(pg_->CreateDatabase(db).ok());
    Cut cut = CutWithPgmerge(text);
    EXPECT_FALSE(cut.stopped) << path;
    ExpectSameCut(db, text, &compared);
  }
  EXPECT_GT(compared, 5000);
  std::cerr << "shared dumps: " << compared << " statements cut alike\n";
}

// Random text from pieces that stress the lexer. A backslash is only ever
// followed by characters that make harmless or unknown psql commands.
std::string RandomInput(std::mt19937_64& rng) {
  static const std::vector<std::string> kPieces = {
      "SELECT ", "'", "''", "E'", "e'", "U&'", "u&\"", "U&", "B'", "x'", "N'",
      "\"", "\"\"", "$$", "$a$", "$b$", "$1", "$", "a$", "1", "1e", "1.", ".5",
      "(", ")", ";", ";\n", "\n", "\n", "\r", " ", " ", "\t", "--", "-", "/*",
      "*/", "*", "/", "\\'", "\\\\", "\\;", "\\x", "BEGIN ", "END ", "CASE ",
      "CREATE ", "FUNCTION ", "PROCEDURE ", "OR ", "REPLACE ", "ATOMIC ",
      "begin", "end", "::", ":a", ":'a'", ":\"a\"", "x", "ab", "E", "e",
      "SET standard_conforming_strings = off;\n",
      "SET standard_conforming_strings = on;\n",
      "SET standard_conforming_strings TO 'false';\n", "RESET ALL;\n"};
  std::string out;
  int n = 1 + static_cast<int>(rng() % 16);
  for (int i = 0; i < n; ++i) out += kPieces[rng() % kPieces.size()];
  return out;
}

TEST_F(LexerPsqlTest, RandomInputs) {
  ASSERT_TRUE(pg_->CreateDatabase("lexer_random").ok());
  std::mt19937_64 rng(20251202);
  int compared = 0, inputs = 0, complete = 0;
  for (int i = 0; i < 200; ++i) {
    std::string input = RandomInput(rng);
    // Each input starts with the server's setting on.
    input = "RESET ALL;\n" + input;
    Cut cut = CutWithPgmerge(input);
    if (!cut.stopped) ++complete;
    ExpectSameCut("lexer_random", input, &compared);
    if (HasFatalFailure()) return;
    ++inputs;
  }
  std::cerr << "random: " << inputs << " inputs (" << complete
            << " cut to the end), " << compared << " statements alike\n";
  EXPECT_GE(complete, 5);  // Most random inputs stop at an unterminated literal.
  EXPECT_GT(compared, 200);
}

}  // namespace
}  // namespace pgmerge::testing
