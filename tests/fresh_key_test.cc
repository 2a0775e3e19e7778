// Fresh keys for colliding development rows stay inside the key column's
// type and its sequence's bounds, and go the way the sequence counts; when
// they cannot, pgmerge refuses before writing anything, naming the table,
// the column, its type and the room left. Against a real PostgreSQL 15.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/merge_fixture.h"

namespace pgmerge::testing {
namespace {

class FreshKeyTest : public MergeFixture {
 protected:
  // Production and development forked from `base` (kept as a database for
  // the truth checker), then each ran its own statements; both dumped with
  // COPY.
  struct Sides {
    std::string base, prod, dev, prod_dump, dev_dump;
  };
  Sides Fork(const std::string& base, const std::string& prod_sql,
             const std::string& dev_sql) {
    Sides s;
    s.base = MakeDb("base", {base});
    s.prod = MakeDb("prod", {base, prod_sql});
    s.dev = MakeDb("dev", {base, dev_sql});
    s.prod_dump = DumpDb(s.prod, {});
    s.dev_dump = DumpDb(s.dev, {});
    return s;
  }

  // The merge is refused: exit 2, nothing on stdout, and the message.
  std::string Refusal(const Sides& s) {
    MergeRun run = RunMerge(s.prod_dump, s.dev_dump);
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_EQ(ReadFile(run.sql_file), "");
    return run.err;
  }
};

TEST_F(FreshKeyTest, BigserialAtTheTopOfInt64IsRefusedNotWrapped) {
  Sides s = Fork(R"(
      CREATE TABLE t (id bigserial PRIMARY KEY, v text);
      SELECT setval('t_id_seq', 9223372036854775805);)",
                 "INSERT INTO t (v) VALUES ('p1'), ('p2');",
                 "INSERT INTO t (v) VALUES ('d1');");
  std::string err = Refusal(s);
  EXPECT_NE(err.find("public.t.id (bigint): 1 colliding development rows need fresh "
                     "keys above 9223372036854775807, and only 0 are left before "
                     "9223372036854775807 (the limit of bigint); nothing restorable written"),
            std::string::npos)
      << err;
}

// Decide runs beside emit: a big table's rows may already be out when a
// later table's fresh keys are found not to fit. The run still exits 2
// with the message, and what reached stdout commits nothing: empty, or cut
// and ended with the poison line.
TEST_F(FreshKeyTest, RefusedAfterOutputBeganCommitsNothing) {
  Sides s = Fork(R"(
      CREATE TABLE a_big (id serial PRIMARY KEY, v text);
      INSERT INTO a_big (v) SELECT 'row ' || g FROM generate_series(1, 300000) g;
      CREATE TABLE t (id bigserial PRIMARY KEY, a_id integer REFERENCES a_big, v text);
      SELECT setval('t_id_seq', 9223372036854775805);)",
                 "INSERT INTO t (a_id, v) VALUES (1, 'p1'), (2, 'p2');",
                 "INSERT INTO t (a_id, v) VALUES (3, 'd1');");
  MergeRun run = RunMerge(s.prod_dump, s.dev_dump);
  EXPECT_EQ(run.exit_code, 2) << run.err;
  EXPECT_NE(run.err.find("public.t.id (bigint): 1 colliding development rows need fresh keys"),
            std::string::npos)
      << run.err;
  const std::string out = ReadFile(run.sql_file);
  if (out.empty()) return;  // Refused before the first piece went out.
  EXPECT_TRUE(absl::EndsWith(out, "must_not_commit;\n")) << out.substr(out.size() - 200);
  const std::string db = Name("cut");
  ASSERT_TRUE(pg_->CreateDatabase(db).ok());
  EXPECT_FALSE(pg_->Restore(db, run.sql_file).ok());
  absl::StatusOr<std::string> tables = pg_->QueryValue(
      db, "SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace");
  ASSERT_TRUE(tables.ok()) << tables.status();
  EXPECT_EQ(*tables, "0");
}

TEST_F(FreshKeyTest, IntegerAndSmallintLimits) {
  // Two collisions, one value left below 2^31-1: refused, the room named.
  Sides s = Fork(R"(
      CREATE TABLE t (id serial PRIMARY KEY, v text);
      SELECT setval('t_id_seq', 2147483644);)",
                 "INSERT INTO t (v) VALUES ('p1'), ('p2');",
                 "INSERT INTO t (v) VALUES ('d1'), ('d2');");
  std::string err = Refusal(s);
  EXPECT_NE(err.find("public.t.id (integer): 2 colliding development rows need fresh "
                     "keys above 2147483646, and only 1 are left before 2147483647 "
                     "(the limit of integer)"),
            std::string::npos)
      << err;
  Sides small = Fork(R"(
      CREATE TABLE t (id smallserial PRIMARY KEY, v text);
      SELECT setval('t_id_seq', 32766);)",
                     "INSERT INTO t (v) VALUES ('p1');", "INSERT INTO t (v) VALUES ('d1');");
  err = Refusal(small);
  EXPECT_NE(err.find("public.t.id (smallint): 1 colliding development rows need fresh "
                     "keys above 32767, and only 0 are left before 32767 (the limit of "
                     "smallint)"),
            std::string::npos)
      << err;
  // Exactly enough room: merged, restored, the last value taken.
  Sides fits = Fork(R"(
      CREATE TABLE t (id serial PRIMARY KEY, v text);
      SELECT setval('t_id_seq', 2147483644);)",
                    "INSERT INTO t (v) VALUES ('p1');", "INSERT INTO t (v) VALUES ('d1'), ('d2');");
  MergeAndCheckTruth(fits.base, fits.prod, fits.dev, fits.prod_dump, fits.dev_dump);
  absl::StatusOr<std::string> v = pg_->QueryValue(
      last_shadow_, "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM t WHERE id > 10");
  ASSERT_TRUE(v.ok()) << v.status();
  EXPECT_EQ(*v, "2147483645:p1,2147483646:d2,2147483647:d1");
}

TEST_F(FreshKeyTest, SequenceMaxvalueBelowTheTypesLimit) {
  Sides s = Fork(R"(
      CREATE SEQUENCE s MAXVALUE 1000;
      CREATE TABLE t (id integer PRIMARY KEY DEFAULT nextval('s'), v text);
      ALTER SEQUENCE s OWNED BY t.id;
      SELECT setval('s', 998);)",
                 "INSERT INTO t (v) VALUES ('p1'), ('p2');", "INSERT INTO t (v) VALUES ('d1');");
  std::string err = Refusal(s);
  EXPECT_NE(err.find("public.t.id (integer): 1 colliding development rows need fresh "
                     "keys above 1000, and only 0 are left before 1000 (MAXVALUE of "
                     "sequence public.s)"),
            std::string::npos)
      << err;
}

// A descending identity: fresh keys go down, and stop at MINVALUE.
TEST_F(FreshKeyTest, DescendingSequencesGoDownToMinvalue) {
  const std::string base = R"(
      CREATE TABLE t (id integer GENERATED BY DEFAULT AS IDENTITY
                        (START WITH -1 INCREMENT BY -1 MINVALUE -6 MAXVALUE -1) PRIMARY KEY,
                      v text);
      CREATE TABLE c (id serial PRIMARY KEY, t_id integer REFERENCES t, w text);
      INSERT INTO t (v) VALUES ('base');)";
  Sides ok = Fork(base, "INSERT INTO t (v) VALUES ('p1'), ('p2');",
                  "INSERT INTO t (v) VALUES ('d1'), ('d2');"
                  "INSERT INTO c (t_id, w) SELECT id, 'on ' || v FROM t WHERE v LIKE 'd%';");
  MergeAndCheckTruth(ok.base, ok.prod, ok.dev, ok.prod_dump, ok.dev_dump);
  auto value = [&](const std::string& sql) {
    absl::StatusOr<std::string> v = pg_->QueryValue(last_shadow_, sql);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : "";
  };
  EXPECT_EQ(value("SELECT string_agg(id || ':' || v, ',' ORDER BY id DESC) FROM t"),
            "-1:base,-2:p1,-3:p2,-4:d1,-5:d2");
  EXPECT_EQ(value("SELECT string_agg(c.w || '->' || t.v, ',' ORDER BY c.w) FROM c "
                  "JOIN t ON t.id = c.t_id"),
            "on d1->d1,on d2->d2");
  EXPECT_EQ(value("SELECT nextval(pg_get_serial_sequence('t', 'id'))"), "-6");

  Sides full = Fork(base, "INSERT INTO t (v) VALUES ('p1'), ('p2'), ('p3'), ('p4');",
                    "INSERT INTO t (v) VALUES ('d1'), ('d2');");
  std::string err = Refusal(full);
  EXPECT_NE(err.find("public.t.id (integer): 2 colliding development rows need fresh "
                     "keys below -5, and only 1 are left before -6 (MINVALUE of "
                     "sequence public.t_id_seq)"),
            std::string::npos)
      << err;
}

// Sequences that count down or start below zero keep their positions
// exactly, is_called included, through a merge with themselves.
TEST_F(FreshKeyTest, DescendingAndNegativeSequencesKeepTheirPositions) {
  std::string db = MakeDb("seqs", {R"(
      CREATE SEQUENCE down_used INCREMENT BY -1;
      SELECT nextval('down_used');
      CREATE SEQUENCE down_unused INCREMENT BY -1;
      CREATE SEQUENCE neg_unused START -5 MINVALUE -10;
      CREATE SEQUENCE neg_used START -5 MINVALUE -10;
      SELECT nextval('neg_used'), nextval('neg_used');
      CREATE SEQUENCE cyc AS smallint MINVALUE -3 MAXVALUE 3 CYCLE;
      SELECT nextval('cyc') FROM generate_series(1, 8);  -- -3..3, then -3 again.)"});
  std::string dump = DumpDb(db, {});
  MergeRun run = RunMerge(dump, dump);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string shadow = Name("shadow");
  ASSERT_TRUE(pg_->CreateDatabase(shadow).ok());
  absl::Status s = pg_->Restore(shadow, run.sql_file);
  ASSERT_TRUE(s.ok()) << s;
  const std::string positions = R"(
      SELECT string_agg(format('%s=%s/%s', n, last_value, is_called), ' ' ORDER BY n) FROM (
        SELECT 'down_used' n, last_value, is_called FROM down_used UNION ALL
        SELECT 'down_unused', last_value, is_called FROM down_unused UNION ALL
        SELECT 'neg_unused', last_value, is_called FROM neg_unused UNION ALL
        SELECT 'neg_used', last_value, is_called FROM neg_used UNION ALL
        SELECT 'cyc', last_value, is_called FROM cyc) q)";
  absl::StatusOr<std::string> want = pg_->QueryValue(db, positions);
  absl::StatusOr<std::string> got = pg_->QueryValue(shadow, positions);
  ASSERT_TRUE(want.ok() && got.ok());
  EXPECT_EQ(*want,
            "cyc=-3/t down_unused=-1/f down_used=-1/t neg_unused=-5/f neg_used=-4/t");
  EXPECT_EQ(*got, *want);
}

}  // namespace
}  // namespace pgmerge::testing
