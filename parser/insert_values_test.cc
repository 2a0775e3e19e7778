#include "parser/insert_values.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pgmerge::parser {
namespace {

std::vector<std::vector<std::string>> Tuples(const std::string& sql, bool scs = true,
                                             InsertHeader* header_out = nullptr) {
  InsertHeader h;
  EXPECT_TRUE(ParseInsertHeader(sql, &h)) << sql;
  if (header_out != nullptr) *header_out = h;
  InsertTupleReader reader;
  reader.Reset(h.tuples, scs, h.default_values);
  std::vector<std::vector<std::string>> out;
  std::vector<std::string_view> fields;
  for (;;) {
    int r = reader.Next(&fields);
    if (r == 0) break;
    if (r < 0) return {{"<unsupported>"}};
    out.emplace_back(fields.begin(), fields.end());
  }
  return out;
}

TEST(InsertValuesTest, PgDumpInsertsForm) {
  auto t = Tuples(
      "INSERT INTO public.t VALUES (1, 'a''b', NULL, true, false, -1.5e+3, "
      "E'x\\\\ny\\ttab', B'101', 'NaN');");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0], (std::vector<std::string>{"1", "a'b", "\\N", "t", "f", "-1.5e+3",
                                            "x\\\\ny\\ttab", "101", "NaN"}));
}

TEST(InsertValuesTest, RawControlCharactersComeOutEscaped) {
  auto t = Tuples("INSERT INTO public.t VALUES ('a\tb\nc\\d');");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0][0], "a\\tb\\nc\\\\d");
}

TEST(InsertValuesTest, ColumnInsertsWithQuotedNames) {
  InsertHeader h;
  auto t = Tuples("INSERT INTO \"Sales\".\"Order Line\" (\"Id\", qty, \"we\"\"ird\") "
                  "OVERRIDING SYSTEM VALUE VALUES (7, 2, 'x');",
                  true, &h);
  EXPECT_EQ(h.table.schema, "Sales");
  EXPECT_EQ(h.table.name, "Order Line");
  EXPECT_EQ(h.columns, (std::vector<std::string>{"Id", "qty", "we\"ird"}));
  EXPECT_TRUE(h.overriding_system_value);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0], (std::vector<std::string>{"7", "2", "x"}));
}

TEST(InsertValuesTest, RowsPerInsertForm) {
  auto t = Tuples("INSERT INTO public.t VALUES\n\t(1, 'a'),\n\t(2, 'b'),\n\t(3, NULL);");
  ASSERT_EQ(t.size(), 3u);
  EXPECT_EQ(t[2], (std::vector<std::string>{"3", "\\N"}));
}

// pg_dump --on-conflict-do-nothing: the clause closes the last row only.
TEST(InsertValuesTest, OnConflictDoNothingForm) {
  auto t = Tuples("INSERT INTO public.t VALUES\n\t(1, 'a'),\n\t(2, 'b') ON CONFLICT DO NOTHING;");
  ASSERT_EQ(t.size(), 2u);
  EXPECT_EQ(t[1], (std::vector<std::string>{"2", "b"}));
  EXPECT_EQ(Tuples("INSERT INTO public.t VALUES (1) ON CONFLICT DO NOTHING, (2);")[0][0],
            "<unsupported>");
  EXPECT_EQ(Tuples("INSERT INTO public.t VALUES (1) ON CONFLICT (a) DO NOTHING;")[0][0],
            "<unsupported>");
}

// A table of no column: pg_dump --inserts writes each row so.
TEST(InsertValuesTest, DefaultValuesIsOneRowOfNoValue) {
  InsertHeader h;
  auto t = Tuples("INSERT INTO public.none DEFAULT VALUES;", true, &h);
  EXPECT_TRUE(h.default_values);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_TRUE(t[0].empty());
  EXPECT_EQ(Tuples("INSERT INTO public.none DEFAULT VALUES ON CONFLICT DO NOTHING;").size(), 1u);
  EXPECT_EQ(Tuples("INSERT INTO public.none DEFAULT VALUES (1);")[0][0], "<unsupported>");
  EXPECT_FALSE(ParseInsertHeader("INSERT INTO public.t (a) DEFAULT VALUES;", &h));
}

TEST(InsertValuesTest, NonStandardStrings) {
  // standard_conforming_strings = off: backslashes escape in plain literals.
  auto t = Tuples("INSERT INTO public.t VALUES ('it\\'s', 'a\\\\b');", false);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0], (std::vector<std::string>{"it's", "a\\\\b"}));
}

TEST(InsertValuesTest, OtherShapesAreLeftToTheFallback) {
  EXPECT_EQ(Tuples("INSERT INTO public.t VALUES (DEFAULT, 1);")[0][0], "<unsupported>");
  EXPECT_EQ(Tuples("INSERT INTO public.t VALUES ('1'::int);")[0][0], "<unsupported>");
  EXPECT_EQ(Tuples("INSERT INTO public.t VALUES (now());")[0][0], "<unsupported>");
  InsertHeader h;
  EXPECT_FALSE(ParseInsertHeader("INSERT INTO public.t SELECT 1;", &h));
}

TEST(InsertValuesTest, DefaultForGeneratedColumnsIsLeftOutAndPlaced) {
  // pg_dump --inserts and --rows-per-insert: DEFAULT where the table has a
  // stored generated column.
  InsertHeader h;
  ASSERT_TRUE(ParseInsertHeader(
      "INSERT INTO public.t VALUES\n\t(1, DEFAULT, 'a', DEFAULT),\n\t(2, DEFAULT, NULL, "
      "DEFAULT);",
      &h));
  InsertTupleReader reader;
  reader.Reset(h.tuples, true);
  std::vector<std::string_view> fields;
  std::vector<int> defaults;
  ASSERT_EQ(reader.Next(&fields, &defaults), 1);
  EXPECT_EQ(std::vector<std::string>(fields.begin(), fields.end()),
            (std::vector<std::string>{"1", "a"}));
  EXPECT_EQ(defaults, (std::vector<int>{1, 3}));
  ASSERT_EQ(reader.Next(&fields, &defaults), 1);
  EXPECT_EQ(std::vector<std::string>(fields.begin(), fields.end()),
            (std::vector<std::string>{"2", "\\N"}));
  EXPECT_EQ(defaults, (std::vector<int>{1, 3}));
  EXPECT_EQ(reader.Next(&fields, &defaults), 0);
  // Only a whole value: DEFAULT in an expression is not pg_dump's.
  for (const char* sql : {"INSERT INTO public.t VALUES (DEFAULT + 1);",
                          "INSERT INTO public.t VALUES (DEFAULTS);",
                          "INSERT INTO public.t VALUES (DEFAULT::int);"}) {
    ASSERT_TRUE(ParseInsertHeader(sql, &h)) << sql;
    reader.Reset(h.tuples, true);
    EXPECT_EQ(reader.Next(&fields, &defaults), -1) << sql;
  }
}

}  // namespace
}  // namespace pgmerge::parser
