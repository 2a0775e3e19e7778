// `pgmerge PROD DEV --into CONNINFO --jobs N`: the same database as
// `pgmerge PROD DEV | psql --single-transaction`, verified alike; a run
// that fails half-way leaves the target empty; a target that is not empty
// is refused and left as it was.
#include <sys/stat.h>

#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/merge_fixture.h"
#include "tests/test_postgres.h"

namespace pgmerge::testing {
namespace {

std::string Example(const std::string& file) {
  return absl::StrCat(SourceDir(), "/testdata/example/", file);
}

class IntoTest : public MergeFixture {
 protected:
  CommandResult Into(const std::string& prod, const std::string& dev, const std::string& db,
                     int jobs, std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {PGMERGE_BINARY, prod, dev, "-q", "--into",
                                     pg_->ConnString(db), "--jobs", std::to_string(jobs),
                                     "--report", absl::StrCat(pg_->tmp_dir(), "/", db, ".json")};
    argv.insert(argv.end(), extra.begin(), extra.end());
    absl::StatusOr<CommandResult> r = RunCommand(argv);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandResult{};
  }

  // pg_dump of `db` without its \restrict lines (their key is random).
  std::string Schema(const std::string& db) {
    std::string file = absl::StrCat(pg_->tmp_dir(), "/", Name("dump"), ".sql");
    EXPECT_TRUE(pg_->Dump(db, {}, file).ok());
    std::string out;
    std::ifstream in(file);
    for (std::string line; std::getline(in, line);) {
      if (line.rfind("\\restrict ", 0) == 0 || line.rfind("\\unrestrict ", 0) == 0) continue;
      out += line + "\n";
    }
    return out;
  }

  int Verify(const std::string& db, const std::string& report, std::string* err) {
    absl::StatusOr<CommandResult> r = RunCommand(
        {PGMERGE_BINARY, "verify", "--db", pg_->ConnString(db), "--report", report});
    EXPECT_TRUE(r.ok());
    *err = r->err;
    return r->exit_code;
  }

  // What a database holds besides a fresh one's: relations and functions.
  std::string Held(const std::string& db) {
    absl::StatusOr<std::string> v = pg_->QueryValue(
        db,
        "SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')) || ' ' || "
        "(SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))");
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : "?";
  }

  // The pipe and --into with 1 and 2 sessions: pg_dump alike, verify
  // passes on both.
  void ExpectSameAsPipe(const std::string& prod, const std::string& dev,
                        const std::vector<int>& sessions = {1, 2}) {
    MergeRun run = RunMerge(prod, dev);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    std::string piped = Name("pipe");
    ASSERT_TRUE(pg_->CreateDatabase(piped).ok());
    ASSERT_TRUE(pg_->Restore(piped, run.sql_file).ok());
    const std::string want = Schema(piped);
    std::string piped_verify;
    ASSERT_EQ(Verify(piped, run.sql_file + ".json", &piped_verify), 0) << piped_verify;
    for (int jobs : sessions) {
      std::string db = Name(absl::StrCat("jobs", jobs));
      ASSERT_TRUE(pg_->CreateDatabase(db).ok());
      CommandResult r = Into(prod, dev, db, jobs);
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(Schema(db), want) << "--jobs " << jobs;
      // The report is the stream's, byte for byte.
      EXPECT_EQ(ReadFile(absl::StrCat(pg_->tmp_dir(), "/", db, ".json")), run.report);
      std::string err;
      EXPECT_EQ(Verify(db, absl::StrCat(pg_->tmp_dir(), "/", db, ".json"), &err), 0) << err;
      EXPECT_EQ(err, piped_verify);
    }
  }

  // `dev` with `sql` inserted after its first line starting with `after`.
  std::string DevWith(const std::string& after, const std::string& sql) {
    std::string text = ReadFile(Example("dev.sql"));
    size_t at = text.find(after);
    EXPECT_NE(at, std::string::npos);
    at = text.find("\n\n", at);
    text.insert(at + 1, absl::StrCat("\n", sql, "\n"));
    std::string file = absl::StrCat(pg_->tmp_dir(), "/", Name("dev"), ".sql");
    std::ofstream(file) << text;
    return file;
  }

  void ExpectFailsEmpty(const std::string& dev, int jobs, const std::string& message,
                        const std::string& prod = Example("prod.sql")) {
    std::string db = Name("failed");
    ASSERT_TRUE(pg_->CreateDatabase(db).ok());
    ASSERT_TRUE(pg_->Exec(db, absl::StrCat("ALTER DATABASE \"", db, "\" SET work_mem = '7MB'")).ok());
    ASSERT_TRUE(pg_->Exec(db, absl::StrCat("ALTER DATABASE \"", db,
                                           "\" SET search_path = public, \"Odd, Schema\""))
                    .ok());
    ASSERT_TRUE(pg_->Exec(db, absl::StrCat("COMMENT ON DATABASE \"", db, "\" IS 'kept'")).ok());
    CommandResult r = Into(prod, dev, db, jobs);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.err.find(message), std::string::npos) << r.err << " exit " << r.exit_code;
    EXPECT_NE(r.err.find("the target was dropped and created again empty"), std::string::npos)
        << r.err;
    EXPECT_EQ(Held(db), "0 0");
    // Created again as it was: its settings too.
    absl::StatusOr<std::string> work_mem = pg_->QueryValue(db, "SHOW work_mem");
    EXPECT_TRUE(work_mem.ok() && *work_mem == "7MB");
    absl::StatusOr<std::string> path = pg_->QueryValue(db, "SHOW search_path");
    EXPECT_TRUE(path.ok() && *path == "public, \"Odd, Schema\"") << (path.ok() ? *path : "");
    absl::StatusOr<std::string> comment =
        pg_->QueryValue(db, "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                            "WHERE datname = current_database()");
    EXPECT_TRUE(comment.ok() && *comment == "kept");
  }
};

TEST_F(IntoTest, ExampleSameAsPipe) {
  ExpectSameAsPipe(Example("prod.sql"), Example("dev.sql"));
}

TEST_F(IntoTest, PagilaSameAsPipe) {
  const std::string dir = absl::StrCat(SharedTestdata(), "/pagila/");
  struct stat st;
  if (stat((dir + "pagila.dump.sql").c_str(), &st) != 0) GTEST_SKIP() << "no shared pagila";
  ExpectSameAsPipe(dir + "pagila.dump.sql", dir + "pagila.inserts100.dump.sql");
}

// Every kind of object: partitions (indexes ON ONLY the parent, attached
// later), inheritance children, exclusion and CHECK constraints added after
// the data, tables with no columns; each table's builds start as soon as its
// rows are in, beside other tables' COPY.
TEST_F(IntoTest, RegressionDatabaseSameAsPipe) {
  const std::string dump = absl::StrCat(SharedTestdata(), "/regression/regression.dump.sql");
  struct stat st;
  if (stat(dump.c_str(), &st) != 0) GTEST_SKIP() << "no shared regression database";
  ExpectSameAsPipe(dump, dump, {2, 4});
}

// An index build that fails after every table is copied.
TEST_F(IntoTest, FailedIndexLeavesTargetEmpty) {
  std::string dev = DevWith("ADD CONSTRAINT players_pkey PRIMARY KEY",
                            "CREATE UNIQUE INDEX posts_fail ON public.posts USING btree ((1));");
  for (int jobs : {1, 2}) ExpectFailsEmpty(dev, jobs, "could not create unique index");
}

// A foreign key whose rows do not hold (production's dump breaks its own
// key: a row pointing at no post): added NOT VALID, its check fails.
TEST_F(IntoTest, FailedForeignKeyLeavesTargetEmpty) {
  std::string prod = absl::StrCat(pg_->tmp_dir(), "/", Name("prod"), ".sql");
  std::ofstream(prod) << absl::StrReplaceAll(
      ReadFile(Example("prod.sql")),
      {{"\n1\t2\t\\N\tcomment 1\n", "\n1\t987654\t\\N\tcomment 1\n"}});
  for (int jobs : {1, 2}) {
    ExpectFailsEmpty(Example("dev.sql"), jobs,
                     "violates foreign key constraint \"comments_post_id_fkey\"", prod);
  }
}

// The server refuses a row half-way through a COPY (a CHECK the merge
// cannot evaluate): the block's session fails, the merge stops writing.
TEST_F(IntoTest, FailedCopyLeavesTargetEmpty) {
  std::string dev = DevWith("CREATE TABLE public.comments (",
                            "ALTER TABLE public.comments ADD CONSTRAINT short_body "
                            "CHECK (length(body) < 10);");
  for (int jobs : {1, 2}) {
    ExpectFailsEmpty(dev, jobs, "violates check constraint \"short_body\"");
  }
}

// A session's connection lost half-way (its backend ends itself).
TEST_F(IntoTest, KilledConnectionLeavesTargetEmpty) {
  std::string dev = DevWith("SET row_security = off;",
                            "CREATE FUNCTION public.die(bigint) RETURNS integer LANGUAGE sql "
                            "IMMUTABLE AS $$ SELECT pg_terminate_backend(pg_backend_pid())::int $$;");
  std::string text = ReadFile(dev);
  std::string file = absl::StrCat(pg_->tmp_dir(), "/", Name("dev"), ".sql");
  std::ofstream(file) << absl::StrReplaceAll(
      text, {{"ALTER TABLE ONLY public.players\n    ADD CONSTRAINT players_pkey PRIMARY KEY (id);",
              "ALTER TABLE ONLY public.players\n    ADD CONSTRAINT players_pkey PRIMARY KEY (id);"
              "\n\nCREATE INDEX posts_die ON public.posts USING btree (public.die(id));"}});
  ExpectFailsEmpty(file, 2, "server closed the connection");
}

// Ctrl-C during a slow index build: the build is cancelled, the target
// wiped, the exit non-zero.
TEST_F(IntoTest, InterruptLeavesTargetEmpty) {
  std::string dev = DevWith("SET row_security = off;",
                            "CREATE FUNCTION public.slow(bigint) RETURNS bigint LANGUAGE sql "
                            "IMMUTABLE AS $$ SELECT $1 FROM pg_sleep(1) $$;");
  std::string file = absl::StrCat(pg_->tmp_dir(), "/", Name("dev"), ".sql");
  std::ofstream(file) << absl::StrReplaceAll(
      ReadFile(dev),
      {{"ALTER TABLE ONLY public.players\n    ADD CONSTRAINT players_pkey PRIMARY KEY (id);",
        "ALTER TABLE ONLY public.players\n    ADD CONSTRAINT players_pkey PRIMARY KEY (id);"
        "\n\nCREATE INDEX posts_slow ON public.posts USING btree (public.slow(id));"}});
  std::string db = Name("target");
  ASSERT_TRUE(pg_->CreateDatabase(db).ok());
  // The index takes 24 s (a second a row); the interrupt comes after 3.
  absl::StatusOr<CommandResult> r = RunCommand(
      {"/bin/bash", "-c",
       absl::StrCat("'", PGMERGE_BINARY, "' '", Example("prod.sql"), "' '", file,
                    "' -q --jobs 2 --into '", pg_->ConnString(db),
                    "' & pid=$!; sleep 3; kill -INT $pid; wait $pid; echo \"exit $?\"")});
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->out.find("exit 2"), std::string::npos) << r->out << r->err;
  EXPECT_NE(r->err.find("interrupted"), std::string::npos) << r->err;
  EXPECT_NE(r->err.find("the target was dropped and created again empty"), std::string::npos)
      << r->err;
  EXPECT_EQ(Held(db), "0 0");
}

// Refused before anything is sent: the target is left as it was.
TEST_F(IntoTest, ConflictRefusedTargetUntouched) {
  std::string db = Name("target");
  ASSERT_TRUE(pg_->CreateDatabase(db).ok());
  CommandResult r = Into(Example("prod.sql"), Example("dev.sql"), db, 2, {"--fail-on-conflict"});
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_EQ(r.err.find("dropped"), std::string::npos) << r.err;
  EXPECT_EQ(Held(db), "0 0");
}

TEST_F(IntoTest, NonEmptyTargetRefused) {
  std::string db = Name("target");
  ASSERT_TRUE(pg_->CreateDatabase(db).ok());
  ASSERT_TRUE(pg_->Exec(db, "CREATE TABLE keep_me (a int); INSERT INTO keep_me VALUES (1);").ok());
  CommandResult r = Into(Example("prod.sql"), Example("dev.sql"), db, 2);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("is not empty (relation keep_me)"), std::string::npos) << r.err;
  absl::StatusOr<std::string> v = pg_->QueryValue(db, "SELECT count(*) FROM keep_me");
  EXPECT_TRUE(v.ok() && *v == "1");
}

TEST_F(IntoTest, IntoTakesNoOutputFile) {
  absl::StatusOr<CommandResult> r = RunCommand({PGMERGE_BINARY, Example("prod.sql"),
                                                Example("dev.sql"), "--into", "x", "-o", "y"});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 2);
  EXPECT_NE(r->err.find("--into"), std::string::npos) << r->err;
}

}  // namespace
}  // namespace pgmerge::testing
