// The truth checker must catch each way a merge can be wrong: a correct
// three-way merge of the bundled example is restored, checked clean, then
// tampered with one fault at a time (each in a copy of the shadow) and
// checked again; each fault must land in its class.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "tests/merge_fixture.h"
#include "tests/truth_checker.h"

namespace pgmerge::testing {
namespace {

std::string Example(const std::string& file) {
  return ReadFile(absl::StrCat(SourceDir(), "/testdata/example/", file));
}

class TruthCheckerTest : public MergeFixture {};

enum Class { kLost, kInvented, kRepointed, kChanged, kReport, kSchema };

const std::vector<std::string>& Of(const TruthFindings& f, Class c) {
  switch (c) {
    case kLost: return f.lost;
    case kInvented: return f.invented;
    case kRepointed: return f.repointed;
    case kChanged: return f.changed;
    case kReport: return f.report;
    case kSchema: return f.schema;
  }
  return f.setup;
}

TEST_F(TruthCheckerTest, CatchesEverySabotage) {
  std::string base = MakeDb("base", {Example("base-data.sql")});
  std::string prod = MakeDb("prod", {Example("base-data.sql"), Example("prod-changes.sql")});
  std::string dev = MakeDb("dev", {Example("base-data.sql"), Example("dev-changes.sql")});
  MergeRun run = RunMerge(DumpDb(prod, {}), DumpDb(dev, {}), {"--base", DumpDb(base, {})});
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string shadow = Name("shadow");
  ASSERT_TRUE(pg_->CreateDatabase(shadow).ok());
  ASSERT_TRUE(pg_->Restore(shadow, run.sql_file).ok());
  TruthOptions three_way;
  three_way.three_way = true;
  absl::StatusOr<TruthFindings> clean = CheckTruth(pg_, base, prod, dev, shadow, run.report, three_way);
  ASSERT_TRUE(clean.ok()) << clean.status();
  ASSERT_TRUE(clean->ok()) << clean->Summary();

  struct Sabotage {
    std::string what, sql;
    Class expect;
  };
  const std::vector<Sabotage> cases = {
      {"a development row dropped", "DELETE FROM documents WHERE title = 'dev design doc'", kLost},
      {"a dev post re-pointed at prod's user with dev's old key (Pam)",
       "UPDATE posts SET user_id = 11 WHERE body = 'dev post by Dan'", kRepointed},
      {"a grandparent re-pointed: dev's reply's parent comment moved to another post",
       "UPDATE comments SET post_id = 1 WHERE body = 'dev comment'", kRepointed},
      {"a base row inserted twice",
       "INSERT INTO comments (post_id, parent_id, body) SELECT post_id, parent_id, body "
       "FROM comments WHERE id = 5",
       kInvented},
      {"a production deletion brought back",
       "INSERT INTO comments (id, post_id, parent_id, body) VALUES (11, 2, 1, 'a reply')",
       kInvented},
      {"a production value changed", "UPDATE settings SET value = 'x' WHERE key = 'maintenance'",
       kChanged},
      {"an added column's default missing on a production row",
       "UPDATE users SET created_at = NULL WHERE email = 'pam@example.org'", kChanged},
      {"a development value changed in a column prod lacks",
       "UPDATE posts SET title = 'other' WHERE body = 'dev post by Dan'", kLost},
      {"a production row moved to another key",
       "UPDATE categories SET id = 99 WHERE slug = 'general'", kChanged},
      {"a development-only edit not taken (three-way)",
       "UPDATE settings SET value = 'en' WHERE key = 'lang'", kChanged},
      {"an index development has, missing", "DROP INDEX tags_name_key", kSchema},
      {"a sequence behind its keys", "SELECT setval('users_id_seq', 3)", kSchema},
  };
  int n = 0;
  for (const Sabotage& s : cases) {
    SCOPED_TRACE(s.what);
    std::string copy = absl::StrCat(shadow, "_s", n++);
    ASSERT_TRUE(pg_->Exec("postgres", absl::StrCat("CREATE DATABASE \"", copy, "\" TEMPLATE \"",
                                                   shadow, "\""))
                    .ok());
    absl::Status st = pg_->Exec(copy, "SET session_replication_role = replica;\n" + s.sql);
    if (!st.ok() && s.expect == kSchema) {
      // A unique constraint's index: drop the constraint instead.
      st = pg_->Exec(copy, "ALTER TABLE tags DROP CONSTRAINT tags_name_key");
    }
    ASSERT_TRUE(st.ok()) << st;
    absl::StatusOr<TruthFindings> f = CheckTruth(pg_, base, prod, dev, copy, run.report, three_way);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_FALSE(f->ok());
    EXPECT_FALSE(Of(*f, s.expect).empty()) << f->Summary();
    ASSERT_TRUE(pg_->DropDatabase(copy).ok());
  }

  // The report is checked against the truth, not used as it.
  nlohmann::json report = nlohmann::json::parse(run.report);
  for (auto& t : report["tables"]) {
    if (t["table"] == "public.users") t["conflicts"] = nlohmann::json::array();
    if (t["table"] == "public.tags") t["unifications"] = nlohmann::json::array();
    if (t["table"] == "public.comments") t["deleted_in_prod"] = nlohmann::json::array();
    if (t["table"] == "public.audit") t["counts"]["output_rows"] = 4;
  }
  absl::StatusOr<TruthFindings> f = CheckTruth(pg_, base, prod, dev, shadow, report.dump(), three_way);
  ASSERT_TRUE(f.ok());
  std::string all = absl::StrJoin(f->report, "\n");
  EXPECT_NE(all.find("public.users: development's version of 3"), std::string::npos) << all;
  EXPECT_NE(all.find("public.tags: development row"), std::string::npos) << all;
  EXPECT_NE(all.find("public.comments: base row 11 production deleted"), std::string::npos) << all;
  EXPECT_NE(all.find("public.audit: counts"), std::string::npos) << all;
  // A three-way merge has nothing ambiguous.
  report = nlohmann::json::parse(run.report);
  report["tables"][0]["ambiguous"] = nlohmann::json::array({"1"});
  f = CheckTruth(pg_, base, prod, dev, shadow, report.dump(), three_way);
  ASSERT_TRUE(f.ok());
  EXPECT_FALSE(f->report.empty());
}

// Issue #12's case 2, two-way: production edited the top-most base row, so
// today's merge takes development's unchanged copy for a new row and keeps
// it under a fresh key, with development's new child following it. Unreported
// that is an invented row; reported as ambiguous (the design #12 asks for:
// keep both, say so) the checker accepts it, and nothing else.
TEST_F(TruthCheckerTest, AmbiguityReportedAndKeptIsAccepted) {
  const std::string schema =
      "CREATE TABLE t (id serial PRIMARY KEY, name text);"
      "CREATE TABLE c (id serial PRIMARY KEY, t_id int REFERENCES t(id), note text);"
      "INSERT INTO t (name) VALUES ('a'), ('b');"
      "INSERT INTO c (t_id, note) VALUES (1, 'base child');";
  std::string base = MakeDb("base", {schema});
  std::string prod = MakeDb("prod", {schema, "UPDATE t SET name = 'b (prod)' WHERE id = 2"});
  std::string dev = MakeDb("dev", {schema, "INSERT INTO c (t_id, note) VALUES (2, 'dev child')"});
  MergeRun run = RunMerge(DumpDb(prod, {}), DumpDb(dev, {}));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string shadow = Name("shadow");
  ASSERT_TRUE(pg_->CreateDatabase(shadow).ok());
  ASSERT_TRUE(pg_->Restore(shadow, run.sql_file).ok());
  TruthOptions two_way;
  absl::StatusOr<TruthFindings> today = CheckTruth(pg_, base, prod, dev, shadow, run.report, two_way);
  ASSERT_TRUE(today.ok());
  nlohmann::json report = nlohmann::json::parse(run.report);
  for (auto& t : report["tables"]) {
    if (t["table"] == "public.t") t["ambiguous"] = nlohmann::json::array({{{"key", "2"}}});
  }
  absl::StatusOr<TruthFindings> reported =
      CheckTruth(pg_, base, prod, dev, shadow, report.dump(), two_way);
  ASSERT_TRUE(reported.ok());
  absl::StatusOr<std::string> copies =
      pg_->QueryValue(shadow, "SELECT count(*) FROM t WHERE name = 'b'");
  ASSERT_TRUE(copies.ok());
  bool kept_copy = *copies == "1";
  bool merge_said_ambiguous = false;
  // Parsed into a name: a temporary's subscript would dangle in the loop.
  const nlohmann::json as_merged = nlohmann::json::parse(run.report);
  for (const auto& t : as_merged["tables"]) {
    if (t["table"] != "public.t") continue;
    for (const auto& a : t.value("ambiguous", nlohmann::json::array())) {
      merge_said_ambiguous |= a.is_object() && a.value("key", "") == "2";
    }
  }
  if (kept_copy) {
    // Development's copy kept: the merge must say so (a one-column row
    // edited looks like a new one, so it reports the decision as
    // ambiguous), and the checker accepts it as the merge reported it.
    EXPECT_TRUE(merge_said_ambiguous) << run.report;
    EXPECT_TRUE(today->ok()) << today->Summary();
    EXPECT_TRUE(reported->ok()) << reported->Summary();
  } else {
    // A merge that already decides this right needs no ambiguity.
    EXPECT_TRUE(today->ok()) << today->Summary();
  }
  // The ambiguous copy written but the child left on production's row:
  // a reference to other content.
  ASSERT_TRUE(pg_->Exec(shadow, "UPDATE c SET t_id = 2 WHERE note = 'dev child'").ok());
  absl::StatusOr<TruthFindings> moved = CheckTruth(pg_, base, prod, dev, shadow, report.dump(), two_way);
  ASSERT_TRUE(moved.ok());
  if (kept_copy) {
    EXPECT_FALSE(moved->repointed.empty()) << moved->Summary();
  }
}

}  // namespace
}  // namespace pgmerge::testing
