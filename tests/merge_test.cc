// The x+y+z merge against a real PostgreSQL: build base, derive prod and
// dev, pg_dump both, merge, restore with ON_ERROR_STOP in one transaction,
// and check the shadow row by row against the truth decided from the base
// (tests/truth_checker.h).
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "base/strings.h"
#include "tests/merge_fixture.h"

namespace pgmerge::testing {
namespace {

class MergeTest : public MergeFixture {};

std::string Example(const std::string& file) {
  return ReadFile(absl::StrCat(SourceDir(), "/testdata/example/", file));
}

const std::vector<std::vector<std::string>> kDumpForms = {
    {}, {"--inserts"}, {"--column-inserts"}, {"--rows-per-insert=50"},
    {"--rows-per-insert=3", "--on-conflict-do-nothing"}};

TEST_F(MergeTest, ExampleAppEveryDumpForm) {
  std::string base = MakeDb("base", {Example("base-data.sql")});
  std::string prod = MakeDb("prod", {Example("base-data.sql"), Example("prod-changes.sql")});
  std::string dev = MakeDb("dev", {Example("base-data.sql"), Example("dev-changes.sql")});
  for (const auto& form : kDumpForms) {
    SCOPED_TRACE(form.empty() ? "COPY" : form[0]);
    MergeAndCheckTruth(base, prod, dev, DumpDb(prod, form), DumpDb(dev, form));
  }
  // Mixed forms on the two sides.
  MergeAndCheckTruth(base, prod, dev, DumpDb(prod, {"--inserts"}), DumpDb(dev, {}));
}

// Dumps made to restore over a database (--clean, with or without
// --if-exists) merge as the plain ones: their drops are left out (the
// target starts empty) and counted. One made with --create is refused:
// its CREATE DATABASE and \connect would restore beside the shadow.
TEST_F(MergeTest, CleanDumpsMergeCreateDumpsRefused) {
  std::string base = MakeDb("base", {Example("base-data.sql")});
  std::string prod = MakeDb("prod", {Example("base-data.sql"), Example("prod-changes.sql")});
  std::string dev = MakeDb("dev", {Example("base-data.sql"), Example("dev-changes.sql")});
  for (const std::vector<std::string>& form :
       {std::vector<std::string>{"--clean"}, {"--clean", "--if-exists"}}) {
    SCOPED_TRACE(form.back());
    MergeAndCheckTruth(base, prod, dev, DumpDb(prod, form), DumpDb(dev, form));
    EXPECT_NE(last_report_.find("\"clean_statements\": "), std::string::npos);
    EXPECT_EQ(last_report_.find("\"clean_statements\": 0"), std::string::npos) << last_report_;
  }
  for (const std::string& side : {"prod", "dev"}) {
    std::string p = DumpDb(prod, side == "prod" ? std::vector<std::string>{"--create"}
                                                : std::vector<std::string>{});
    std::string d = DumpDb(dev, side == "dev" ? std::vector<std::string>{"--create", "--clean"}
                                              : std::vector<std::string>{});
    MergeRun r = RunMerge(p, d);
    EXPECT_EQ(r.exit_code, 2) << side;
    EXPECT_NE(r.err.find(absl::StrCat(side == "prod" ? p : d, ":")), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("(pg_dump --create)"), std::string::npos) << r.err;
    EXPECT_TRUE(ReadFile(r.sql_file).empty());
  }
}

// A production dump that leaves a table's data out would merge into a
// shadow without production's rows of it: refused, naming the table.
// Development may leave its data out (its rows are what it adds).
TEST_F(MergeTest, ProdDumpWithoutItsDataRefused) {
  std::string prod = MakeDb("prod", {Example("base-data.sql"), Example("prod-changes.sql")});
  std::string dev = MakeDb("dev", {Example("base-data.sql"), Example("dev-changes.sql")});
  const std::string dev_dump = DumpDb(dev, {});
  for (const std::vector<std::string>& form :
       {std::vector<std::string>{"--schema-only"}, {"--exclude-table-data=public.posts"},
        {"--inserts", "--exclude-table-data=public.posts"}}) {
    SCOPED_TRACE(form.back());
    const std::string prod_dump = DumpDb(prod, form);
    MergeRun r = RunMerge(prod_dump, dev_dump);
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(prod_dump + ":"), std::string::npos) << r.err;
    EXPECT_NE(r.err.find("production's dump holds no data for table public."), std::string::npos)
        << r.err;
    EXPECT_TRUE(ReadFile(r.sql_file).empty());
  }
  MergeRun r = RunMerge(DumpDb(prod, {}), DumpDb(dev, {"--exclude-table-data=public.posts"}));
  EXPECT_EQ(r.exit_code, 0) << r.err;
}

// Dumps of a database in another encoding than UTF8 (pg_dump --encoding,
// or a LATIN1 database): merged and written in it, and verify reads the
// shadow in it too. Two dumps in two encodings cannot be merged byte for
// byte: refused, naming both.
TEST_F(MergeTest, DumpsInOneEncodingMergeTwoRefused) {
  const std::string schema =
      "CREATE TABLE public.towns (id serial PRIMARY KEY, name text NOT NULL);\n"
      "INSERT INTO public.towns (name) VALUES ('Zürich'), ('Besançon'), ('Kraków');\n";
  std::string prod = MakeDb("prod", {schema, "INSERT INTO public.towns (name) VALUES ('Genève');"});
  std::string dev = MakeDb("dev", {schema, "INSERT INTO public.towns (name) VALUES ('Liège');"});
  for (const std::string& encoding : {"LATIN1", "UTF8"}) {
    SCOPED_TRACE(encoding);
    const std::vector<std::string> form = {"--encoding=" + encoding};
    MergeAndCheckWith(DumpDb(prod, form), DumpDb(dev, form), {}, [&](const MergeRun& run) {
      EXPECT_NE(run.report.find("\"client_encoding\": \"" + encoding + "\""), std::string::npos);
      absl::StatusOr<Rows> names = pg_->Query(last_shadow_, "SELECT name FROM public.towns ORDER BY id");
      ASSERT_TRUE(names.ok()) << names.status();
      std::string all;
      for (const auto& row : *names) absl::StrAppend(&all, *row[0], ",");
      EXPECT_EQ(all, "Zürich,Besançon,Kraków,Genève,Liège,");
      absl::StatusOr<CommandResult> v =
          RunCommand({PGMERGE_BINARY, "verify", "--db", pg_->ConnString(last_shadow_), "--report",
                      run.sql_file + ".json"});
      ASSERT_TRUE(v.ok());
      EXPECT_EQ(v->exit_code, 0) << v->err;
    });
  }
  const std::string latin1 = DumpDb(prod, {"--encoding=LATIN1"});
  const std::string utf8 = DumpDb(dev, {});
  MergeRun r = RunMerge(latin1, utf8);
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find(utf8 + ":"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("client_encoding UTF8, and " + latin1 + " has client_encoding LATIN1"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(ReadFile(r.sql_file).empty());
}

// Development's schema, then its data, as one dump (pg_dump --schema-only
// and --data-only joined by hand under one \restrict): the rows go in
// before the schema's post-data, where every table exists and no key or
// index is there yet.
TEST_F(MergeTest, DevDumpedAsSchemaThenData) {
  std::string base = MakeDb("base", {Example("base-data.sql")});
  std::string prod = MakeDb("prod", {Example("base-data.sql"), Example("prod-changes.sql")});
  std::string dev = MakeDb("dev", {Example("base-data.sql"), Example("dev-changes.sql")});
  const std::string schema = ReadFile(DumpDb(dev, {"--schema-only"}));
  const std::string data = ReadFile(DumpDb(dev, {"--data-only"}));
  const size_t key_at = schema.find("\\restrict ") + 10;
  const std::string key = schema.substr(key_at, schema.find('\n', key_at) - key_at);
  const size_t data_from = data.find('\n', data.find("\\restrict ")) + 1;
  const size_t data_to = data.find("\\unrestrict ");
  std::string dev_dump = absl::StrCat(pg_->tmp_dir(), "/", Name("dev_two_part"), ".sql");
  std::ofstream(dev_dump, std::ios::binary)
      << schema.substr(0, schema.find("--\n-- PostgreSQL database dump complete"))
      << data.substr(data_from, data_to - data_from) << "\\unrestrict " << key << "\n";
  MergeAndCheckTruth(base, prod, dev, DumpDb(prod, {}), dev_dump);
}

// Tables of thousands of rows, where emit goes past stretches between the
// index's marks: production's copied whole, development's base rows not
// read; and past single rows by their lengths, some of them 64 KiB and more
// (those are read). Edits, deletions and new rows fall inside and between
// stretches; one table gains a column in development (its rows are all
// read), and the same dumps with CR LF line ends give the same.
TEST_F(MergeTest, LongTablesCopiedInStretchesAreTheTruth) {
  const std::string schema =
      "CREATE TABLE a (id serial PRIMARY KEY, v text NOT NULL);"
      "CREATE TABLE b (id serial PRIMARY KEY, a_id int REFERENCES a, w int);"
      "INSERT INTO a (v) SELECT 'row ' || g || CASE WHEN g % 1000 = 500 "
      "THEN repeat('L', 65500 + 10 * (g / 1000)) ELSE repeat('x', g % 40) END "
      "FROM generate_series(1, 5000) g;"
      "INSERT INTO b (a_id, w) SELECT 1 + g % 5000, g FROM generate_series(1, 4000) g;";
  const std::string prod_changes =
      "UPDATE a SET v = 'edited in prod' WHERE id IN (10, 2500, 4999);"
      "DELETE FROM b WHERE id IN (7, 3000);"
      "INSERT INTO a (v) SELECT 'prod ' || g FROM generate_series(1, 1500) g;"
      "INSERT INTO b (a_id, w) SELECT 5000 + g, -g FROM generate_series(1, 1200) g;";
  const std::string dev_changes =
      "ALTER TABLE b ADD COLUMN note text DEFAULT 'n';"
      "UPDATE a SET v = 'edited in dev' WHERE id IN (1200, 3500, 3700);"
      "INSERT INTO a (v) SELECT 'dev ' || g FROM generate_series(1, 2100) g;"
      "INSERT INTO b (a_id, w, note) SELECT 5000 + g, g, 'dev' FROM generate_series(1, 1300) g;";
  std::string base = MakeDb("base", {schema});
  std::string prod = MakeDb("prod", {schema, prod_changes});
  std::string dev = MakeDb("dev", {schema, dev_changes});
  const std::string prod_dump = DumpDb(prod, {}), dev_dump = DumpDb(dev, {});
  MergeAndCheckTruth(base, prod, dev, prod_dump, dev_dump);
  MergeAndCheckTruth(base, prod, dev, prod_dump, dev_dump, {"--base", DumpDb(base, {})});
  const std::string lf_output = ReadFile(RunMerge(prod_dump, dev_dump).sql_file);
  auto crlf = [&](const std::string& file) {
    std::string text = ReadFile(file), out;
    for (char c : text) {
      if (c == '\n') out += '\r';
      out += c;
    }
    const std::string to = file + ".crlf.sql";
    std::ofstream(to, std::ios::binary) << out;
    return to;
  };
  const std::string prod_crlf = crlf(prod_dump), dev_crlf = crlf(dev_dump);
  MergeAndCheckTruth(base, prod, dev, prod_crlf, dev_crlf);
  MergeRun run = RunMerge(prod_crlf, dev_crlf);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  // The rows come out as they did from the LF dumps (LF line ends).
  const std::string crlf_output = ReadFile(run.sql_file);
  auto copy_data = [](const std::string& sql) {
    const size_t from = sql.find("COPY public.a");
    return sql.substr(from, sql.find("\\.\n", sql.find("COPY public.b", from)) - from);
  };
  EXPECT_EQ(copy_data(crlf_output), copy_data(lf_output));
}

TEST_F(MergeTest, ExampleAppRemapsFollowForeignKeys) {
  std::string base = MakeDb("base", {Example("base-data.sql")});
  std::string prod = MakeDb("prod", {Example("base-data.sql"), Example("prod-changes.sql")});
  std::string dev = MakeDb("dev", {Example("base-data.sql"), Example("dev-changes.sql")});
  MergeAndCheckTruth(base, prod, dev, DumpDb(prod, {}), DumpDb(dev, {}));
  // Spot checks of what the checker proves in general.
  auto value = [&](const std::string& sql) {
    absl::StatusOr<std::string> v = pg_->QueryValue(last_shadow_, sql);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : "";
  };
  // Dan (dev's user 11) was remapped; his post follows him.
  EXPECT_EQ(value("SELECT u.email FROM posts p JOIN users u ON u.id = p.user_id "
                  "WHERE p.body = 'dev post by Dan'"),
            "dan@example.org");
  EXPECT_EQ(value("SELECT name FROM users WHERE id = 11"), "Pam (prod)");
  // Dev's 'ops' tag was unified with prod's; its post_tags row points there.
  EXPECT_EQ(value("SELECT count(*) FROM tags WHERE name = 'ops'"), "1");
  // The FK cycle: yellow's captain is dev's player, remapped.
  EXPECT_EQ(value("SELECT p.name FROM teams t JOIN players p ON p.id = t.captain_id "
                  "WHERE t.name = 'yellow'"),
            "dev player");
  // A self-reference: dev's reply points at dev's comment, remapped.
  EXPECT_EQ(value("SELECT p.body FROM comments c JOIN comments p ON p.id = c.parent_id "
                  "WHERE c.body = 'dev reply'"),
            "dev comment");
  // A multi-column foreign key through a composite key of foreign keys.
  EXPECT_EQ(value("SELECT v.voter FROM post_tag_votes v JOIN tags t ON t.id = v.tag_id "
                  "JOIN posts p ON p.id = v.post_id "
                  "WHERE t.name = 'release' AND p.body = 'dev post by Dan'"),
            "dan");
  // Development's new column got its default on production's rows.
  EXPECT_EQ(value("SELECT created_at FROM users WHERE email = 'pam@example.org'"),
            "before-merge");
  // Sequences end past every key.
  EXPECT_EQ(value("SELECT nextval('users_id_seq') > (SELECT max(id) FROM users)"), "t");
  EXPECT_NE(last_report_.find("\"conflicts\""), std::string::npos);
}

// The bundled example two-way, against the truth decided from the base:
// the comment and the post_tags link production deleted come back, but as
// reported ambiguities (issue #12, item 5): without a base they may as well
// be development's own rows.
TEST_F(MergeTest, ExampleAppTwoWayIsTheTruth) {
  std::string base = MakeDb("base", {Example("base-data.sql")});
  std::string prod = MakeDb("prod", {Example("base-data.sql"), Example("prod-changes.sql")});
  std::string dev = MakeDb("dev", {Example("base-data.sql"), Example("dev-changes.sql")});
  MergeAndCheckTruth(base, prod, dev, DumpDb(prod, {}), DumpDb(dev, {}));
}

TEST_F(MergeTest, ExampleAppThreeWayWithBase) {
  std::string base = MakeDb("base", {Example("base-data.sql")});
  std::string prod = MakeDb("prod", {Example("base-data.sql"), Example("prod-changes.sql")});
  std::string dev = MakeDb("dev", {Example("base-data.sql"), Example("dev-changes.sql")});
  std::string base_dump = DumpDb(base, {});
  for (const auto& form : kDumpForms) {
    SCOPED_TRACE(form.empty() ? "COPY" : form[0]);
    std::vector<std::string> extra = {"--base", DumpDb(base, form)};
    MergeAndCheckTruth(base, prod, dev, DumpDb(prod, form), DumpDb(dev, form), extra);
  }
  MergeAndCheckTruth(base, prod, dev, DumpDb(prod, {}), DumpDb(dev, {}), {"--base", base_dump});
  auto value = [&](const std::string& sql) {
    absl::StatusOr<std::string> v = pg_->QueryValue(last_shadow_, sql);
    return v.ok() ? *v : v.status().ToString();
  };
  // Edited only in dev: dev's version. Deleted in prod: stays deleted.
  EXPECT_EQ(value("SELECT value FROM settings WHERE key = 'lang'"), "en-GB");
  EXPECT_EQ(value("SELECT count(*) FROM comments WHERE body = 'a reply'"), "0");
  // Edited on both sides: production's version by default...
  EXPECT_EQ(value("SELECT name FROM users WHERE id = 3"), "user 3 (renamed in prod)");
  // ...development's with --prefer dev.
  MergeAndCheckTruth(base, prod, dev, DumpDb(prod, {}), DumpDb(dev, {}),
                {"--base", base_dump, "--prefer", "dev"});
  EXPECT_EQ(value("SELECT name FROM users WHERE id = 3"), "user 3 (renamed in dev)");
}

// `pgmerge verify` accepts the shadow as restored and names what changed.
TEST_F(MergeTest, VerifyShadowAgainstManifest) {
  std::string prod = MakeDb("prod", {Example("base-data.sql"), Example("prod-changes.sql")});
  std::string dev = MakeDb("dev", {Example("base-data.sql"), Example("dev-changes.sql")});
  MergeRun run = RunMerge(DumpDb(prod, {}), DumpDb(dev, {}));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string report = run.sql_file + ".json";
  // Read on 1, 2 (the default) and 3 sessions, it says the same.
  auto verify = [&](const std::string& db) {
    absl::StatusOr<CommandResult> r = RunCommand(
        {PGMERGE_BINARY, "verify", "--db", pg_->ConnString(db), "--report", report});
    EXPECT_TRUE(r.ok());
    for (const char* jobs : {"1", "3"}) {
      absl::StatusOr<CommandResult> j =
          RunCommand({PGMERGE_BINARY, "verify", "--db", pg_->ConnString(db), "--report", report,
                      "--jobs", jobs});
      EXPECT_TRUE(j.ok());
      EXPECT_EQ(j->exit_code, r->exit_code) << "--jobs " << jobs;
      EXPECT_EQ(j->err, r->err) << "--jobs " << jobs;
    }
    return *r;
  };
  std::string shadow = Name("shadow");
  ASSERT_TRUE(pg_->CreateDatabase(shadow).ok());
  ASSERT_TRUE(pg_->Restore(shadow, run.sql_file).ok());
  CommandResult ok = verify(shadow);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_NE(ok.err.find("the shadow holds what the merge wrote"), std::string::npos);
  ASSERT_TRUE(pg_->Exec(shadow, "SET session_replication_role = replica;"
                                "UPDATE settings SET value = 'x' WHERE key = 'lang';"
                                "DELETE FROM audit WHERE what = 'seed';"
                                "SELECT setval('users_id_seq', 3);").ok());
  CommandResult bad = verify(shadow);
  EXPECT_EQ(bad.exit_code, 1) << bad.err;
  EXPECT_NE(bad.err.find("public.settings: 4 rows as expected, but their content changed"), std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find("public.audit: 4 rows, expected 5 (-1)"), std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find("sequence public.users_id_seq is at 3"), std::string::npos)
      << bad.err;
  // A database that is not there is one clear error, exit 2.
  CommandResult missing = verify(Name("missing"));
  EXPECT_EQ(missing.exit_code, 2) << missing.err;
  EXPECT_NE(missing.err.find("cannot connect"), std::string::npos) << missing.err;
  absl::StatusOr<CommandResult> no_jobs = RunCommand(
      {PGMERGE_BINARY, "verify", "--db", pg_->ConnString(shadow), "--report", report, "--jobs",
       "0"});
  ASSERT_TRUE(no_jobs.ok());
  EXPECT_EQ(no_jobs->exit_code, 2);
  EXPECT_NE(no_jobs->err.find("--jobs takes a number from 1 to 64"), std::string::npos)
      << no_jobs->err;
}

// The checker itself must catch what it is there to catch, on the example
// (tests/truth_checker_test.cc sabotages generated workloads).
TEST_F(MergeTest, CheckerCatchesWrongReferenceAndMissingRow) {
  std::string base = MakeDb("base", {Example("base-data.sql")});
  std::string prod = MakeDb("prod", {Example("base-data.sql"), Example("prod-changes.sql")});
  std::string dev = MakeDb("dev", {Example("base-data.sql"), Example("dev-changes.sql")});
  MergeRun run = RunMerge(DumpDb(prod, {}), DumpDb(dev, {}));
  ASSERT_EQ(run.exit_code, 0) << run.err;
  const std::vector<std::string> sabotage = {
      // A dev post pointing at prod's user with the same old key.
      "UPDATE posts SET user_id = 11 WHERE body = 'dev post by Dan'",
      // A dev row lost.
      "DELETE FROM post_tags WHERE post_id = 1 AND tag_id = "
      "(SELECT id FROM tags WHERE name = 'release')",
      // A prod row changed.
      "UPDATE settings SET value = 'x' WHERE key = 'maintenance'",
      // A remapped parent's child left behind on the old key.
      "UPDATE comments SET parent_id = 12 WHERE body = 'dev reply'",
  };
  auto truth = [&](const std::string& shadow) {
    absl::StatusOr<TruthFindings> f =
        CheckTruth(pg_, base, prod, dev, shadow, run.report, TruthOptions());
    EXPECT_TRUE(f.ok()) << f.status();
    return f.ok() ? *f : TruthFindings();
  };
  for (const std::string& sql : sabotage) {
    SCOPED_TRACE(sql);
    std::string shadow = Name("shadow");
    ASSERT_TRUE(pg_->CreateDatabase(shadow).ok());
    ASSERT_TRUE(pg_->Restore(shadow, run.sql_file).ok());
    TruthFindings before = truth(shadow);
    ASSERT_TRUE(before.ok()) << before.Summary();
    ASSERT_TRUE(pg_->Exec(shadow, "SET session_replication_role = replica;\n" + sql).ok());
    EXPECT_FALSE(truth(shadow).ok());
  }
}

}  // namespace
}  // namespace pgmerge::testing
