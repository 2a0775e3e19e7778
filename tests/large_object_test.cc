// Large objects of both dumps carried into the output (issue #13), against
// a real PostgreSQL 15: production's with their OIDs and content,
// development's new ones, the same object once; a development OID that
// production holds with other content refused, naming both; with --base,
// a one-sided edit or production's deletion followed. The output restores
// with psql --single-transaction (no BEGIN/COMMIT of its own), and verify
// checks the shadow holds exactly the manifest's large objects.
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include <nlohmann/json.hpp>
#include "gtest/gtest.h"
#include "tests/merge_fixture.h"

namespace pgmerge::testing {
namespace {

class LargeObjectTest : public MergeFixture {
 protected:
  // OID -> "size:md5" of every large object of `db`.
  std::string Contents(const std::string& db) {
    absl::StatusOr<std::string> v = pg_->QueryValue(
        db,
        "SELECT coalesce(string_agg(oid || '=' || length(lo_get(oid)) || ':' || "
        "md5(lo_get(oid)), ' ' ORDER BY oid), '') FROM pg_largeobject_metadata");
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : "";
  }

  std::string Restored(const MergeRun& run) {
    EXPECT_EQ(run.exit_code, 0) << run.err;
    std::string shadow = Name("shadow");
    EXPECT_TRUE(pg_->CreateDatabase(shadow).ok());
    absl::Status st = pg_->Restore(shadow, run.sql_file);
    EXPECT_TRUE(st.ok()) << st;
    return shadow;
  }

  CommandResult Verify(const std::string& db, const std::string& report) {
    std::string file = absl::StrCat(pg_->tmp_dir(), "/", Name("report"), ".json");
    std::ofstream(file) << report;
    absl::StatusOr<CommandResult> r = RunCommand(
        {PGMERGE_BINARY, "verify", "--db", pg_->ConnString(db), "--report", file});
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandResult{};
  }
};

// 1002 spans two of pg_dump's 16 kB lowrite chunks; 1003 is empty.
constexpr char kBase[] = R"(
  CREATE TABLE docs (id serial PRIMARY KEY, name text, body oid);
  SELECT lo_from_bytea(1001, 'base one');
  SELECT lo_from_bytea(1002, decode(repeat(md5('x'), 1250), 'hex') || '\x00ff'::bytea);
  SELECT lo_from_bytea(1003, '');
  COMMENT ON LARGE OBJECT 1001 IS 'it''s \ the first';
  INSERT INTO docs (name, body) VALUES ('one', 1001), ('two', 1002), ('three', 1003);)";

TEST_F(LargeObjectTest, BothSidesCarriedTwoWayAndThreeWay) {
  const std::string base = MakeDb("base", {kBase});
  const std::string prod = MakeDb("prod", {kBase, R"(
      SELECT lo_from_bytea(2001, 'production''s new');
      INSERT INTO docs (name, body) VALUES ('prod', 2001);
      SELECT lo_unlink(1003); DELETE FROM docs WHERE id = 3;)"});
  const std::string dev = MakeDb("dev", {kBase, R"(
      SELECT lo_from_bytea(3001, 'development''s new');
      SELECT lo_put(1001, 0, 'BASE');
      INSERT INTO docs (name, body) VALUES ('dev', 3001);)"});
  const std::string want_two_way_prod = Contents(prod);
  for (const std::vector<std::string>& form :
       std::vector<std::vector<std::string>>{{}, {"-b", "--inserts"}}) {
    SCOPED_TRACE(form.empty() ? "COPY" : "-b --inserts");
    const std::string base_dump = DumpDb(base, form);
    const std::string prod_dump = DumpDb(prod, form);
    const std::string dev_dump = DumpDb(dev, form);
    ASSERT_NE(ReadFile(prod_dump).find("SELECT pg_catalog.lo_open('1002', 131072);"),
              std::string::npos);

    // Three-way: dev's edit of 1001 is taken, prod's deletion of 1003 kept.
    MergeRun run = RunMerge(prod_dump, dev_dump, {"--base", base_dump});
    const std::string sql = ReadFile(run.sql_file);
    EXPECT_EQ(sql.find("BEGIN;"), std::string::npos);
    EXPECT_EQ(sql.find("COMMIT;"), std::string::npos);
    EXPECT_EQ(sql.find("lo_open"), std::string::npos);
    std::string shadow = Restored(run);
    absl::StatusOr<std::string> want = pg_->QueryValue(
        dev, "SELECT string_agg(oid || '=' || length(lo_get(oid)) || ':' || md5(lo_get(oid)), ' ' "
             "ORDER BY oid) FROM pg_largeobject_metadata WHERE oid <> 1003");
    ASSERT_TRUE(want.ok());
    // 1001 (dev's edit), 1002, 3001 from dev; 2001 from prod.
    std::string got = Contents(shadow);
    absl::StatusOr<std::string> p2001 = pg_->QueryValue(
        prod, "SELECT '2001=' || length(lo_get(2001)) || ':' || md5(lo_get(2001))");
    ASSERT_TRUE(p2001.ok());
    std::string expect = *want;
    expect.insert(expect.find("3001="), *p2001 + " ");
    EXPECT_EQ(got, expect);
    absl::StatusOr<std::string> comment = pg_->QueryValue(
        shadow, "SELECT obj_description(1001, 'pg_largeobject')");
    ASSERT_TRUE(comment.ok());
    EXPECT_EQ(*comment, "it's \\ the first");
    const nlohmann::json counts = nlohmann::json::parse(run.report)["large_objects"]["counts"];
    EXPECT_EQ(counts, nlohmann::json::parse(R"({"prod": 3, "dev": 4, "same": 1, "dev_new": 1,
        "taken_from_dev": 1, "prod_edited": 0, "deleted_in_prod": 1, "output": 4})"))
        << counts.dump();
    CommandResult v = Verify(shadow, run.report);
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    absl::StatusOr<TruthFindings> truth = CheckTruth(
        pg_, base, prod, dev, shadow, run.report, TruthOptionsOf({"--base", base_dump}));
    ASSERT_TRUE(truth.ok()) << truth.status();
    EXPECT_TRUE(truth->ok()) << truth->Summary();

    // Two-way: 1001 differs on the two sides with nothing to tell which
    // changed: refused before any output, naming both.
    MergeRun refused = RunMerge(prod_dump, dev_dump);
    EXPECT_EQ(refused.exit_code, 2) << refused.err;
    EXPECT_EQ(ReadFile(refused.sql_file), "");
    EXPECT_NE(refused.err.find("large object 1001 is in both dumps with other content: "
                               "production's (" + prod_dump + ":"),
              std::string::npos)
        << refused.err;
    EXPECT_NE(refused.err.find(dev_dump + ":"), std::string::npos) << refused.err;
  }
}

TEST_F(LargeObjectTest, TwoWayUnionVerifiedAndTamperingFound) {
  const std::string base = MakeDb("base", {kBase});
  const std::string prod = MakeDb("prod", {kBase, R"(
      SELECT lo_from_bytea(2001, 'production''s new');
      INSERT INTO docs (name, body) VALUES ('prod', 2001);)"});
  const std::string dev = MakeDb("dev", {kBase, R"(
      SELECT lo_from_bytea(3001, 'development''s new');
      INSERT INTO docs (name, body) VALUES ('dev', 3001);)"});
  const std::string prod_dump = DumpDb(prod, {});
  const std::string dev_dump = DumpDb(dev, {});
  MergeAndCheckTruth(base, prod, dev, prod_dump, dev_dump);
  const std::string shadow = last_shadow_;
  // Every large object of both: 1001-1003 once, 2001 and 3001.
  std::string prod_los = Contents(prod), dev_los = Contents(dev);
  std::string got = Contents(shadow);
  EXPECT_EQ(got, prod_los.substr(0, prod_los.size()) + " " +
                     dev_los.substr(dev_los.find("3001=")));
  const nlohmann::json lo = nlohmann::json::parse(last_report_)["large_objects"];
  EXPECT_EQ(lo["counts"], nlohmann::json::parse(R"({"prod": 4, "dev": 4, "same": 3,
      "dev_new": 1, "taken_from_dev": 0, "prod_edited": 0, "deleted_in_prod": 0,
      "output": 5})"))
      << lo.dump();
  EXPECT_EQ(lo["dev_new"], nlohmann::json::parse("[3001]"));
  ASSERT_EQ(lo["manifest"]["output"].size(), 5u);
  EXPECT_EQ(lo["manifest"]["output"][1]["oid"], 1002);
  EXPECT_EQ(lo["manifest"]["output"][1]["size"], 20002);
  EXPECT_EQ(lo["manifest"]["output"][2]["size"], 0);
  CommandResult v = Verify(shadow, last_report_);
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  // A large object lost, one changed, one the merge did not write: named.
  ASSERT_TRUE(pg_->Exec(shadow, "SELECT lo_unlink(3001); SELECT lo_put(1002, 0, 'Z'); "
                                "SELECT lo_from_bytea(4242, 'stray');")
                  .ok());
  v = Verify(shadow, last_report_);
  EXPECT_EQ(v.exit_code, 1) << v.out << v.err;
  const std::string all = v.out + v.err;
  EXPECT_NE(all.find("large object 3001: in the manifest, missing"), std::string::npos) << all;
  EXPECT_NE(all.find("large object 1002: "), std::string::npos) << all;
  EXPECT_NE(all.find("large object 4242: not in the manifest"), std::string::npos) << all;
}

// swap: main must still hold exactly production's large objects as dumped;
// the shadow carries them, so the swap goes through once main is back.
TEST_F(LargeObjectTest, SwapComparesMainWithProductionsLargeObjects) {
  const std::string main = MakeDb("main", {kBase, "SELECT lo_from_bytea(2001, 'prod');"});
  const std::string dev = MakeDb("dev", {kBase, "SELECT lo_from_bytea(3001, 'dev');"});
  MergeRun run = RunMerge(DumpDb(main, {}), DumpDb(dev, {}));
  const std::string shadow = Restored(run);
  const std::string report = run.sql_file + ".json";
  auto swap = [&]() {
    absl::StatusOr<CommandResult> r = RunCommand(
        {PGMERGE_BINARY, "swap", "--server", pg_->ConnString("postgres"), "--main", main,
         "--shadow", shadow, "--report", report, "--state",
         absl::StrCat(pg_->tmp_dir(), "/", Name("state"), ".json"), "--grace", "0.5"});
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandResult{};
  };
  ASSERT_TRUE(pg_->Exec(main, "SELECT lo_unlink(1003);").ok());
  CommandResult stopped = swap();
  EXPECT_EQ(stopped.exit_code, 4) << stopped.err;
  EXPECT_NE(stopped.err.find("large object 1003: in production's dump, gone from main "
                             "(deleted since the dump)"),
            std::string::npos)
      << stopped.err;
  // The same object again (empty): main is as dumped, the swap is made.
  ASSERT_TRUE(pg_->Exec(main, "SELECT lo_from_bytea(1003, '');").ok());
  CommandResult done = swap();
  ASSERT_EQ(done.exit_code, 0) << done.err;
  absl::StatusOr<std::string> oids = pg_->QueryValue(
      main, "SELECT string_agg(oid::text, ',' ORDER BY oid) FROM pg_largeobject_metadata");
  ASSERT_TRUE(oids.ok()) << oids.status();
  EXPECT_EQ(*oids, "1001,1002,1003,2001,3001");
}

TEST_F(LargeObjectTest, ForeignLargeObjectStatementsRefused) {
  const std::string db = MakeDb("db", {kBase});
  const std::string good = ReadFile(DumpDb(db, {}));
  const std::string prod = DumpDb(db, {});
  // `marker`: the text the refused statement starts with.
  auto refused = [&](const std::string& from, const std::string& to, const std::string& marker,
                     const std::string& what) {
    SCOPED_TRACE(to);
    std::string bad = good;
    size_t at = bad.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    bad.replace(at, from.size(), to);
    size_t m = bad.find(marker);
    ASSERT_NE(m, std::string::npos) << marker;
    const int64_t line = 1 + std::count(bad.begin(), bad.begin() + m, '\n');
    std::string file = absl::StrCat(pg_->tmp_dir(), "/", Name("bad"), ".sql");
    std::ofstream(file, std::ios::binary) << bad;
    MergeRun run = RunMerge(prod, file);
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_EQ(ReadFile(run.sql_file), "");
    EXPECT_NE(run.err.find(absl::StrCat(file, ":", line, ": ")), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(what), std::string::npos) << run.err;
  };
  const std::string open3 = "SELECT pg_catalog.lo_open('1003'";
  refused("SELECT pg_catalog.lo_create('1003');", "SELECT pg_catalog.lo_create('1003', 1);",
          "SELECT pg_catalog.lo_create('1003', 1);", "in a form pg_dump does not write");
  refused(open3, "COMMIT;\n" + open3, open3, "lo_open outside pg_dump's BEGIN/COMMIT");
  refused("SELECT pg_catalog.lowrite(0, '\\x62", "SELECT pg_catalog.lowrite(0, '\\xZZ", "\\xZZ",
          "in a form pg_dump does not write");
  refused(open3, "DROP TABLE public.docs;\n" + open3, "DROP TABLE public.docs;",
          "inside the large objects' data section");
  refused("CREATE TABLE public.docs", "COMMIT;\nCREATE TABLE public.docs", "COMMIT;\nCREATE",
          "COMMIT without the BEGIN");
  refused(open3 + ", 131072);\nSELECT pg_catalog.lo_close(0);\n", "",
          "SELECT pg_catalog.lo_create('1003');",
          "large object 1003 is created but its data is not in the dump");
  // A transaction statement anywhere else.
  refused("CREATE TABLE public.docs", "END;\nCREATE TABLE public.docs", "END;",
          "transaction statement in a form pg_dump does not write");
}

}  // namespace
}  // namespace pgmerge::testing
