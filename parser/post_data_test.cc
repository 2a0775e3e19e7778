// DescribePostData reads what pg_dump's post-data statements build; the
// merge's report and --into's scheduling both rest on it.
#include "parser/post_data.h"

#include "gtest/gtest.h"

namespace pgmerge::parser {
namespace {

using Type = AddedConstraint::Type;

TEST(PostDataTest, IndexOnOnlyAndConcurrent) {
  PostDataBuild b = DescribePostData("CREATE UNIQUE INDEX \"I x\" ON ONLY \"S\".t USING btree (a);");
  EXPECT_EQ(b.kind, PostDataBuild::Kind::kIndex);
  EXPECT_EQ(b.table, (TableName{"S", "t"}));
  EXPECT_EQ(b.index, "I x");
  EXPECT_TRUE(b.only);
  EXPECT_FALSE(b.concurrent);
  b = DescribePostData("CREATE INDEX CONCURRENTLY i ON t (a);");
  EXPECT_TRUE(b.concurrent);
  EXPECT_FALSE(b.only);
  EXPECT_EQ(b.table.schema, "");  // As written: search_path decides.
}

TEST(PostDataTest, EveryConstraintOfAnAlter) {
  PostDataBuild b = DescribePostData(
      "ALTER TABLE ONLY public.c ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES q.p(id) NOT VALID, "
      "ADD CONSTRAINT k CHECK (a > 0), ALTER COLUMN a SET NOT NULL;");
  EXPECT_EQ(b.kind, PostDataBuild::Kind::kAlterTable);
  EXPECT_EQ(b.commands, 3);
  ASSERT_EQ(b.constraints.size(), 2u);
  EXPECT_EQ(b.constraints[0].type, Type::kForeign);
  EXPECT_TRUE(b.constraints[0].not_valid);
  EXPECT_EQ(b.constraints[0].references, (TableName{"q", "p"}));
  EXPECT_EQ(b.constraints[1].type, Type::kCheck);
  EXPECT_EQ(b.constraints[1].name, "k");
  EXPECT_FALSE(b.constraints[1].not_valid);
  b = DescribePostData("ALTER TABLE public.t ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX i;");
  EXPECT_FALSE(b.only);
  ASSERT_EQ(b.constraints.size(), 1u);
  EXPECT_TRUE(b.constraints[0].using_index);
}

TEST(PostDataTest, OtherStatementsAndGarbage) {
  for (const char* sql : {"CREATE TABLE t (a int);", "ALTER TABLE t OWNER TO x;",
                          "CREATE INDEX i ON", "ALTER TABLE ONLY t ADD CONSTRAINT (((;"}) {
    EXPECT_EQ(DescribePostData(sql).kind, PostDataBuild::Kind::kOther) << sql;
  }
}

}  // namespace
}  // namespace pgmerge::parser
