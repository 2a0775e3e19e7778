// DumpReader: COPY rows are checked for UTF-8 a stretch of lines at a time,
// yet a bad byte is still reported at its own row's line, and text after
// the block is judged on its own.
#include "parser/dump_reader.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"

namespace pgmerge::parser {
namespace {

// Reads `dump` to its end; the rows seen and the first error.
std::pair<int, absl::Status> ReadAll(const std::string& dump) {
  DumpReader reader(dump, "t.sql");
  DumpEvent ev;
  int rows = 0;
  for (;;) {
    absl::StatusOr<bool> more = reader.Next(&ev);
    if (!more.ok()) return {rows, more.status()};
    if (!*more) return {rows, absl::OkStatus()};
    rows += ev.kind == EventKind::kRow;
  }
}

std::string Block(int rows, int bad_row, const std::string& bad) {
  std::string out = "COPY public.t (a) FROM stdin;\n";
  for (int r = 1; r <= rows; ++r) {
    absl::StrAppend(&out, "row ", r, r == bad_row ? bad : "", " é\n");
  }
  return out + "\\.\n";
}

TEST(DumpReaderTest, BadUtf8NamedAtItsRow) {
  // Line 1 is the COPY header: row r is on line r + 1. Rows far past the
  // first stretch (256 KiB) too.
  for (int bad_row : {1, 2, 3000, 19999, 20000}) {
    for (const std::string& bad : {std::string("\xff"), std::string(1, '\0'), std::string("\xc3")}) {
      auto [rows, status] = ReadAll(Block(20000, bad_row, bad));
      EXPECT_EQ(rows, bad_row - 1);
      EXPECT_EQ(status.message(),
                absl::StrCat("t.sql:", bad_row + 1, ": invalid UTF-8 (or a NUL byte) in a UTF8 dump"));
    }
  }
}

TEST(DumpReaderTest, BadUtf8AfterTheBlockIsTheStatementsOwn) {
  const std::string dump = Block(100, 0, "") + "SELECT 'caf\xe9';\n";
  auto [rows, status] = ReadAll(dump);
  EXPECT_EQ(rows, 100);
  EXPECT_EQ(status.message(), "t.sql:103: invalid UTF-8 (or a NUL byte) in a UTF8 dump");
}

// One reading of the setting for the UTF-8 check and the catalog's
// encoding: pg_dump's form, and the other spellings SET takes.
TEST(DumpReaderTest, ClientEncodingOfASetStatement) {
  EXPECT_EQ(ClientEncodingOf("SET client_encoding = 'UTF8';"), "UTF8");
  EXPECT_EQ(ClientEncodingOf("SET client_encoding TO latin1;"), "LATIN1");
  EXPECT_EQ(ClientEncodingOf("set CLIENT_ENCODING = \"utf-8\";"), "UTF-8");
  EXPECT_EQ(ClientEncodingOf("SET client_encodings = 'UTF8';"), "");
  EXPECT_EQ(ClientEncodingOf("SET standard_conforming_strings = on;"), "");
  EXPECT_EQ(ClientEncodingOf("SELECT 'SET client_encoding = x';"), "");
}

}  // namespace
}  // namespace pgmerge::parser
