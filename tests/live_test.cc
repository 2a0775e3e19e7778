// The live switch's first half against a real PostgreSQL 15 with
// wal_level=logical: `pgmerge dump` on a slot's snapshot, writes on main
// after it (y'), merge and restore, `pgmerge catch-up` into the shadow;
// then the shadow holds every write, a re-run applies nothing twice, the
// slot is dropped, and what cannot be applied is refused by name. Also the
// test_decoding line parser, and a server without logical WAL. Then the
// live switch: `pgmerge swap --catch-up` while a writer keeps writing, and
// a switch killed mid-way, rolled back.
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "swap/catchup.h"
#include "swap/pg.h"
#include "swap/rehearse.h"
#include "swap/swap.h"
#include "tests/test_postgres.h"

namespace pgmerge::testing {
namespace {

using swap::internal::DecodedChange;
using swap::internal::DecodedValue;
using swap::internal::ParseTestDecoding;

TEST(TestDecodingParser, InsertWithEveryValueShape) {
  absl::StatusOr<DecodedChange> c = ParseTestDecoding(
      "table public.\"Odd Name\": INSERT: id[integer]:7 \"my col\"[text]:'it''s a ''q'' [x]:y' "
      "flag[boolean]:true nothing[text]:null bits[bit varying]:B'0101' "
      "arr[integer[]]:'{1,2}' f[double precision]:-1.5e+10 "
      "t[public.\"My]:Type\"]:'v'");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kind, DecodedChange::Kind::kInsert);
  EXPECT_EQ(c->table.schema, "public");
  EXPECT_EQ(c->table.name, "Odd Name");
  ASSERT_EQ(c->new_tuple.size(), 8u);
  EXPECT_EQ(c->new_tuple[0].value.text, "7");
  EXPECT_EQ(c->new_tuple[1].name, "my col");
  EXPECT_EQ(c->new_tuple[1].value.text, "it's a 'q' [x]:y");
  EXPECT_EQ(c->new_tuple[2].value.text, "true");
  EXPECT_EQ(c->new_tuple[3].value.kind, DecodedValue::Kind::kNull);
  EXPECT_EQ(c->new_tuple[4].value.text, "0101");
  EXPECT_EQ(c->new_tuple[5].type, "integer[]");
  EXPECT_EQ(c->new_tuple[5].value.text, "{1,2}");
  EXPECT_EQ(c->new_tuple[6].value.text, "-1.5e+10");
  EXPECT_EQ(c->new_tuple[7].type, "public.\"My]:Type\"");
}

TEST(TestDecodingParser, UpdatesDeletesAndTheRest) {
  absl::StatusOr<DecodedChange> c = ParseTestDecoding(
      "table s.t: UPDATE: old-key: id[integer]:1 new-tuple: id[integer]:2 "
      "body[text]:unchanged-toast-datum");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->kind, DecodedChange::Kind::kUpdate);
  ASSERT_EQ(c->old_tuple.size(), 1u);
  EXPECT_EQ(c->old_tuple[0].value.text, "1");
  ASSERT_EQ(c->new_tuple.size(), 2u);
  EXPECT_EQ(c->new_tuple[1].value.kind, DecodedValue::Kind::kUnchangedToast);
  c = ParseTestDecoding("table public.t: DELETE: (no-tuple-data)");
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->no_tuple_data);
  c = ParseTestDecoding("table public.a, public.b: TRUNCATE: cascade");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->kind, DecodedChange::Kind::kTruncate);
  EXPECT_EQ(ParseTestDecoding("BEGIN")->kind, DecodedChange::Kind::kBegin);
  EXPECT_EQ(ParseTestDecoding("COMMIT")->kind, DecodedChange::Kind::kCommit);
  EXPECT_FALSE(ParseTestDecoding("table public.t: INSERT: id[integer]:'open").ok());
  EXPECT_FALSE(ParseTestDecoding("table public.t: MERGE: x").ok());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

constexpr char kSchema[] = R"sql(
CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL, bio text, legacy text);
CREATE TABLE posts (id serial PRIMARY KEY,
                    author_id int NOT NULL REFERENCES authors (id) ON DELETE CASCADE,
                    title text NOT NULL, body text);
CREATE TABLE tags (id serial PRIMARY KEY, label text);
CREATE TABLE events (at int, what text);
INSERT INTO authors (name, bio, legacy) VALUES ('ann', 'a', 'l1'), ('bob', NULL, 'l2'),
  ('cy', 'c', NULL);
INSERT INTO posts (author_id, title, body) VALUES
  (1, 'p1', (SELECT string_agg(md5(i::text), '') FROM generate_series(1, 400) i)),
  (1, 'p2', 'b2'), (2, 'p3', 'b3'), (3, 'p4', 'b4');
INSERT INTO tags (label) VALUES ('t1'), ('t2');
INSERT INTO events VALUES (1, 'boot');
)sql";

// Development: a fork of production that dropped authors.legacy, added
// authors.locale (with a default) and posts.score (NOT NULL, no default:
// --fill), and made its own rows from 1000 on.
constexpr char kDevChanges[] = R"sql(
ALTER TABLE authors DROP COLUMN legacy;
ALTER TABLE authors ADD COLUMN locale text NOT NULL DEFAULT 'en';
ALTER TABLE posts ADD COLUMN score int;
UPDATE posts SET score = 1;
ALTER TABLE posts ALTER COLUMN score SET NOT NULL;
SELECT setval('authors_id_seq', 999), setval('posts_id_seq', 999);
INSERT INTO authors (name) VALUES ('dev');
INSERT INTO posts (author_id, title, score) VALUES (1000, 'dev post', 5), (2, 'on bob', 6),
  (3, 'on cy', 7);
)sql";

class LiveTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    setenv("PGMERGE_PG_DUMP", "/usr/lib/postgresql/15/bin/pg_dump", 1);
    absl::StatusOr<std::unique_ptr<TestPostgres>> pg =
        TestPostgres::Start({"wal_level=logical", "max_replication_slots=10"});
    ASSERT_TRUE(pg.ok()) << pg.status();
    pg_ = pg->release();
  }
  static void TearDownTestSuite() {
    delete pg_;
    pg_ = nullptr;
  }

  void SetUp() override {
    std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : name) c = std::tolower(static_cast<unsigned char>(c));
    UseNames(name);
  }

  // The databases and the directory a case works in, named after `name`.
  void UseNames(const std::string& name) {
    name_ = name;
    main_ = name_ + "_main";
    dev_ = name_ + "_dev";
    shadow_ = name_ + "_shadow";
    dir_ = pg_->tmp_dir() + "/" + name_;
    std::filesystem::create_directories(dir_);
  }

  // Runs the catch-up swap in a child killed (SIGKILL, as kill -9) right
  // after journal step `step`; true when it died there.
  bool SwapKilledAfter(const std::string& step, const std::string& state) {
    pid_t child = fork();
    if (child < 0) return false;
    if (child == 0) {
      swap::SwapOptions o = CatchUpSwap(state);
      o.report_path = dir_ + "/report.json";
      o.after_step = [&step](std::string_view at) {
        if (at == step) raise(SIGKILL);
      };
      absl::StatusOr<swap::SwapResult> r = swap::Swap(o);
      _exit(r.ok() ? 3 : 1);
    }
    int status = 0;
    return waitpid(child, &status, 0) == child && WIFSIGNALED(status);
  }

  std::string Server() const {
    return absl::StrCat("host=", pg_->socket_dir(), " port=", pg_->port(), " user=postgres");
  }

  // `pgmerge swap --catch-up` of shadow_ onto main_, as the library takes it.
  swap::SwapOptions CatchUpSwap(const std::string& state_path) const {
    swap::SwapOptions o;
    o.server = Server();
    o.main = main_;
    o.shadow = shadow_;
    o.report_json = ReadFile(dir_ + "/report.json");
    o.state_path = state_path;
    o.grace_seconds = 0.2;
    o.catch_up = true;
    return o;
  }

  // main and dev built; dev dumped.
  void MakeDatabases(const std::string& dev_extra = "", const std::string& both_extra = "") {
    ASSERT_TRUE(pg_->CreateDatabase(main_).ok());
    ASSERT_TRUE(pg_->Exec(main_, absl::StrCat(kSchema, both_extra)).ok());
    ASSERT_TRUE(pg_->CreateDatabase(dev_).ok());
    ASSERT_TRUE(pg_->Exec(dev_, absl::StrCat(kSchema, both_extra)).ok());
    absl::Status s = pg_->Exec(dev_, absl::StrCat(kDevChanges, dev_extra));
    ASSERT_TRUE(s.ok()) << s;
    ASSERT_TRUE(pg_->Dump(dev_, {}, dir_ + "/dev.sql").ok());
  }

  CommandResult Pgmerge(std::vector<std::string> args) {
    args.insert(args.begin(), PGMERGE_BINARY);
    absl::StatusOr<CommandResult> r = RunCommand(args);
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandResult{};
  }

  CommandResult DumpMain() {
    return Pgmerge({"dump", "-d", pg_->ConnString(main_), "-f", dir_ + "/prod.sql",
                    "--no-owner", "--no-privileges"});
  }

  void MergeAndRestore(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {dir_ + "/prod.sql", dir_ + "/dev.sql", "--report",
                                     dir_ + "/report.json", "--fill", "public.posts.score=0", "-o",
                                     dir_ + "/merged.sql", "--quiet"};
    args.insert(args.end(), extra.begin(), extra.end());
    CommandResult m = Pgmerge(args);
    ASSERT_EQ(m.exit_code, 0) << m.err;
    ASSERT_TRUE(pg_->CreateDatabase(shadow_).ok());
    absl::Status s = pg_->Restore(shadow_, dir_ + "/merged.sql");
    ASSERT_TRUE(s.ok()) << s;
  }

  CommandResult CatchUp(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"catch-up", "--server", Server(), "--main", main_,
                                     "--shadow", shadow_, "--report", dir_ + "/report.json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return Pgmerge(args);
  }

  std::string Value(const std::string& db, const std::string& sql) {
    absl::StatusOr<std::string> v = pg_->QueryValue(db, sql);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : "";
  }
  // A query's rows as one text, to compare databases.
  std::string Text(const std::string& db, const std::string& sql) {
    return Value(db, absl::StrCat("SELECT coalesce(string_agg(r::text, E'\\n'), '') FROM (",
                                  sql, ") r"));
  }
  std::string Slots() {
    return Value("postgres", "SELECT coalesce(string_agg(slot_name, ' '), '') FROM pg_replication_slots");
  }

  static TestPostgres* pg_;
  std::string name_, main_, dev_, shadow_, dir_;
};
TestPostgres* LiveTest::pg_ = nullptr;

// Writes on main after its dump: new parents with children, updates (one
// changing a key, one leaving a TOASTed value alone, one in a column
// development dropped), deletes (one cascading), awkward text.
constexpr char kWritesAfterDump[] = R"sql(
INSERT INTO authors (name, bio, legacy) VALUES ('dee', E'tab\there\nnew line \\ back ''q''', 'l4');
INSERT INTO posts (author_id, title, body) VALUES (4, 'p5', 'b5'), (4, 'p6', NULL);
INSERT INTO posts (author_id, title, body) VALUES (1, 'p7', repeat('x', 10));
BEGIN;
UPDATE authors SET name = 'bobby', legacy = 'changed' WHERE id = 2;
UPDATE posts SET title = 'p1 edited' WHERE id = 1;
UPDATE tags SET id = 50, label = 't1 moved' WHERE id = 1;
COMMIT;
DELETE FROM tags WHERE id = 2;
DELETE FROM authors WHERE id = 3;
INSERT INTO events VALUES (2, 'after');
INSERT INTO tags (label) VALUES (NULL);
)sql";

TEST_F(LiveTest, CatchUpAppliesEveryWriteOnceAndDropsTheSlot) {
  MakeDatabases();
  CommandResult d = DumpMain();
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_TRUE(absl::StrContains(d.err, "slot pgmerge_")) << d.err;
  std::string sidecar = ReadFile(dir_ + "/prod.sql.pgmerge.json");
  EXPECT_TRUE(absl::StrContains(sidecar, "\"consistent_lsn\"")) << sidecar;
  EXPECT_TRUE(absl::StrContains(Slots(), "pgmerge_"));
  ASSERT_TRUE(pg_->Exec(main_, kWritesAfterDump).ok());
  // The dump is production before those writes.
  EXPECT_FALSE(absl::StrContains(ReadFile(dir_ + "/prod.sql"), "\tdee\t"));
  EXPECT_TRUE(absl::StrContains(ReadFile(dir_ + "/prod.sql"), "\tcy\t"));
  MergeAndRestore();

  // The stream holds the hard shapes: a key change and a TOASTed value
  // the update left alone.
  const std::string stream = Value(main_, absl::StrCat(
      "SELECT string_agg(data, E'\\n') FROM pg_logical_slot_peek_changes('",
      Value("postgres", "SELECT slot_name FROM pg_replication_slots"), "', NULL, NULL)"));
  EXPECT_TRUE(absl::StrContains(stream, "body[text]:unchanged-toast-datum")) << stream;
  EXPECT_TRUE(absl::StrContains(stream, "UPDATE: old-key: id[integer]:1 new-tuple:")) << stream;

  CommandResult c = CatchUp();
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, "8 transactions (6 inserts, 3 updates, 3 deletes)")) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, "2 values in columns development dropped")) << c.err;
  // Production's rows: main's final values, with production's keys.
  for (const char* q :
       {"SELECT id, name, bio FROM authors WHERE id < 1000 ORDER BY id",
        "SELECT id, author_id, title, md5(body) FROM posts WHERE id < 1000 ORDER BY id",
        "SELECT id, label FROM tags ORDER BY id",
        "SELECT at, what FROM events ORDER BY at"}) {
    EXPECT_EQ(Text(shadow_, q), Text(main_, q)) << q;
  }
  EXPECT_TRUE(absl::StrContains(Text(shadow_, "SELECT bio FROM authors WHERE id = 4"),
                                "tab\there"));
  // Development's rows, and what the merge's rules give y' rows.
  EXPECT_EQ(Text(shadow_, "SELECT id, author_id, title, score FROM posts WHERE id >= 1000 ORDER BY id"),
            "(1000,1000,\"dev post\",5)\n(1001,2,\"on bob\",6)");  // 1002 followed cy.
  EXPECT_EQ(Text(shadow_, "SELECT score FROM posts WHERE id IN (5, 6, 7)"), "(0)\n(0)\n(0)");
  EXPECT_EQ(Value(shadow_, "SELECT locale FROM authors WHERE id = 4"), "en");
  EXPECT_EQ(Value(shadow_, "SELECT name FROM authors WHERE id = 1000"), "dev");
  // Sequences past production's new keys.
  EXPECT_GE(std::stoi(Value(shadow_, "SELECT last_value FROM tags_id_seq")),
            std::stoi(Value(main_, "SELECT last_value FROM tags_id_seq")));
  EXPECT_EQ(Value(shadow_, "SELECT nextval('authors_id_seq') > 1000"), "t");

  // Exactly once: a re-run finds nothing new; more writes, only those.
  const std::string before = Text(shadow_, "SELECT * FROM posts ORDER BY id");
  c = CatchUp();
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, ": 0 transactions")) << c.err;
  EXPECT_EQ(Text(shadow_, "SELECT * FROM posts ORDER BY id"), before);
  ASSERT_TRUE(pg_->Exec(main_, "INSERT INTO posts (author_id, title) VALUES (2, 'p8'); "
                               "UPDATE posts SET body = 'b2 again' WHERE id = 2;")
                  .ok());
  c = CatchUp({"--drop-slot"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, ": 2 transactions (1 inserts, 1 updates, 0 deletes)"))
      << c.err;
  const char* posts = "SELECT id, author_id, title, md5(body) FROM posts WHERE id < 1000 ORDER BY id";
  EXPECT_EQ(Text(shadow_, posts), Text(main_, posts));
  EXPECT_EQ(Slots(), "");
  EXPECT_EQ(Value(shadow_, "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgmerge'"), "0");
}

TEST_F(LiveTest, ABatchInterruptedAfterItsCommitIsNotAppliedTwice) {
  // The shadow committed a batch, the slot was not advanced (a crash in
  // between): the next run skips what the shadow's pgmerge.catchup holds.
  MakeDatabases();
  { CommandResult d = DumpMain(); ASSERT_EQ(d.exit_code, 0) << d.err; }
  ASSERT_TRUE(pg_->Exec(main_, "INSERT INTO tags (label) VALUES ('one');").ok());
  MergeAndRestore();
  std::string slot = Value("postgres", "SELECT slot_name FROM pg_replication_slots");
  std::string commit_lsn = Value(main_, absl::StrCat(
      "SELECT lsn FROM pg_logical_slot_peek_changes('", slot, "', NULL, NULL) WHERE data LIKE 'COMMIT%'"));
  ASSERT_FALSE(commit_lsn.empty());
  ASSERT_TRUE(pg_->Exec(shadow_, absl::StrCat(
      "CREATE SCHEMA pgmerge; CREATE TABLE pgmerge.catchup (slot text PRIMARY KEY, lsn pg_lsn "
      "NOT NULL, transactions bigint NOT NULL, changes bigint NOT NULL); "
      "INSERT INTO tags (id, label) VALUES (3, 'one'); "
      "INSERT INTO pgmerge.catchup VALUES ('", slot, "', '", commit_lsn, "', 1, 1);")).ok());
  ASSERT_TRUE(pg_->Exec(main_, "INSERT INTO tags (label) VALUES ('two');").ok());
  CommandResult c = CatchUp({"--drop-slot"});
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, "1 transactions (1 inserts")) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, "1 already applied")) << c.err;
  EXPECT_EQ(Text(shadow_, "SELECT id, label FROM tags ORDER BY id"),
            Text(main_, "SELECT id, label FROM tags ORDER BY id"));
}

TEST_F(LiveTest, AKeyADevelopmentRowHoldsIsRefusedWithTheCure) {
  // Development's author 4 took a key that was free at the dump; production
  // hands out 4 right after.
  MakeDatabases("INSERT INTO authors (id, name) VALUES (4, 'dev at four');");
  { CommandResult d = DumpMain(); ASSERT_EQ(d.exit_code, 0) << d.err; }
  ASSERT_TRUE(pg_->Exec(main_, "INSERT INTO tags (label) VALUES ('fine'); "
                               "INSERT INTO authors (name) VALUES ('prod at four');").ok());
  MergeAndRestore();
  const std::string tags = Text(shadow_, "SELECT * FROM tags ORDER BY id");
  CommandResult c = CatchUp();
  EXPECT_EQ(c.exit_code, 2) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, "INSERT on public.authors")) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, "key headroom")) << c.err;
  EXPECT_EQ(Text(shadow_, "SELECT * FROM tags ORDER BY id"), tags);  // Nothing half applied.
  EXPECT_EQ(Value(shadow_, "SELECT name FROM authors WHERE id = 4"), "dev at four");
  ASSERT_EQ(CatchUp().exit_code, 2);  // Still refused: the slot kept the changes.
  ASSERT_TRUE(pg_->Exec("postgres", absl::StrCat("SELECT pg_drop_replication_slot(slot_name) "
                                                 "FROM pg_replication_slots")).ok());
}

TEST_F(LiveTest, KeyHeadroomKeepsProdsNextKeysFree) {
  // Development continued the sequences (authors 4 and 5, a post on 4): the
  // keys production hands out next.
  MakeDatabases("INSERT INTO authors (id, name) VALUES (4, 'dev four'), (5, 'dev five');"
                "INSERT INTO posts (author_id, title, score) VALUES (4, 'on dev four', 9);");
  { CommandResult d = DumpMain(); ASSERT_EQ(d.exit_code, 0) << d.err; }
  ASSERT_TRUE(pg_->Exec(main_, "INSERT INTO authors (name) VALUES ('prod four'), ('prod five');"
                               "INSERT INTO posts (author_id, title) VALUES (4, 'on prod four');")
                  .ok());
  MergeAndRestore({"--key-headroom", "100"});
  const std::string report = ReadFile(dir_ + "/report.json");
  EXPECT_TRUE(absl::StrContains(report, "\"key_headroom\":{\"prod_top\":3,\"reserved_to\":103}") ||
              absl::StrContains(report, "\"prod_top\": 3")) << report.substr(0, 3000);
  // Development's rows moved above the headroom, their post following.
  EXPECT_EQ(Value(shadow_, "SELECT count(*) FROM authors WHERE id BETWEEN 4 AND 103"), "0");
  EXPECT_EQ(Value(shadow_, "SELECT a.name FROM posts p JOIN authors a ON a.id = p.author_id "
                           "WHERE p.title = 'on dev four'"),
            "dev four");
  CommandResult c = CatchUp();
  ASSERT_EQ(c.exit_code, 0) << c.err;
  EXPECT_EQ(Text(shadow_, "SELECT id, name FROM authors WHERE id IN (4, 5) ORDER BY id"),
            "(4,\"prod four\")\n(5,\"prod five\")");
  EXPECT_EQ(Value(shadow_, "SELECT a.name FROM posts p JOIN authors a ON a.id = p.author_id "
                           "WHERE p.title = 'on prod four'"),
            "prod four");
  // Production outgrows the 100 keys: refused, naming the flag.
  ASSERT_TRUE(pg_->Exec(main_, "SELECT setval('authors_id_seq', 150);"
                               "INSERT INTO authors (name) VALUES ('too far');").ok());
  c = CatchUp();
  EXPECT_EQ(c.exit_code, 2) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, "outgrew the key headroom: key 151 is above 103")) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, "--key-headroom")) << c.err;
  ASSERT_TRUE(pg_->Exec("postgres", "SELECT pg_drop_replication_slot(slot_name) "
                                    "FROM pg_replication_slots").ok());
}

TEST_F(LiveTest, NaturalKeyClashIsRefusedAsSuch) {
  MakeDatabases("SELECT setval('cats_id_seq', 500); INSERT INTO cats (slug) VALUES ('new');",
                "CREATE TABLE cats (id serial PRIMARY KEY, slug text NOT NULL UNIQUE);"
                "INSERT INTO cats (slug) VALUES ('old');"
                "SELECT setval('cats_id_seq', 100);");
  { CommandResult d = DumpMain(); ASSERT_EQ(d.exit_code, 0) << d.err; }
  ASSERT_TRUE(pg_->Exec(main_, "INSERT INTO cats (slug) VALUES ('new');").ok());
  MergeAndRestore();
  CommandResult c = CatchUp();
  EXPECT_EQ(c.exit_code, 2) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, "unique constraint cats_slug_key")) << c.err;
  EXPECT_FALSE(absl::StrContains(c.err, "headroom")) << c.err;
  ASSERT_TRUE(pg_->Exec("postgres", "SELECT pg_drop_replication_slot(slot_name) "
                                    "FROM pg_replication_slots").ok());
}

TEST_F(LiveTest, UpdateWithoutReplicaIdentityAndDdlAreRefusedByName) {
  MakeDatabases();
  { CommandResult d = DumpMain(); ASSERT_EQ(d.exit_code, 0) << d.err; }
  ASSERT_TRUE(pg_->Exec(main_, "UPDATE events SET what = 'x';").ok());
  MergeAndRestore();
  CommandResult c = CatchUp();
  EXPECT_EQ(c.exit_code, 2) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, "UPDATE on public.events")) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, "no replica identity")) << c.err;
  ASSERT_TRUE(pg_->Exec(main_, "ALTER TABLE tags ADD COLUMN color text;").ok());
  c = CatchUp();
  EXPECT_EQ(c.exit_code, 2) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, "DDL on main since the dump")) << c.err;
  EXPECT_TRUE(absl::StrContains(c.err, "public.tags")) << c.err;
  ASSERT_TRUE(pg_->Exec("postgres", "SELECT pg_drop_replication_slot(slot_name) "
                                    "FROM pg_replication_slots").ok());
}

TEST_F(LiveTest, AFailedDumpLeavesNoSlotAndStaleSlotsAreListed) {
  ASSERT_TRUE(pg_->CreateDatabase(main_).ok());
  CommandResult d = Pgmerge({"dump", "-d", pg_->ConnString(main_), "-f", dir_ + "/x.sql",
                             "--no-such-pg-dump-option"});
  EXPECT_EQ(d.exit_code, 1) << d.err;
  EXPECT_EQ(Slots(), "");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/x.sql.pgmerge.json"));
  ASSERT_EQ(Pgmerge({"dump", "-d", pg_->ConnString(main_), "-f", dir_ + "/a.sql"}).exit_code, 0);
  std::string first = Slots();
  d = Pgmerge({"dump", "-d", pg_->ConnString(main_), "-f", dir_ + "/b.sql"});
  EXPECT_EQ(d.exit_code, 0);
  EXPECT_TRUE(absl::StrContains(d.err, "warning: slot " + first)) << d.err;
  ASSERT_TRUE(pg_->Exec("postgres", "SELECT pg_drop_replication_slot(slot_name) "
                                    "FROM pg_replication_slots").ok());
}

// Both sides dumped at once: production on its slot, development by a plain
// pg_dump beside it; the merge of the two restores. A development dump that
// fails drops production's slot and sidecar too.
TEST_F(LiveTest, DumpsDevelopmentAtTheSameTime) {
  MakeDatabases();
  CommandResult d = Pgmerge({"dump", "-d", pg_->ConnString(main_), "-f", dir_ + "/prod.sql",
                             "--dev", pg_->ConnString(dev_), "--dev-file", dir_ + "/dev2.sql",
                             "-n", "public", "-Fp", "--no-owner"});
  ASSERT_EQ(d.exit_code, 0) << d.err;
  EXPECT_TRUE(absl::StrContains(d.err, "dumped to " + dir_ + "/dev2.sql, at the same time")) << d.err;
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/prod.sql.pgmerge.json"));
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/dev2.sql.pgmerge.json"));  // No slot for dev.
  EXPECT_NE(Slots(), "");
  // Development's dump is pg_dump's with the same options, in order (its
  // \restrict key aside).
  ASSERT_TRUE(pg_->Dump(dev_, {"-n", "public", "-Fp", "--no-owner"}, dir_ + "/dev-ref.sql").ok());
  auto unkeyed = [](const std::string& text) {
    std::string out;
    for (absl::string_view line : absl::StrSplit(text, '\n')) {
      if (!absl::StartsWith(line, "\\restrict") && !absl::StartsWith(line, "\\unrestrict")) {
        absl::StrAppend(&out, line, "\n");
      }
    }
    return out;
  };
  EXPECT_EQ(unkeyed(ReadFile(dir_ + "/dev2.sql")), unkeyed(ReadFile(dir_ + "/dev-ref.sql")));
  CommandResult m = Pgmerge({dir_ + "/prod.sql", dir_ + "/dev2.sql", "--fill",
                             "public.posts.score=0", "-o", dir_ + "/merged.sql", "--quiet"});
  EXPECT_EQ(m.exit_code, 0) << m.err;
  ASSERT_TRUE(pg_->Exec("postgres", "SELECT pg_drop_replication_slot(slot_name) "
                                    "FROM pg_replication_slots").ok());

  d = Pgmerge({"dump", "-d", pg_->ConnString(main_), "-f", dir_ + "/p2.sql", "--dev",
               pg_->ConnString("no_such_database"), "--dev-file", dir_ + "/d2.sql"});
  EXPECT_EQ(d.exit_code, 1) << d.err;
  EXPECT_TRUE(absl::StrContains(d.err, "development's ")) << d.err;
  EXPECT_EQ(Slots(), "");
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/p2.sql.pgmerge.json"));
  EXPECT_EQ(Pgmerge({"dump", "-d", pg_->ConnString(main_), "-f", dir_ + "/p3.sql", "--dev",
                     pg_->ConnString(dev_)}).exit_code, 2);  // --dev without --dev-file.
}

// The application: one session that inserts parents with children, updates
// and deletes, one autocommit statement each, and records what the server
// acknowledged. A statement that failed may or may not have committed (the
// connection died): its rows are left out of the comparison. After a
// failure it reconnects, as an application's pool would.
class Writer {
 public:
  explicit Writer(std::string conninfo) : conninfo_(std::move(conninfo)) {}
  void Start() { thread_ = std::thread([this] { Run(); }); }
  void Stop() {
    stop_ = true;
    thread_.join();
  }
  int64_t acknowledged() const { return acknowledged_; }
  int64_t errors() const { return errors_; }
  // After Stop().
  const std::map<int64_t, std::string>& posts() const { return posts_; }
  const std::map<int64_t, std::string>& authors() const { return authors_; }
  const std::set<int64_t>& deleted() const { return deleted_; }
  const std::set<int64_t>& uncertain() const { return uncertain_; }

 private:
  void Run() {
    swap::internal::Conn conn;
    for (int64_t i = 0; !stop_; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      if (!conn || PQstatus(conn.get()) != CONNECTION_OK) {
        absl::StatusOr<swap::internal::Conn> c = swap::internal::Connect(conninfo_);
        if (!c.ok()) {
          ++errors_;
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          continue;
        }
        conn = *std::move(c);
      }
      std::string sql;
      int64_t target = 0;
      const int op = i % 4;
      if (op == 0 || posts_.size() < 10) {
        sql = absl::StrCat(
            "WITH a AS (INSERT INTO authors (name) VALUES ('w", i, "') RETURNING id) "
            "INSERT INTO posts (author_id, title) SELECT id, 'w", i, "-' || n "
            "FROM a, generate_series(1, 2) n RETURNING author_id, id");
      } else if (op == 1 || op == 2) {
        // Writer's rows and the dumped ones (posts 1..4).
        auto it = posts_.begin();
        std::advance(it, (i / 4) % posts_.size());
        target = op == 1 ? it->first : 1 + (i / 4) % 4;
        if (uncertain_.count(target) != 0) continue;
        sql = absl::StrCat("UPDATE posts SET title = 'u", i, "' WHERE id = ", target);
      } else {
        target = posts_.rbegin()->first;
        if (target <= 4 || uncertain_.count(target) != 0) continue;
        sql = absl::StrCat("DELETE FROM posts WHERE id = ", target);
      }
      swap::internal::Result r(PQexec(conn.get(), sql.c_str()));
      const ExecStatusType st = PQresultStatus(r.get());
      if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        ++errors_;
        if (target != 0) uncertain_.insert(target);
        if (target != 0) posts_.erase(target);
        conn.reset();
        continue;
      }
      ++acknowledged_;
      if (op == 0 || target == 0) {
        for (int k = 0; k < PQntuples(r.get()); ++k) {
          authors_[std::atoll(PQgetvalue(r.get(), k, 0))] = absl::StrCat("w", i);
          posts_[std::atoll(PQgetvalue(r.get(), k, 1))] = absl::StrCat("w", i, "-", k + 1);
        }
      } else if (sql[0] == 'U') {
        posts_[target] = absl::StrCat("u", i);
      } else {
        posts_.erase(target);
        deleted_.insert(target);
      }
    }
  }

  std::string conninfo_;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> acknowledged_{0}, errors_{0};
  std::map<int64_t, std::string> posts_, authors_;
  std::set<int64_t> deleted_, uncertain_;
  std::thread thread_;
};

std::map<int64_t, std::string> Column(TestPostgres* pg, const std::string& db,
                                      const std::string& sql) {
  std::map<int64_t, std::string> out;
  absl::StatusOr<swap::internal::Conn> c = swap::internal::Connect(pg->ConnString(db));
  EXPECT_TRUE(c.ok()) << c.status();
  if (!c.ok()) return out;
  swap::internal::Result r(PQexec(c->get(), sql.c_str()));
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    out[std::atoll(PQgetvalue(r.get(), i, 0))] = PQgetvalue(r.get(), i, 1);
  }
  return out;
}

TEST_F(LiveTest, SwapCatchUpKeepsEveryAcknowledgedWrite) {
  MakeDatabases();
  // Posts 1..4 the writer updates are production's: authors 1..3 are
  // referenced by development's posts, so the writer deletes only its own.
  Writer writer(pg_->ConnString(main_));
  writer.Start();
  while (writer.acknowledged() < 20) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  CommandResult d = DumpMain();
  ASSERT_EQ(d.exit_code, 0) << d.err;
  // Headroom: the writer's keys stay clear of development's rows.
  MergeAndRestore({"--key-headroom", "100000"});
  const int64_t before_swap = writer.acknowledged();
  CommandResult s = Pgmerge({"swap", "--server", Server(), "--main", main_, "--shadow", shadow_,
                             "--report", dir_ + "/report.json", "--state", dir_ + "/state.json",
                             "--catch-up", "--grace", "0.5", "--json"});
  // The application goes on against the new main.
  const int64_t after_swap = writer.acknowledged();
  while (writer.acknowledged() < after_swap + 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  writer.Stop();
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_GT(after_swap, before_swap);  // It wrote while the switch ran.
  EXPECT_TRUE(absl::StrContains(s.out, "\"dark_ms\"")) << s.out;
  EXPECT_TRUE(absl::StrContains(s.out, "\"tail_changes\"")) << s.out;
  EXPECT_TRUE(absl::StrContains(s.err, "caught up from slot")) << s.err;
  // Writes tried while main was closed failed (blocked, then cut off, or
  // refused a connection): none was acknowledged into the old main.
  EXPECT_GT(writer.errors(), 0);

  const std::map<int64_t, std::string> posts =
      Column(pg_, main_, "SELECT id, title FROM posts");
  const std::map<int64_t, std::string> authors =
      Column(pg_, main_, "SELECT id, name FROM authors");
  int64_t checked = 0;
  for (const auto& [id, title] : writer.posts()) {
    auto it = posts.find(id);
    ASSERT_TRUE(it != posts.end()) << "post " << id << " (" << title << ") lost";
    EXPECT_EQ(it->second, title) << "post " << id;
    ++checked;
  }
  for (int64_t id : writer.deleted()) EXPECT_EQ(posts.count(id), 0u) << "post " << id;
  for (const auto& [id, name] : writer.authors()) {
    auto it = authors.find(id);
    ASSERT_TRUE(it != authors.end()) << "author " << id << " lost";
    EXPECT_EQ(it->second, name);
  }
  EXPECT_GT(checked, 20);
  EXPECT_FALSE(writer.deleted().empty());
  // Development's rows.
  EXPECT_EQ(Value(main_, "SELECT count(*) FROM authors WHERE name = 'dev'"), "1");
  EXPECT_EQ(Text(main_, "SELECT p.title, a.name FROM posts p JOIN authors a ON a.id = p.author_id "
                        "WHERE p.title IN ('dev post', 'on bob', 'on cy') ORDER BY 1"),
            "(\"dev post\",dev)\n(\"on bob\",bob)\n(\"on cy\",cy)");
  EXPECT_EQ(Value(main_, "SELECT locale FROM authors WHERE name = 'dev'"), "en");
  // No slot, no bookkeeping left.
  EXPECT_EQ(Slots(), "");
  EXPECT_EQ(Value(main_, "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgmerge'"), "0");
}

// A logical slot on main that is not pgmerge's (a change-data consumer's)
// stays with the old database after the renames, holding WAL while its
// consumer fails: the swap is refused before main is closed, pgmerge's own
// slot kept for the next run.
TEST_F(LiveTest, SwapRefusesAnotherLogicalSlotOnMain) {
  MakeDatabases();
  CommandResult d = DumpMain();
  ASSERT_EQ(d.exit_code, 0) << d.err;
  MergeAndRestore({});
  ASSERT_TRUE(pg_->Exec(main_, "SELECT pg_create_logical_replication_slot('cdc_feed', "
                               "'test_decoding')")
                  .ok());
  const std::string before = Slots();
  std::vector<std::string> swap = {"swap", "--server", Server(), "--main", main_,
                                   "--shadow", shadow_, "--report", dir_ + "/report.json",
                                   "--state", dir_ + "/state.json", "--catch-up",
                                   "--grace", "0.5"};
  CommandResult s = Pgmerge(swap);
  EXPECT_EQ(s.exit_code, 2) << s.err;
  EXPECT_TRUE(absl::StrContains(s.err, "has logical replication slots cdc_feed: they belong to "
                                       "the database, not its name"))
      << s.err;
  EXPECT_EQ(Slots(), before);  // pgmerge's slot too: the refusal came before closing.
  ASSERT_TRUE(pg_->Exec(main_, "SELECT pg_drop_replication_slot('cdc_feed')").ok());
  s = Pgmerge(swap);
  EXPECT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Slots(), "");
}

TEST_F(LiveTest, SwapCatchUpKilledMidWayIsRolledBackWithoutItsSlot) {
  MakeDatabases();
  { CommandResult d = DumpMain(); ASSERT_EQ(d.exit_code, 0) << d.err; }
  ASSERT_TRUE(pg_->Exec(main_, kWritesAfterDump).ok());
  MergeAndRestore();
  const std::string before = Text(main_, "SELECT * FROM posts ORDER BY id");
  const std::string state = dir_ + "/state.json";
  // A crash (kill -9) right after the tail was applied, main closed.
  ASSERT_TRUE(SwapKilledAfter("caught_up", state)) << "the swap did not reach caught_up";
  EXPECT_TRUE(absl::StrContains(ReadFile(state), "\"caught_up\"")) << ReadFile(state);
  EXPECT_EQ(Value("postgres", absl::StrCat("SELECT datallowconn FROM pg_database WHERE datname = '",
                                           main_, "'")),
            "f");
  EXPECT_NE(Slots(), "");  // The crash left it: rollback's to drop.
  CommandResult r = Pgmerge({"rollback", "--server", Server(), "--main", main_, "--state", state});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Slots(), "");
  // main is live again, as it was, and takes writes.
  EXPECT_EQ(Text(main_, "SELECT * FROM posts ORDER BY id"), before);
  ASSERT_TRUE(pg_->Exec(main_, "INSERT INTO tags (label) VALUES ('after rollback');").ok());
  EXPECT_TRUE(absl::StrContains(ReadFile(state), "\"aborted\"")) << ReadFile(state);
}

// A kill -9 after each journaled step of the live switch: before the
// renames, rollback brings main back as it was (writable, every write kept)
// and drops the slot; after them, --resume finishes the switch and drops it.
TEST_F(LiveTest, SwapCatchUpKilledAtEachStepIsRecovered) {
  const std::string base = name_;
  for (const std::string step : {"preconditions_ok", "closed", "sessions_gone", "caught_up",
                                 "renamed"}) {
    SCOPED_TRACE(step);
    UseNames(base + "_" + step);
    MakeDatabases();
    { CommandResult d = DumpMain(); ASSERT_EQ(d.exit_code, 0) << d.err; }
    ASSERT_TRUE(pg_->Exec(main_, kWritesAfterDump).ok());
    MergeAndRestore();
    const std::string before = Text(main_, "SELECT * FROM posts ORDER BY id");
    const std::string state = dir_ + "/state.json";
    ASSERT_TRUE(SwapKilledAfter(step, state)) << "the swap did not reach " << step;
    if (step == "renamed") {
      CommandResult r = Pgmerge({"swap", "--server", Server(), "--main", main_, "--shadow",
                                 shadow_, "--report", dir_ + "/report.json", "--state", state,
                                 "--catch-up", "--resume"});
      ASSERT_EQ(r.exit_code, 0) << r.err;
      EXPECT_EQ(Slots(), "");
      // main is the shadow now: development's rows and production's writes.
      EXPECT_EQ(Value(main_, "SELECT count(*) FROM authors WHERE name = 'dev'"), "1");
      ASSERT_TRUE(pg_->Exec(main_, "INSERT INTO tags (label) VALUES ('after resume');").ok());
      continue;
    }
    CommandResult r = Pgmerge({"rollback", "--server", Server(), "--main", main_, "--state", state});
    ASSERT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(Slots(), "");
    EXPECT_EQ(Text(main_, "SELECT * FROM posts ORDER BY id"), before);
    ASSERT_TRUE(pg_->Exec(main_, "INSERT INTO tags (label) VALUES ('after rollback');").ok());
  }
}

TEST_F(LiveTest, SwapCatchUpStoppedAfterClosingReopensMainAndDropsTheSlot) {
  MakeDatabases();
  { CommandResult d = DumpMain(); ASSERT_EQ(d.exit_code, 0) << d.err; }
  ASSERT_TRUE(pg_->Exec(main_, kWritesAfterDump).ok());
  MergeAndRestore();
  // Ctrl-C once every session is gone: the swap stops after the tail.
  bool stop = false;
  swap::SwapOptions o = CatchUpSwap(dir_ + "/state.json");
  o.after_step = [&](std::string_view step) { stop = stop || step == "sessions_gone"; };
  o.interrupted = [&] { return stop; };
  absl::StatusOr<swap::SwapResult> r = swap::Swap(o);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsAborted(r.status())) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "reopened")) << r.status();
  EXPECT_TRUE(absl::StrContains(r.status().message(), "dropped")) << r.status();
  EXPECT_EQ(Slots(), "");
  // Main and the shadow open again, nothing renamed.
  EXPECT_EQ(Value("postgres", absl::StrCat("SELECT count(*) FILTER (WHERE NOT datallowconn) || ' ' "
                                           "|| count(*) FROM pg_database WHERE datname IN ('",
                                           main_, "', '", shadow_, "')")),
            "0 2");
  ASSERT_TRUE(pg_->Exec(main_, "INSERT INTO tags (label) VALUES ('still live');").ok());
}

// A write on main before each live round, from the swap's own hook: every
// round then has a change to apply, so the lag (with --catch-up-lag 1) can
// never fall under 1. A writer thread cannot promise that: a round is over
// in under a millisecond, and a descheduled writer leaves it empty.
class WriteBeforeEachRound {
 public:
  explicit WriteBeforeEachRound(const std::string& conninfo) {
    absl::StatusOr<swap::internal::Conn> c = swap::internal::Connect(conninfo);
    EXPECT_TRUE(c.ok()) << c.status();
    if (c.ok()) conn_ = *std::move(c);
  }
  // `o` with --catch-up-lag 1 and `rounds` rounds at most, this writing
  // before each: the lag never falls under 1.
  swap::SwapOptions KeepLagAtOne(swap::SwapOptions o, int rounds) {
    o.catch_up_lag = 1;
    o.catch_up_rounds = rounds;
    o.before_live_round = [this] {
      swap::internal::Result r(
          PQexec(conn_.get(), "INSERT INTO tags (label) VALUES ('busy')"));
      EXPECT_EQ(PQresultStatus(r.get()), PGRES_COMMAND_OK) << PQerrorMessage(conn_.get());
      ++written_;
    };
    return o;
  }
  int64_t written() const { return written_; }

 private:
  swap::internal::Conn conn_;
  int64_t written_ = 0;
};

TEST_F(LiveTest, SwapCatchUpRefusesToCloseMainWhileTheLagDoesNotFall) {
  MakeDatabases();
  { CommandResult d = DumpMain(); ASSERT_EQ(d.exit_code, 0) << d.err; }
  ASSERT_TRUE(pg_->Exec(main_, kWritesAfterDump).ok());
  MergeAndRestore();
  const std::string slot = Slots();
  WriteBeforeEachRound writer(pg_->ConnString(main_));
  swap::SwapOptions o = writer.KeepLagAtOne(CatchUpSwap(dir_ + "/state.json"), 6);
  std::string log;
  o.log = [&log](std::string_view line) { log.append(line).append("\n"); };
  absl::StatusOr<swap::SwapResult> s = swap::Swap(o);
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(s.status())) << s.status();  // Exit 2.
  const std::string why(s.status().message());
  EXPECT_TRUE(absl::StrContains(why, "did not bring the lag under --catch-up-lag 1")) << why;
  // Rounds 3, 4 and 5 applied 1 change each, no fewer than round 2.
  EXPECT_TRUE(absl::StrContains(why, "the lag is not shrinking: 3 rounds in a row")) << why;
  EXPECT_TRUE(absl::StrContains(why, "Main was not closed")) << why;
  EXPECT_TRUE(absl::StrContains(why, "the slot is kept")) << why;
  EXPECT_EQ(writer.written(), 5);
  EXPECT_FALSE(absl::StrContains(log, "step 2")) << log;  // Never closing.
  // Consistent: main open and taking writes, the slot there, both
  // databases open, nothing renamed, no swap recorded to resume.
  ASSERT_TRUE(pg_->Exec(main_, "INSERT INTO tags (label) VALUES ('busy')").ok());
  EXPECT_EQ(Slots(), slot);
  EXPECT_EQ(Value("postgres", absl::StrCat("SELECT count(*) FILTER (WHERE NOT datallowconn) || ' ' "
                                           "|| count(*) FROM pg_database WHERE datname IN ('",
                                           main_, "', '", shadow_, "')")),
            "0 2");
  std::vector<std::string> resume = {"swap", "--server", Server(), "--main", main_, "--state",
                                     dir_ + "/state.json", "--resume"};
  CommandResult r = Pgmerge(resume);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "nothing to resume")) << r.err;
  // Main writing less, the same swap continues from what the rounds applied.
  CommandResult again =
      Pgmerge({"swap", "--server", Server(), "--main", main_, "--shadow", shadow_, "--report",
               dir_ + "/report.json", "--state", dir_ + "/state.json", "--catch-up", "--grace",
               "0.2"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(Value(main_, "SELECT count(*) FROM tags WHERE label = 'busy'"),
            std::to_string(writer.written() + 1));
  EXPECT_EQ(Slots(), "");
}

// What a rehearsal must leave as it found: databases, slots and where the
// real slot stands.
std::string ServerPicture(TestPostgres* pg) {
  absl::StatusOr<std::string> v = pg->QueryValue(
      "postgres",
      "SELECT (SELECT string_agg(datname || ':' || datallowconn, ' ' ORDER BY datname) FROM "
      "pg_database) || ' | ' || coalesce((SELECT string_agg(slot_name || '@' || "
      "confirmed_flush_lsn, ' ' ORDER BY slot_name) FROM pg_replication_slots), '')");
  EXPECT_TRUE(v.ok()) << v.status();
  return v.ok() ? *v : "";
}

TEST_F(LiveTest, RehearsalReportsTheDarkWindowAndChangesNothingLive) {
  MakeDatabases();
  { CommandResult d = DumpMain(); ASSERT_EQ(d.exit_code, 0) << d.err; }
  ASSERT_TRUE(pg_->Exec(main_, kWritesAfterDump).ok());
  MergeAndRestore();
  const std::string picture = ServerPicture(pg_);
  const std::string shadow_posts = Text(shadow_, "SELECT * FROM posts ORDER BY id");
  const std::string main_posts = Text(main_, "SELECT * FROM posts ORDER BY id");
  CommandResult r = Pgmerge({"swap", "--server", Server(), "--main", main_, "--shadow", shadow_,
                             "--report", dir_ + "/report.json", "--state", dir_ + "/state.json",
                             "--catch-up", "--rehearse", "--grace", "0.2", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "the dark window would have been about")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.err, "nothing live changed")) << r.err;
  EXPECT_TRUE(absl::StrContains(r.out, "\"dark_ms\"")) << r.out;
  EXPECT_TRUE(absl::StrContains(r.out, "\"changes_per_s\"")) << r.out;
  EXPECT_FALSE(absl::StrContains(r.out, "\"live_changes\": 0,")) << r.out;  // y' was applied.
  // Untouched: the same databases, open; the same slot at the same place;
  // the shadow not caught up; main as it was; no journal.
  EXPECT_EQ(ServerPicture(pg_), picture);
  EXPECT_EQ(Text(shadow_, "SELECT * FROM posts ORDER BY id"), shadow_posts);
  EXPECT_EQ(Value(shadow_, "SELECT count(*) FROM pg_namespace WHERE nspname = 'pgmerge'"), "0");
  EXPECT_EQ(Text(main_, "SELECT * FROM posts ORDER BY id"), main_posts);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/state.json"));
  // The real switch then runs from the untouched slot.
  CommandResult s = Pgmerge({"swap", "--server", Server(), "--main", main_, "--shadow", shadow_,
                             "--report", dir_ + "/report.json", "--state", dir_ + "/state.json",
                             "--catch-up", "--grace", "0.2"});
  ASSERT_EQ(s.exit_code, 0) << s.err;
  EXPECT_EQ(Value(main_, "SELECT count(*) FROM authors WHERE name IN ('dee', 'dev')"), "2");
  EXPECT_EQ(Slots(), "");
}

TEST_F(LiveTest, AFailedRehearsalDropsItsCopiesToo) {
  MakeDatabases();
  { CommandResult d = DumpMain(); ASSERT_EQ(d.exit_code, 0) << d.err; }
  MergeAndRestore();
  const std::string picture = ServerPicture(pg_);
  // The lag cannot get under 1 while main writes before every round: the
  // rehearsal says the real swap would stop.
  WriteBeforeEachRound writer(pg_->ConnString(main_));
  absl::StatusOr<swap::RehearsalResult> r =
      swap::Rehearse(writer.KeepLagAtOne(CatchUpSwap(""), 4));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsFailedPrecondition(r.status())) << r.status();  // Exit 2.
  const std::string why(r.status().message());
  EXPECT_TRUE(absl::StrContains(why, "rehearsal: catch-up did not bring the lag under")) << why;
  EXPECT_TRUE(absl::StrContains(why, "its copies are dropped")) << why;
  EXPECT_EQ(ServerPicture(pg_), picture);
}

TEST(LiveWithoutLogicalWal, PlainDumpAndHowToTurnItOn) {
  setenv("PGMERGE_PG_DUMP", "/usr/lib/postgresql/15/bin/pg_dump", 1);
  TestPostgres* pg = SharedTestPostgres();  // wal_level=replica.
  ASSERT_NE(pg, nullptr);
  ASSERT_TRUE(pg->CreateDatabase("live_plain").ok());
  ASSERT_TRUE(pg->Exec("live_plain", "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);").ok());
  const std::string file = pg->tmp_dir() + "/live-plain.sql";
  absl::StatusOr<CommandResult> r =
      RunCommand({PGMERGE_BINARY, "dump", "-d", pg->ConnString("live_plain"), "-f", file});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_TRUE(absl::StrContains(r->err, "wal_level = logical")) << r->err;
  EXPECT_TRUE(absl::StrContains(r->err, "restart")) << r->err;
  EXPECT_TRUE(absl::StrContains(ReadFile(file), "COPY public.t (id) FROM stdin;"));
  EXPECT_FALSE(std::filesystem::exists(file + ".pgmerge.json"));
}

}  // namespace
}  // namespace pgmerge::testing
