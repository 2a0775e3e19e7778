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

  std::vector<std::string> tables;
  bool children = true;
  EXPECT_EQ(Classify("CREATE INDEX i ON \"Odd Schema\".\"T\"\"x\" USING btree (a);", &tables,
                     &children),
            Build::kParallel);
  EXPECT_EQ(tables, std::vector<std::string>{"Odd Schema.T\"x"});
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
    std::vector<std::string> tables;
    bool children = false;
    EXPECT_EQ(Classify(c.sql, &tables, &children), c.build) << c.sql;
    EXPECT_EQ(tables, c.tables) << c.sql;
    EXPECT_EQ(children, c.children) << c.sql;
  }
}

}  // namespace
}  // namespace pgmerge::swap::internal
