#include "parser/pg_node.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "parser/sql_parser.h"

namespace pgmerge::parser {
namespace {

ParsedStatement Parse(const char* sql) {
  absl::StatusOr<ParsedStatement> p = ParsedStatement::Parse(sql, "t.sql", 1);
  EXPECT_TRUE(p.ok()) << p.status();
  return std::move(*p);
}

TEST(PgNodeTest, FieldsListsAndScalars) {
  ParsedStatement p = Parse(
      "CREATE TABLE s.t (id integer NOT NULL, name varchar(20) DEFAULT 'x')");
  EXPECT_EQ(p.type(), "CreateStmt");
  Node n = p.node();
  TableName t = RangeVarName(n["relation"]);
  EXPECT_EQ(t.schema, "s");
  EXPECT_EQ(t.name, "t");
  Node elts = n["tableElts"];
  ASSERT_EQ(elts.size(), 2u);
  Node id = elts.at(0)["ColumnDef"];
  EXPECT_EQ(elts.at(0).kind(), "ColumnDef");
  EXPECT_EQ(id.str("colname"), "id");
  EXPECT_EQ(id["typeName"]["names"].Strings(),
            (std::vector<std::string>{"pg_catalog", "int4"}));
  std::vector<std::string> names;
  for (Node e : elts) names.emplace_back(e["ColumnDef"].str("colname"));
  EXPECT_EQ(names, (std::vector<std::string>{"id", "name"}));
  Node mod = elts.at(1)["ColumnDef"]["typeName"]["typmods"].at(0);
  EXPECT_EQ(mod["A_Const"]["ival"]["ival"].integer(), 20);
}

TEST(PgNodeTest, WhatIsNotThereReadsAsItsDefault) {
  ParsedStatement p = Parse("CREATE TABLE t (a int)");
  Node n = p.node();
  EXPECT_TRUE(n["nope"].empty());
  EXPECT_TRUE(n["nope"]["deeper"].empty());
  EXPECT_FALSE(n.has("nope"));
  EXPECT_EQ(n["nope"].size(), 0u);
  EXPECT_EQ(n.str("nope"), "");
  EXPECT_EQ(n.str("nope", "dflt"), "dflt");
  EXPECT_EQ(n["relation"].str("schemaname", "public"), "public");
  EXPECT_FALSE(n.boolean("nope"));
  EXPECT_FALSE(n["nope"].integer().has_value());
  EXPECT_EQ(RangeVarName(n["relation"]).schema, "public");
  int items = 0;
  for (Node e : n["nope"]) items += !e.empty();
  EXPECT_EQ(items, 0);
}

TEST(PgNodeTest, FindAllAndColumnRefs) {
  ParsedStatement p = Parse("SELECT a + t.b, c FROM t WHERE d > 0");
  std::vector<Node> refs;
  p.node().FindAll("ColumnRef", &refs);
  ASSERT_EQ(refs.size(), 4u);
  EXPECT_EQ(refs[0]["fields"].Strings(), (std::vector<std::string>{"a"}));
  EXPECT_EQ(refs[1]["fields"].Strings(), (std::vector<std::string>{"t", "b"}));
  Node target = p.node()["targetList"].at(1)["ResTarget"]["val"];
  EXPECT_EQ(ColumnRefName(target), "c");
  EXPECT_EQ(ColumnRefName(p.node()["targetList"].at(0)), "");
}

TEST(PgNodeTest, NegativeIntegersAreKept) {
  // libpg_query's JSON writes a negative Integer as if it were zero.
  ParsedStatement p = Parse("CREATE SEQUENCE s START WITH -5 INCREMENT BY -2");
  std::vector<int64_t> values;
  for (Node o : p.node()["options"]) {
    values.push_back(o["DefElem"]["arg"]["Integer"]["ival"].integer().value_or(0));
  }
  EXPECT_EQ(values, (std::vector<int64_t>{-5, -2}));
}

}  // namespace
}  // namespace pgmerge::parser
