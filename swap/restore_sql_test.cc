// How --into tells post-data builds apart and which tables they wait for:
// the names CopyTable and Classify give must be the same key for one table.
#include "swap/restore_sql.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace pgmerge::swap::internal {
namespace {

TEST(RestoreSqlTest, CopyTableIsTheKeyBuildsName) {
  EXPECT_EQ(CopyTable("COPY public.users (id, name) FROM stdin;\n"), "public.users");
  EXPECT_EQ(CopyTable("-- note\n\nCOPY \"Odd Schema\".\"T\"\"x\" (a) FROM stdin;\n"),
            "Odd Schema.T\"x");
  EXPECT_EQ(CopyTable("COPY (SELECT 1) TO stdout;"), "");
  EXPECT_EQ(CopyTable("not sql at all"), "");

  PostData p = Classify("CREATE INDEX i ON \"Odd Schema\".\"T\"\"x\" USING btree (a);");
  EXPECT_EQ(p.build, Build::kParallel);
  EXPECT_EQ(p.tables, std::vector<std::string>{"Odd Schema.T\"x"});
}

TEST(RestoreSqlTest, ClassifyNamesWhatABuildReaches) {
  struct Case {
    const char* sql;
    Build build;
    std::vector<std::string> tables;
    bool children;
  };
  const Case cases[] = {
      {"CREATE INDEX i ON public.t USING btree (a);", Build::kParallel, {"public.t"}, false},
      {"CREATE UNIQUE INDEX i ON ONLY public.p USING btree (a);", Build::kParallel,
       {"public.p"}, false},
      {"ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY (id);",
       Build::kParallel, {"public.t"}, false},
      // Without ONLY a constraint reaches inheritance children and partitions.
      {"ALTER TABLE public.t\n    ADD CONSTRAINT c CHECK ((a > 0)) NOT VALID;",
       Build::kParallel, {"public.t"}, true},
      {"ALTER TABLE ONLY public.c\n    ADD CONSTRAINT c_fk FOREIGN KEY (p) REFERENCES "
       "public.p(id);",
       Build::kForeignKey, {"public.c", "public.p"}, false},
      {"CREATE INDEX CONCURRENTLY i ON public.t (a);", Build::kOrdered, {}, false},
      {"ALTER TABLE ONLY public.t\n    ADD CONSTRAINT t_pkey PRIMARY KEY USING INDEX i;",
       Build::kOrdered, {}, false},
      {"ALTER INDEX public.p_a_idx ATTACH PARTITION public.c_a_idx;", Build::kOrdered, {},
       false},
      {"CREATE TRIGGER tr AFTER INSERT ON public.t FOR EACH ROW EXECUTE FUNCTION public.f();",
       Build::kOrdered, {}, false},
  };
  for (const Case& c : cases) {
    PostData p = Classify(c.sql);
    EXPECT_EQ(p.build, c.build) << c.sql;
    EXPECT_EQ(p.tables, c.tables) << c.sql;
    EXPECT_EQ(p.children, c.children) << c.sql;
  }
}

TEST(RestoreSqlTest, ForeignKeysAreAddedNotValidThenChecked) {
  PostData p = Classify(
      "ALTER TABLE ONLY \"My\".\"Child\"\n    ADD CONSTRAINT \"fk \"\"1\" FOREIGN KEY (p) "
      "REFERENCES public.p(id) ON DELETE CASCADE DEFERRABLE;\n\n");
  EXPECT_EQ(p.build, Build::kForeignKey);
  EXPECT_EQ(p.add_not_valid,
            "ALTER TABLE ONLY \"My\".\"Child\"\n    ADD CONSTRAINT \"fk \"\"1\" FOREIGN KEY (p) "
            "REFERENCES public.p(id) ON DELETE CASCADE DEFERRABLE NOT VALID;");
  EXPECT_EQ(p.validate, "ALTER TABLE ONLY \"My\".\"Child\" VALIDATE CONSTRAINT \"fk \"\"1\";");
  EXPECT_TRUE(Classify("ALTER TABLE ONLY public.c ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES "
                       "public.p(id);")
                  .add_not_valid.size() > 0);
  // Kept whole: a partitioned table's key (no ONLY), one NOT VALID
  // already, one with no schema to name it by.
  for (const char* sql :
       {"ALTER TABLE public.parted ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES public.p(id);",
        "ALTER TABLE ONLY public.c ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES public.p(id) NOT "
        "VALID;",
        "ALTER TABLE ONLY c ADD CONSTRAINT f FOREIGN KEY (p) REFERENCES public.p(id);"}) {
    PostData k = Classify(sql);
    EXPECT_EQ(k.build, Build::kForeignKey) << sql;
    EXPECT_EQ(k.validate, "") << sql;
    EXPECT_EQ(k.add_not_valid, "") << sql;
  }
}

}  // namespace
}  // namespace pgmerge::swap::internal
