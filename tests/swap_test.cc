// `pgmerge swap` and `pgmerge rollback` against a real PostgreSQL: the
// bundled example's production database is `main`, its merge restored is
// the shadow. Happy swaps with clients reading and writing, y' detection,
// a crash at every step followed by --resume or rollback, refusals.
#include <libpq-fe.h>

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/merge_fixture.h"
#include "tests/test_postgres.h"

namespace pgmerge::testing {
namespace {

using std::chrono::milliseconds;

class SwapTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    pg_ = SharedTestPostgres();
    ASSERT_NE(pg_, nullptr);
    const std::string example = SourceDir() + "/testdata/example/";
    dir_ = pg_->tmp_dir();
    merged_ = dir_ + "/swap-merged.sql";
    report_ = dir_ + "/swap-report.json";
    absl::StatusOr<CommandResult> r = RunCommand(
        {PGMERGE_BINARY, example + "prod.sql", example + "dev.sql", "--report", report_,
         "--quiet"},
        {}, merged_);
    ASSERT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->err : "");
    // Templates: each test copies them (CREATE DATABASE ... TEMPLATE) in
    // milliseconds instead of restoring.
    ASSERT_TRUE(pg_->CreateDatabase("swap_tpl_prod").ok());
    ASSERT_TRUE(pg_->Restore("swap_tpl_prod", example + "prod.sql").ok());
    ASSERT_TRUE(pg_->CreateDatabase("swap_tpl_shadow").ok());
    absl::Status restored = pg_->Restore("swap_tpl_shadow", merged_);
    ASSERT_TRUE(restored.ok()) << restored;
    prod_data_ = DataOf("swap_tpl_prod");
    shadow_data_ = DataOf("swap_tpl_shadow");
    ASSERT_FALSE(prod_data_.empty());
  }

  // Every row of every table, as pg_dump writes them: the exact content.
  static std::string DataOf(const std::string& db) {
    std::string file = absl::StrCat(dir_, "/data-", getpid(), ".sql");
    absl::Status s = pg_->Dump(db, {"--data-only", "--no-comments"}, file);
    EXPECT_TRUE(s.ok()) << s;
    std::string text = ReadFile(file);
    // pg_dump's \restrict key is random per run.
    std::string out;
    size_t pos = 0;
    while (pos < text.size()) {
      size_t end = text.find('\n', pos);
      if (end == std::string::npos) end = text.size();
      std::string_view line(text.data() + pos, end - pos);
      if (!absl::StartsWith(AsAbsl(line), "\\restrict") &&
          !absl::StartsWith(AsAbsl(line), "\\unrestrict")) {
        out.append(line.data(), line.size());
        out.push_back('\n');
      }
      pos = end + 1;
    }
    return out;
  }

  // main and shadow fresh from the templates; any earlier old main gone.
  void Fresh(const std::string& main, const std::string& shadow) {
    main_ = main;
    shadow_ = shadow;
    state_ = absl::StrCat(dir_, "/state-",
                          ::testing::UnitTest::GetInstance()->current_test_info()->name(), "-",
                          counter_++, ".json");
    absl::StatusOr<Rows> olds = pg_->Query(
        "postgres", absl::StrCat("SELECT datname FROM pg_database WHERE datname LIKE ",
                                 Lit(main + "_old_%"), " OR datname IN (", Lit(main), ", ",
                                 Lit(shadow), ")"));
    ASSERT_TRUE(olds.ok());
    for (const auto& row : *olds) ASSERT_TRUE(pg_->DropDatabase(*row[0]).ok());
    ASSERT_TRUE(pg_->Exec("postgres", absl::StrCat("CREATE DATABASE ", Id(main),
                                                   " TEMPLATE swap_tpl_prod; CREATE DATABASE ",
                                                   Id(shadow), " TEMPLATE swap_tpl_shadow"))
                    .ok());
  }

  static std::string Lit(const std::string& s) {
    std::string out = "'";
    for (char c : s) {
      if (c == '\'') out.push_back('\'');
      out.push_back(c);
    }
    return out + "'";
  }
  static std::string Id(const std::string& s) {
    std::string out = "\"";
    for (char c : s) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    return out + "\"";
  }

  // pgmerge itself; with `crash_at`, the test-only driver that runs the same
  // swap and kills itself right after that step.
  CommandResult Pgmerge(std::vector<std::string> args, const std::string& crash_at = "") {
    std::vector<std::string> argv;
    if (crash_at.empty()) {
      argv.push_back(PGMERGE_BINARY);
    } else {
      argv = {PGMERGE_SWAP_CRASH_DRIVER, crash_at};
      args.erase(args.begin());  // "swap"
    }
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> r = RunCommand(argv);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandResult{};
  }

  CommandResult Swap(std::vector<std::string> extra = {}, const std::string& crash_at = "") {
    std::vector<std::string> args = {"swap",     "--server", pg_->ConnString("postgres"),
                                     "--main",   main_,      "--shadow",
                                     shadow_,    "--report", report_,
                                     "--state",  state_,     "--grace",
                                     "0.5"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Pgmerge(args, crash_at);
  }

  // A swap running in the background, for tests that signal it mid-way.
  pid_t StartSwap(const std::string& grace, const std::string& server = "") {
    std::vector<std::string> args = {PGMERGE_BINARY, "swap",     "--server",
                                     server.empty() ? pg_->ConnString("postgres") : server,
                                     "--main",  main_,
                                     "--shadow",     shadow_,     "--report", report_,
                                     "--state",      state_,      "--grace",  grace};
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_t pid = fork();
    if (pid == 0) {
      execv(argv[0], argv.data());
      _exit(127);
    }
    return pid;
  }

  CommandResult Rollback(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"rollback", "--server", pg_->ConnString("postgres"),
                                     "--main",   main_,      "--state",
                                     state_,     "--grace",  "0.5"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Pgmerge(args);
  }

  std::string Value(const std::string& db, const std::string& sql) {
    absl::StatusOr<std::string> v = pg_->QueryValue(db, sql);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : "";
  }
  std::string DatabasesLike(const std::string& pattern) {
    return Value("postgres", absl::StrCat("SELECT coalesce(string_agg(datname || ':' || "
                                          "datallowconn, ',' ORDER BY datname), '') FROM "
                                          "pg_database WHERE datname LIKE ",
                                          Lit(pattern)));
  }
  std::string OldName() {
    return Value("postgres", absl::StrCat("SELECT coalesce(max(datname), '') FROM pg_database "
                                          "WHERE datname LIKE ",
                                          Lit(main_ + "_old_%")));
  }
  bool AllowsConnections(const std::string& db) {
    return Value("postgres", absl::StrCat("SELECT datallowconn FROM pg_database WHERE datname = ",
                                          Lit(db))) == "t";
  }

  // main is the merge (verified row by row against the report's manifest
  // and byte for byte against the restored shadow), open; the original is
  // kept under its old name.
  void ExpectSwapped() {
    EXPECT_EQ(Value("postgres", absl::StrCat("SELECT count(*) FROM pg_database WHERE datname = ",
                                             Lit(main_))),
              "1");
    EXPECT_TRUE(AllowsConnections(main_));
    EXPECT_EQ(DataOf(main_), shadow_data_);
    CommandResult v =
        Pgmerge({"verify", "--db", pg_->ConnString(main_), "--report", report_});
    EXPECT_EQ(v.exit_code, 0) << v.err;
    std::string old = OldName();
    ASSERT_FALSE(old.empty());
    // The old main stays closed so nobody writes to it by mistake; open it
    // just long enough to read it.
    EXPECT_FALSE(AllowsConnections(old));
    ASSERT_TRUE(pg_->Exec("postgres", absl::StrCat("ALTER DATABASE ", Id(old),
                                                   " ALLOW_CONNECTIONS true")).ok());
    EXPECT_EQ(DataOf(old), prod_data_);
    ASSERT_TRUE(pg_->Exec("postgres", absl::StrCat("ALTER DATABASE ", Id(old),
                                                   " ALLOW_CONNECTIONS false")).ok());
    EXPECT_EQ(Value("postgres", absl::StrCat("SELECT count(*) FROM pg_database WHERE datname = ",
                                             Lit(shadow_))),
              "0");
  }

  // main is production's database, untouched and open; nothing renamed.
  void ExpectOriginal() {
    EXPECT_TRUE(AllowsConnections(main_));
    EXPECT_EQ(DataOf(main_), prod_data_);
    EXPECT_EQ(OldName(), "");
    EXPECT_EQ(DataOf(shadow_), shadow_data_);
  }

  static TestPostgres* pg_;
  static std::string dir_, merged_, report_, prod_data_, shadow_data_;
  std::string main_, shadow_, state_;
  int counter_ = 0;
};

TestPostgres* SwapTest::pg_ = nullptr;
std::string SwapTest::dir_, SwapTest::merged_, SwapTest::report_, SwapTest::prod_data_,
    SwapTest::shadow_data_;

TEST_F(SwapTest, SwapsAndRollsBack) {
  Fresh("app", "app_shadow");
  CommandResult r = Swap();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "dark window")) << r.err;
  ExpectSwapped();
  // A second swap with the same journal has nothing to resume.
  EXPECT_EQ(Swap({"--resume"}).exit_code, 2);

  CommandResult back = Rollback();
  ASSERT_EQ(back.exit_code, 0) << back.err;
  ExpectOriginal();
  EXPECT_EQ(Rollback().exit_code, 2);  // Already rolled back.
}

// What main is as a database (owner, connection limit, privileges,
// settings for everyone and per role, comment) stays with the database, not
// its name: the shadow takes it before the renames, so the application
// finds the same after the swap; its own are replaced.
TEST_F(SwapTest, TheShadowTakesMainsDatabaseProperties) {
  Fresh("app", "app_shadow");
  ASSERT_TRUE(pg_->Exec("postgres",
                        "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = "
                        "'swap_app_user') THEN CREATE ROLE swap_app_user; END IF; END$$")
                  .ok());
  for (const std::string& sql :
       {"ALTER DATABASE app SET search_path = \"$user\", public, \"Odd, Schema\"",
        "ALTER DATABASE app SET statement_timeout = '5s'",
        "ALTER DATABASE app CONNECTION LIMIT 50", "REVOKE ALL ON DATABASE app FROM PUBLIC",
        "GRANT CONNECT ON DATABASE app TO swap_app_user",
        "ALTER ROLE swap_app_user IN DATABASE app SET work_mem = '8MB'",
        "COMMENT ON DATABASE app IS 'the app''s database'",
        "ALTER DATABASE app_shadow SET lock_timeout = '1s'"}) {
    ASSERT_TRUE(pg_->Exec("postgres", sql).ok()) << sql;
  }
  auto properties = [&](const std::string& db) {
    return Value("postgres",
                 absl::StrCat(
                     "SELECT concat_ws(' | ', d.datconnlimit, d.datacl::text, "
                     "shobj_description(d.oid, 'pg_database'), (SELECT string_agg(coalesce("
                     "r.rolname, '*') || ':' || array_to_string(s.setconfig, ';'), ',' ORDER BY "
                     "r.rolname NULLS FIRST) FROM pg_db_role_setting s LEFT JOIN pg_roles r ON "
                     "r.oid = s.setrole WHERE s.setdatabase = d.oid)) FROM pg_database d WHERE "
                     "d.datname = ",
                     Lit(db)));
  };
  const std::string want = properties("app");
  ASSERT_NE(want.find("swap_app_user=c/"), std::string::npos) << want;
  CommandResult r = Swap();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("app_shadow takes app's owner, privileges, settings and comment"),
            std::string::npos)
      << r.err;
  EXPECT_EQ(properties("app"), want);
  // The list-valued setting as it was, element by element.
  EXPECT_EQ(Value("app", "SHOW search_path"), "\"$user\", public, \"Odd, Schema\"");
  ExpectSwapped();
}

// A subscription of main's own belongs to the database, not its name:
// after the renames it would go on applying into the old one. Refused,
// naming it; with --leave-replication the swap goes on and says what stays
// behind. (Logical slots, which need wal_level=logical: live_test.cc.)
TEST_F(SwapTest, ReplicationOfMainsOwnIsRefusedUnlessLeft) {
  Fresh("app", "app_shadow");
  ASSERT_TRUE(pg_->Exec("app", "CREATE SUBSCRIPTION upstream CONNECTION 'dbname=nowhere' "
                               "PUBLICATION p WITH (connect = false)")
                  .ok());
  CommandResult r = Swap();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("app has subscriptions upstream: they belong to the database"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(AllowsConnections("app"));
  EXPECT_EQ(OldName(), "");
  r = Swap({"--leave-replication"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("stay with the old database (--leave-replication)"), std::string::npos)
      << r.err;
  ExpectSwapped();
  // The subscription is the old database's now.
  const std::string old = OldName();
  ASSERT_TRUE(
      pg_->Exec("postgres", absl::StrCat("ALTER DATABASE ", Id(old), " ALLOW_CONNECTIONS true"))
          .ok());
  EXPECT_EQ(Value(old, "SELECT count(*) FROM pg_subscription s JOIN pg_database d ON d.oid = "
                       "s.subdbid WHERE d.datname = current_database()"),
            "1");
  ASSERT_TRUE(pg_->Exec(old, "ALTER SUBSCRIPTION upstream SET (slot_name = NONE)").ok());
  ASSERT_TRUE(pg_->Exec(old, "DROP SUBSCRIPTION upstream").ok());
}

// A shadow made with another collation would sort and compare text
// otherwise after the swap: refused, nothing changed.
TEST_F(SwapTest, RefusesAShadowWithAnotherLocale) {
  Fresh("app", "app_shadow");
  ASSERT_TRUE(pg_->DropDatabase("app_shadow").ok());
  ASSERT_EQ(Value("postgres", "SELECT pg_encoding_to_char(encoding) FROM pg_database WHERE "
                              "datname = 'app'"),
            "UTF8");
  ASSERT_TRUE(pg_->Exec("postgres", "CREATE DATABASE app_shadow TEMPLATE template0 "
                                    "ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C'")
                  .ok());
  CommandResult r = Swap();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("encoding and locale"), std::string::npos) << r.err;
  EXPECT_TRUE(AllowsConnections("app"));
  EXPECT_EQ(DataOf("app"), prod_data_);
  EXPECT_EQ(OldName(), "");
}

// A shadow in another tablespace would move main's data to other disks:
// refused, nothing changed; once moved where main is, the swap goes on.
TEST_F(SwapTest, RefusesAShadowInAnotherTablespace) {
  Fresh("app", "app_shadow");
  ASSERT_TRUE(pg_->Exec("postgres", "SET allow_in_place_tablespaces = on;\n"
                                    "CREATE TABLESPACE elsewhere LOCATION '';")
                  .ok());
  ASSERT_TRUE(pg_->Exec("postgres", "ALTER DATABASE app_shadow SET TABLESPACE elsewhere").ok());
  CommandResult r = Swap();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("lies in tablespace elsewhere, app in pg_default"), std::string::npos)
      << r.err;
  EXPECT_TRUE(AllowsConnections("app"));
  EXPECT_EQ(DataOf("app"), prod_data_);
  EXPECT_EQ(OldName(), "");
  ASSERT_TRUE(pg_->Exec("postgres", "ALTER DATABASE app_shadow SET TABLESPACE pg_default").ok());
  ASSERT_TRUE(pg_->Exec("postgres", "DROP TABLESPACE elsewhere").ok());
  r = Swap();
  EXPECT_EQ(r.exit_code, 0) << r.err;
  ExpectSwapped();
}

// A table read in ctid ranges by several sessions adds up to the same
// hash: the swap goes through, and a row deleted mid-table is still found.
TEST_F(SwapTest, DriftCheckInBlockRangesOnSeveralSessions) {
  const std::string table =
      "CREATE TABLE events (id serial PRIMARY KEY, body text);"
      "INSERT INTO events (body) SELECT repeat('event ' || g, 5) FROM generate_series(1, 20000) g;";
  ASSERT_TRUE(pg_->DropDatabase("ranges_prod").ok());
  ASSERT_TRUE(pg_->DropDatabase("ranges_dev").ok());
  ASSERT_TRUE(pg_->CreateDatabase("ranges_prod").ok());
  ASSERT_TRUE(pg_->Exec("ranges_prod", table + "VACUUM ANALYZE events").ok());
  ASSERT_TRUE(pg_->CreateDatabase("ranges_dev").ok());
  ASSERT_TRUE(pg_->Exec("ranges_dev", table + "INSERT INTO events (body) VALUES ('dev')").ok());
  const std::string prod_sql = dir_ + "/ranges-prod.sql", dev_sql = dir_ + "/ranges-dev.sql";
  ASSERT_TRUE(pg_->Dump("ranges_prod", {}, prod_sql).ok());
  ASSERT_TRUE(pg_->Dump("ranges_dev", {}, dev_sql).ok());
  const std::string merged = dir_ + "/ranges-merged.sql", report = dir_ + "/ranges.json";
  absl::StatusOr<CommandResult> m = RunCommand(
      {PGMERGE_BINARY, prod_sql, dev_sql, "--report", report, "--quiet"}, {}, merged);
  ASSERT_TRUE(m.ok() && m->exit_code == 0);
  auto fresh = [&]() {
    Fresh("ranges_main", "ranges_shadow");  // Journal name and old databases.
    ASSERT_TRUE(pg_->DropDatabase(main_).ok() && pg_->DropDatabase(shadow_).ok());
    ASSERT_TRUE(pg_->Exec("postgres", "CREATE DATABASE ranges_main TEMPLATE ranges_prod").ok());
    ASSERT_TRUE(pg_->CreateDatabase(shadow_).ok());
    ASSERT_TRUE(pg_->Restore(shadow_, merged).ok());
    ASSERT_TRUE(pg_->Exec(main_, "ANALYZE events").ok());
  };
  auto run = [&](const std::string& jobs) {
    absl::StatusOr<CommandResult> r = RunCommand(
        {PGMERGE_SWAP_CRASH_DRIVER, "none", "--check-range-blocks", "16", "--server",
         pg_->ConnString("postgres"), "--main", main_, "--shadow", shadow_, "--report", report,
         "--state", state_, "--grace", "0.2", "--jobs", jobs});
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandResult{};
  };
  fresh();
  ASSERT_GT(std::stoi(Value(main_, "SELECT relpages FROM pg_class WHERE relname = 'events'")), 64);
  CommandResult ok = run("3");
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(Value(main_, "SELECT count(*) FROM events"), "20001");

  fresh();
  ASSERT_TRUE(pg_->Exec(main_, "DELETE FROM events WHERE id = 12345").ok());
  CommandResult drift = run("3");
  EXPECT_EQ(drift.exit_code, 4) << drift.err;
  EXPECT_TRUE(absl::StrContains(drift.err, "public.events: 19999 rows, expected 20000 (-1)"))
      << drift.err;
}

TEST_F(SwapTest, DryRunChangesNothing) {
  Fresh("dry", "dry_shadow");
  CommandResult r = Swap({"--dry-run"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "would rename")) << r.err;
  ExpectOriginal();
  EXPECT_NE(access(state_.c_str(), F_OK), 0);  // No journal either.
}

// Readers keep reading through the swap: at the grace deadline their
// sessions end, they reconnect and find the merged database. A write tried
// once main is closed fails in the client; it never commits into a
// database that is being replaced.
TEST_F(SwapTest, ClientsReadThroughTheSwapAndALateWriteIsRefused) {
  Fresh("busy", "busy_shadow");
  std::atomic<bool> stop{false};
  std::atomic<int> saw_new{0};
  std::atomic<int> bad_answers{0};
  const std::string conninfo = pg_->ConnString(main_);
  auto reader = [&]() {
    PGconn* c = nullptr;
    bool counted = false;
    while (!stop) {
      if (c == nullptr || PQstatus(c) != CONNECTION_OK) {
        if (c != nullptr) PQfinish(c);
        c = PQconnectdb(conninfo.c_str());
        if (PQstatus(c) != CONNECTION_OK) {
          std::this_thread::sleep_for(milliseconds(10));
          continue;
        }
      }
      // The merged database has 15 users, production 12.
      PGresult* res = PQexec(c, "SELECT count(*) FROM public.users");
      if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        const std::string users = PQgetvalue(res, 0, 0);
        const bool merged = users == "15";
        if (!merged && users != "12") ++bad_answers;
        if (merged && !counted) {
          counted = true;
          ++saw_new;
        }
      }
      PQclear(res);
      std::this_thread::sleep_for(milliseconds(2));
    }
    PQfinish(c);
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) readers.emplace_back(reader);

  // A writer connected before the swap, writing only once main is closed
  // and the write lock taken.
  PGconn* writer = PQconnectdb(conninfo.c_str());
  ASSERT_EQ(PQstatus(writer), CONNECTION_OK);
  std::atomic<int> write_result{-1};  // 1 committed, 0 refused.
  std::thread write_thread([&]() {
    for (int i = 0; i < 2000; ++i) {
      absl::StatusOr<std::string> locked = pg_->QueryValue(
          "postgres", absl::StrCat("SELECT count(*) FROM pg_locks l JOIN pg_database d ON "
                                   "d.oid = l.database WHERE d.datname = ",
                                   Lit(main_), " AND l.mode = 'ExclusiveLock' AND l.granted "
                                               "AND l.locktype = 'relation'"));
      if (locked.ok() && *locked != "0") break;
      std::this_thread::sleep_for(milliseconds(5));
    }
    PGresult* res = PQexec(writer,
                           "INSERT INTO public.audit (at, what) VALUES (now(), 'late write')");
    write_result = PQresultStatus(res) == PGRES_COMMAND_OK ? 1 : 0;
    PQclear(res);
  });

  std::this_thread::sleep_for(milliseconds(300));
  CommandResult r = Swap({"--grace", "1"});
  write_thread.join();
  PQfinish(writer);
  for (int i = 0; i < 500 && saw_new < 4; ++i) std::this_thread::sleep_for(milliseconds(10));
  stop = true;
  for (std::thread& t : readers) t.join();

  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "terminated")) << r.err;
  EXPECT_EQ(write_result, 0) << "the late write committed";
  EXPECT_EQ(saw_new, 4);
  EXPECT_EQ(bad_answers, 0);
  ExpectSwapped();  // The old main holds exactly prod: the late write is nowhere.
}

TEST_F(SwapTest, WritesSinceTheDumpStopTheSwap) {
  Fresh("drift", "drift_shadow");
  ASSERT_TRUE(pg_->Exec(main_, "INSERT INTO public.tags (name) VALUES ('written after the dump');"
                               "UPDATE public.settings SET value = value || '!' "
                               "WHERE key = (SELECT min(key) FROM public.settings);"
                               "CREATE TABLE public.later (x int); INSERT INTO public.later "
                               "VALUES (1), (2)")
                  .ok());
  const std::string before = DataOf(main_);
  CommandResult r = Swap();
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "public.tags: 4 rows, expected 3 (+1)")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "public.settings: 3 rows as expected, but their content "
                                       "changed"))
      << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "public.later: not in the dump (created since), 2 rows"))
      << r.err;
  EXPECT_FALSE(absl::StrContains(r.err, "public.users")) << r.err;
  EXPECT_TRUE(AllowsConnections(main_));
  EXPECT_EQ(DataOf(main_), before);
  EXPECT_EQ(OldName(), "");
  EXPECT_EQ(DataOf(shadow_), shadow_data_);
}

// A write in flight when main closes commits while sessions drain: the
// check after closing (not only the one before) stops the swap.
TEST_F(SwapTest, AWriteCommittedDuringTheGracePeriodStopsTheSwap) {
  Fresh("grace", "grace_shadow");
  PGconn* w = PQconnectdb(pg_->ConnString(main_).c_str());
  ASSERT_EQ(PQstatus(w), CONNECTION_OK);
  PQclear(PQexec(w, "BEGIN"));
  // An explicit key: a nextval() would already be drift at the live check.
  PGresult* ins = PQexec(w, "INSERT INTO public.tags (id, name) OVERRIDING SYSTEM VALUE VALUES (1000, 'in flight')");
  ASSERT_EQ(PQresultStatus(ins), PGRES_COMMAND_OK) << PQerrorMessage(w);
  PQclear(ins);
  std::thread committer([&]() {
    for (int i = 0; i < 2000 && AllowsConnections(main_); ++i) {
      std::this_thread::sleep_for(milliseconds(5));
    }
    PQclear(PQexec(w, "COMMIT"));
  });
  CommandResult r = Swap({"--grace", "2"});
  committer.join();
  PQfinish(w);
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "public.tags: 4 rows, expected 3 (+1)")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "closed for")) << r.err;
  EXPECT_TRUE(AllowsConnections(main_));
  EXPECT_EQ(Value(main_, "SELECT count(*) FROM public.tags WHERE name = 'in flight'"), "1");
  EXPECT_EQ(OldName(), "");
}

// pgmerge killed after each step: exactly one database is named main, and
// both --resume and rollback finish cleanly from there.
TEST_F(SwapTest, CrashAtEveryStepThenResumeOrRollback) {
  for (const char* step :
       {"preconditions_ok", "closed", "sessions_gone", "drift_checked", "renamed"}) {
    for (bool resume : {true, false}) {
      SCOPED_TRACE(absl::StrCat(step, resume ? " then --resume" : " then rollback"));
      Fresh("crash", "crash_shadow");
      CommandResult crashed = Swap({}, step);
      ASSERT_EQ(crashed.exit_code, 128 + 9) << crashed.err;
      EXPECT_EQ(Value("postgres", "SELECT count(*) FROM pg_database WHERE datname = 'crash'"),
                "1");
      // An unfinished journal: a plain swap refuses to start another.
      CommandResult again = Swap();
      EXPECT_EQ(again.exit_code, 2) << again.err;
      EXPECT_TRUE(absl::StrContains(again.err, "--resume")) << again.err;
      if (resume) {
        CommandResult r = Swap({"--resume"});
        ASSERT_EQ(r.exit_code, 0) << r.err;
        ExpectSwapped();
      } else {
        CommandResult r = Rollback();
        ASSERT_EQ(r.exit_code, 0) << r.err;
        ExpectOriginal();
        EXPECT_TRUE(AllowsConnections(shadow_));
      }
    }
  }
}

// Ctrl-C while sessions drain: the swap stops and main is open again.
TEST_F(SwapTest, InterruptedSwapReopensMain) {
  Fresh("sigint", "sigint_shadow");
  PGconn* idle = PQconnectdb(pg_->ConnString(main_).c_str());  // Keeps the grace period busy.
  ASSERT_EQ(PQstatus(idle), CONNECTION_OK);
  pid_t pid = StartSwap("30");
  for (int i = 0; i < 2000 && AllowsConnections(main_); ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_FALSE(AllowsConnections(main_));  // Closed: the swap is in its grace period.
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  PQfinish(idle);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  ExpectOriginal();
  EXPECT_TRUE(AllowsConnections(shadow_));
  // The journal says aborted: a new swap may start.
  CommandResult again = Swap();
  EXPECT_EQ(again.exit_code, 0) << again.err;
}

// Ctrl-C while the swap waits for a write lock (a writer holds one in an
// open transaction): the wait is cancelled at once, main reopens, and the
// writer's transaction goes on to commit.
TEST_F(SwapTest, InterruptWhileWaitingForTheWriteLock) {
  Fresh("lockwait", "lockwait_shadow");
  PGconn* w = PQconnectdb(pg_->ConnString(main_).c_str());
  ASSERT_EQ(PQstatus(w), CONNECTION_OK);
  PQclear(PQexec(w, "BEGIN"));
  PGresult* ins = PQexec(w, "INSERT INTO public.tags (id, name) OVERRIDING SYSTEM VALUE VALUES (1001, 'held')");
  ASSERT_EQ(PQresultStatus(ins), PGRES_COMMAND_OK) << PQerrorMessage(w);
  PQclear(ins);
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = StartSwap("60");
  // Wait until the LOCK is queued behind the writer.
  bool waiting = false;
  for (int i = 0; i < 2000 && !waiting; ++i) {
    absl::StatusOr<std::string> n = pg_->QueryValue(
        "postgres", absl::StrCat("SELECT count(*) FROM pg_locks l JOIN pg_database d ON "
                                 "d.oid = l.database WHERE d.datname = ",
                                 Lit(main_), " AND NOT l.granted"));
    waiting = n.ok() && *n != "0";
    if (!waiting) std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_TRUE(waiting);
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 1);
  EXPECT_LT(seconds, 30);  // Not the 60 s grace period.
  EXPECT_TRUE(AllowsConnections(main_));
  PGresult* commit = PQexec(w, "COMMIT");
  EXPECT_EQ(PQresultStatus(commit), PGRES_COMMAND_OK);
  PQclear(commit);
  PQfinish(w);
  EXPECT_EQ(Value(main_, "SELECT count(*) FROM public.tags WHERE name = 'held'"), "1");
  EXPECT_EQ(OldName(), "");
}

TEST_F(SwapTest, RollbackRefusesToLoseWritesMadeSinceTheSwap) {
  Fresh("after", "after_shadow");
  ASSERT_EQ(Swap().exit_code, 0);
  ASSERT_TRUE(pg_->Exec(main_, "INSERT INTO public.tags (name) VALUES ('new life')").ok());
  CommandResult r = Rollback();
  EXPECT_EQ(r.exit_code, 4) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "public.tags")) << r.err;
  EXPECT_TRUE(AllowsConnections(main_));
  EXPECT_EQ(Value(main_, "SELECT count(*) FROM public.tags WHERE name = 'new life'"), "1");
  CommandResult forced = Rollback({"--force"});
  ASSERT_EQ(forced.exit_code, 0) << forced.err;
  EXPECT_EQ(DataOf(main_), prod_data_);
  // The forced rollback left the write in the database it renamed back.
  EXPECT_EQ(Value(shadow_, "SELECT count(*) FROM public.tags WHERE name = 'new life'"), "1");
}

TEST_F(SwapTest, NamesThatNeedQuoting) {
  Fresh("Main App's \"db\"", "Shadow Mixed-Case");
  CommandResult r = Swap();
  ASSERT_EQ(r.exit_code, 0) << r.err;
  ExpectSwapped();
  CommandResult back = Rollback();
  ASSERT_EQ(back.exit_code, 0) << back.err;
  ExpectOriginal();
}

TEST_F(SwapTest, RefusesAShadowThatIsNotVerified) {
  Fresh("unverified", "unverified_shadow");
  ASSERT_TRUE(pg_->Exec(shadow_, "UPDATE public.users SET name = name || '?' WHERE id = "
                                 "(SELECT min(id) FROM public.users)")
                  .ok());
  CommandResult r = Swap();
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "does not hold what the merge wrote")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "public.users")) << r.err;
  EXPECT_TRUE(AllowsConnections(main_));
  EXPECT_EQ(OldName(), "");
  EXPECT_EQ(DataOf(main_), prod_data_);
}

TEST_F(SwapTest, RefusesASessionOnTheShadow) {
  Fresh("watched", "watched_shadow");
  PGconn* c = PQconnectdb(pg_->ConnString(shadow_).c_str());
  ASSERT_EQ(PQstatus(c), CONNECTION_OK);
  CommandResult r = Swap();
  PQfinish(c);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "session(s) on the shadow")) << r.err;
  ExpectOriginal();
}

TEST_F(SwapTest, RefusesAShadowOnAnotherServer) {
  Fresh("here", "here_shadow");
  absl::StatusOr<std::unique_ptr<TestPostgres>> other = TestPostgres::Start();
  ASSERT_TRUE(other.ok()) << other.status();
  ASSERT_TRUE((*other)->CreateDatabase("elsewhere").ok());
  ASSERT_TRUE((*other)->Restore("elsewhere", merged_).ok());
  CommandResult r = Pgmerge({"swap", "--server", pg_->ConnString("postgres"), "--main", main_,
                             "--shadow", (*other)->ConnString("elsewhere"), "--report", report_,
                             "--state", state_});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "on another server")) << r.err;
  ExpectOriginal();
}

TEST_F(SwapTest, RefusesBadArgumentsAndUnreachableServers) {
  Fresh("args", "args_shadow");
  EXPECT_EQ(Pgmerge({"swap", "--main", "x"}).exit_code, 2);
  CommandResult missing = Pgmerge({"swap", "--server", pg_->ConnString("postgres"), "--main",
                                   "no_such_db", "--shadow", shadow_, "--report", report_,
                                   "--state", state_});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(missing.err, "no_such_db does not exist")) << missing.err;
  CommandResult down = Pgmerge({"swap", "--server",
                                "host=/nonexistent port=1 user=u password=s3cret-pw", "--main",
                                main_, "--shadow", shadow_, "--report", report_, "--state",
                                state_});
  EXPECT_EQ(down.exit_code, 2);
  EXPECT_TRUE(absl::StrContains(down.err, "cannot connect")) << down.err;
  EXPECT_FALSE(absl::StrContains(down.err, "s3cret")) << down.err;
  CommandResult not_report = Pgmerge({"swap", "--server", pg_->ConnString("postgres"), "--main",
                                      main_, "--shadow", shadow_, "--report", merged_});
  EXPECT_EQ(not_report.exit_code, 2);
  ExpectOriginal();
}

// A password given on the command line is not left in the process's
// arguments: `ps` and /proc/PID/cmdline of a running swap do not show it.
TEST_F(SwapTest, PasswordsAreScrubbedFromTheCommandLine) {
  Fresh("secret", "secret_shadow");
  PGconn* idle = PQconnectdb(pg_->ConnString(main_).c_str());  // Keeps the grace period busy.
  ASSERT_EQ(PQstatus(idle), CONNECTION_OK);
  // The test server trusts local connections: the password is carried, unused.
  pid_t pid = StartSwap("30", pg_->ConnString("postgres") + " password=s3cret-argv");
  for (int i = 0; i < 2000 && AllowsConnections(main_); ++i) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  ASSERT_FALSE(AllowsConnections(main_));  // Running, in its grace period.
  std::string cmdline = ReadFile(absl::StrCat("/proc/", pid, "/cmdline"));
  absl::StatusOr<CommandResult> ps =
      RunCommand({"ps", "-ww", "-o", "args=", "-p", std::to_string(pid)});
  kill(pid, SIGINT);
  int status = 0;
  waitpid(pid, &status, 0);
  PQfinish(idle);
  EXPECT_TRUE(absl::StrContains(cmdline, "password=")) << cmdline;
  EXPECT_FALSE(absl::StrContains(cmdline, "s3cret")) << cmdline;
  ASSERT_TRUE(ps.ok());
  EXPECT_TRUE(absl::StrContains(ps->out, "--server")) << ps->out;
  EXPECT_FALSE(absl::StrContains(ps->out, "s3cret")) << ps->out;
  ExpectOriginal();
}

// libpq quotes a malformed conninfo or URI in its error: the password in it
// is redacted, for swap, rollback and verify alike.
TEST_F(SwapTest, MalformedConninfoErrorsHideThePassword) {
  Fresh("malformed", "malformed_shadow");
  for (const std::string& server :
       {std::string("host=/nonexistent password=s3cret-pw port"),
        std::string("host=/nonexistent password='s3cret pw"),
        std::string("postgresql://u:s3cret-pw@[::1"),
        std::string("postgresql://u:s3cret-pw@host/db?password=s3cret-two&bad")}) {
    SCOPED_TRACE(server);
    CommandResult swap = Pgmerge({"swap", "--server", server, "--main", main_, "--shadow",
                                  shadow_, "--report", report_, "--state", state_});
    EXPECT_EQ(swap.exit_code, 2) << swap.err;
    EXPECT_TRUE(absl::StrContains(swap.err, "cannot connect")) << swap.err;
    EXPECT_FALSE(absl::StrContains(swap.err, "s3cret")) << swap.err;
    CommandResult back = Pgmerge({"rollback", "--server", server, "--main", main_, "--shadow",
                                  shadow_, "--old", "x", "--state", state_});
    EXPECT_EQ(back.exit_code, 2) << back.err;
    EXPECT_FALSE(absl::StrContains(back.err, "s3cret")) << back.err;
    CommandResult verify = Pgmerge({"verify", "--db", server, "--report", report_});
    EXPECT_EQ(verify.exit_code, 2) << verify.err;
    EXPECT_FALSE(absl::StrContains(verify.err, "s3cret")) << verify.err;
  }
  ExpectOriginal();
}

// Without --state the journal lives in $XDG_STATE_HOME/pgmerge (or
// ~/.local/state/pgmerge): a rollback run from another directory finds it,
// and --resume with nothing to resume says so.
TEST_F(SwapTest, JournalInTheStateDirectoryWhateverTheWorkingDirectory) {
  Fresh("xdg", "xdg_shadow");
  const std::string xdg = dir_ + "/xdg-state";
  const std::string cwd = dir_ + "/xdg-cwd";
  ASSERT_EQ(mkdir(cwd.c_str(), 0700), 0);
  auto run = [&](const std::string& in, std::vector<std::string> args) {
    std::vector<std::string> argv = {"/usr/bin/env", "-C", in, "XDG_STATE_HOME=" + xdg,
                                     PGMERGE_BINARY};
    argv.insert(argv.end(), args.begin(), args.end());
    absl::StatusOr<CommandResult> r = RunCommand(argv);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandResult{};
  };
  CommandResult swapped = run(cwd, {"swap", "--server", pg_->ConnString("postgres"), "--main",
                                    main_, "--shadow", shadow_, "--report", report_, "--grace",
                                    "0.5"});
  ASSERT_EQ(swapped.exit_code, 0) << swapped.err;
  const std::string journal = xdg + "/pgmerge/pgmerge-swap-xdg.json";
  struct stat st;
  ASSERT_EQ(stat(journal.c_str(), &st), 0) << journal;
  ASSERT_EQ(stat((xdg + "/pgmerge").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  EXPECT_NE(access((cwd + "/pgmerge-swap-xdg.json").c_str(), F_OK), 0);

  CommandResult back = run("/tmp", {"rollback", "--server", pg_->ConnString("postgres"),
                                    "--main", main_, "--grace", "0.5"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  ExpectOriginal();
  // Rolled back: nothing to resume (before, --resume started a new swap).
  CommandResult resume = run("/tmp", {"swap", "--server", pg_->ConnString("postgres"),
                                      "--main", main_, "--resume"});
  EXPECT_EQ(resume.exit_code, 2) << resume.err;
  EXPECT_TRUE(absl::StrContains(resume.err, "nothing to resume")) << resume.err;
  EXPECT_TRUE(absl::StrContains(resume.err, "rolled back")) << resume.err;
  ExpectOriginal();
  // No journal at all; HOME's ~/.local/state when XDG_STATE_HOME is unset.
  absl::StatusOr<CommandResult> none = RunCommand(
      {"/usr/bin/env", "-u", "XDG_STATE_HOME", "HOME=" + dir_ + "/xdg-home", PGMERGE_BINARY,
       "swap", "--server", pg_->ConnString("postgres"), "--main", main_, "--resume"});
  ASSERT_TRUE(none.ok());
  EXPECT_EQ(none->exit_code, 2) << none->err;
  EXPECT_TRUE(absl::StrContains(none->err, "nothing to resume")) << none->err;
  EXPECT_TRUE(absl::StrContains(none->err, "/xdg-home/.local/state/pgmerge/pgmerge-swap-xdg.json"))
      << none->err;
}

// Writes after the dump that are not rows of production's columns: each
// stops the swap, named, with main untouched. One database each, so each
// is caught on its own.
TEST_F(SwapTest, DriftBeyondProductionsRows) {
  const struct {
    const char* name;
    const char* sql;
    std::vector<std::string> expect;
  } cases[] = {
      {"drift_column",
       "ALTER TABLE public.tags ADD COLUMN note text;"
       "UPDATE public.tags SET note = 'kept only here' WHERE id = (SELECT min(id) FROM "
       "public.tags)",
       {"column not in the dump (added since), 1 non-NULL values",
        "schema: column note of table public.tags created or changed"}},
      {"drift_sequence", "SELECT nextval('public.tags_id_seq')",
       {"sequence public.tags_id_seq: drawn up to 4 on main, 3 in the dump"}},
      {"drift_lo", "SELECT lo_from_bytea(0, 'a scanned contract')",
       {": on main, not in production's dump (written since the dump)"}},
      {"drift_schema",
       "CREATE FUNCTION public.later() RETURNS int LANGUAGE sql AS 'SELECT 1';"
       "CREATE INDEX tags_name_later ON public.tags (name);"
       "COMMENT ON TABLE public.users IS 'commented after the dump'",
       {"schema: function public.later() created or changed",
        "schema: index public.tags_name_later created or changed",
        "schema: comment on table public.users created or changed"}},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    Fresh(c.name, std::string(c.name) + "_shadow");
    ASSERT_TRUE(pg_->Exec(main_, c.sql).ok());
    const std::string before = DataOf(main_);
    CommandResult r = Swap();
    EXPECT_EQ(r.exit_code, 4) << r.err;
    for (const std::string& e : c.expect) EXPECT_TRUE(absl::StrContains(r.err, e)) << e << "\n" << r.err;
    EXPECT_TRUE(AllowsConnections(main_));
    EXPECT_EQ(DataOf(main_), before);
    EXPECT_EQ(OldName(), "");
  }
}

// A client running a parallel query: its parallel worker is reported as a
// background worker, not counted among the client sessions terminated.
TEST_F(SwapTest, BackgroundWorkersAreReportedNotCountedAsClients) {
  Fresh("workers", "workers_shadow");
  PGconn* c = PQconnectdb(pg_->ConnString(main_).c_str());
  ASSERT_EQ(PQstatus(c), CONNECTION_OK);
  PQclear(PQexec(c, "SET force_parallel_mode = on; SET parallel_setup_cost = 0; "
                    "SET parallel_tuple_cost = 0"));
  ASSERT_EQ(PQsendQuery(c, "SELECT pg_sleep(30) FROM public.users LIMIT 1"), 1);
  bool running = false;
  for (int i = 0; i < 1000 && !running; ++i) {
    running = Value("postgres", absl::StrCat("SELECT count(*) FROM pg_stat_activity WHERE "
                                             "backend_type = 'parallel worker' AND datname = ",
                                             Lit(main_))) != "0";
    if (!running) std::this_thread::sleep_for(milliseconds(10));
  }
  ASSERT_TRUE(running);
  CommandResult r = Swap();
  while (PGresult* res = PQgetResult(c)) PQclear(res);
  PQfinish(c);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "background worker(s) on workers: pid")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "(parallel worker")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "terminating 1 session(s)")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, ", 1 terminated;")) << r.err;
  ExpectSwapped();
}

// --json: one object on stdout per run, the usual lines on stderr.
TEST_F(SwapTest, JsonResults) {
  Fresh("json", "json_shadow");
  CommandResult r = Swap({"--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  EXPECT_EQ(j["format"], "pgmerge-swap-result");
  EXPECT_EQ(j["outcome"], "swapped");
  EXPECT_EQ(j["main"], "json");
  EXPECT_GE(j["ms"]["dark_window"].get<int64_t>(), 0);
  EXPECT_TRUE(absl::StrContains(r.err, "dark window")) << r.err;
  CommandResult back = Rollback({"--json"});
  ASSERT_EQ(back.exit_code, 0) << back.err;
  j = nlohmann::json::parse(back.out, nullptr, false);
  EXPECT_EQ(j["outcome"], "rolled_back") << back.out;
  CommandResult v =
      Pgmerge({"verify", "--db", pg_->ConnString(shadow_), "--report", report_, "--json"});
  ASSERT_EQ(v.exit_code, 0) << v.err;
  j = nlohmann::json::parse(v.out, nullptr, false);
  EXPECT_EQ(j["ok"], true) << v.out;
  ASSERT_TRUE(pg_->Exec(main_, "INSERT INTO public.tags (name) VALUES ('after')").ok());
  CommandResult drift = Swap({"--json"});
  EXPECT_EQ(drift.exit_code, 4) << drift.err;
  j = nlohmann::json::parse(drift.out, nullptr, false);
  EXPECT_EQ(j["outcome"], "drift") << drift.out;
  EXPECT_EQ(j["exit_code"], 4);
  EXPECT_EQ(j["drift"][0], "public.tags: 4 rows, expected 3 (+1)") << drift.out;
}

}  // namespace
}  // namespace pgmerge::testing
