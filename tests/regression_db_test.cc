// PostgreSQL's own regression database (the dump pg_upgrade's tests use:
// typed tables, tables with no columns, generated columns in keys,
// descending and negative sequences, partitions, domains, ranges, rules,
// matviews...) through pgmerge, restored into a real PostgreSQL 15.
//
// 1. `pgmerge D D` gives back D: the same schema (pg_dump --schema-only),
//    the same rows per table, the same sequence positions.
// 2. A production copy with new rows in serial and identity tables merged
//    with a development copy with schema changes restores with
//    development's schema, every production row and development's new rows:
//    the truth checker reads every table row by row (tests/truth_checker.h),
//    and verify passes.
#include <algorithm>
#include <chrono>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/test_postgres.h"
#include "tests/truth_checker.h"

namespace pgmerge::testing {
namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string RegressionDump() {
  return SharedTestdata() + "/regression/regression.dump.sql";
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start)
      .count();
}

// A pg_dump file as lines to compare: the \restrict keys (random per run)
// left out, and the rows of every COPY block sorted, since a merge need not
// keep the physical order of rows.
std::vector<std::string> Normalised(const std::string& dump) {
  std::vector<std::string> out;
  std::vector<std::string> block;
  bool in_copy = false;
  for (absl::string_view line : absl::StrSplit(dump, '\n')) {
    if (in_copy) {
      if (line == "\\.") {
        std::sort(block.begin(), block.end());
        out.insert(out.end(), block.begin(), block.end());
        block.clear();
        out.emplace_back(line);
        in_copy = false;
      } else {
        block.emplace_back(line);
      }
      continue;
    }
    if (absl::StartsWith(line, "\\restrict ") ||
        absl::StartsWith(line, "\\unrestrict ")) {
      continue;
    }
    if (absl::StartsWith(line, "COPY ") && absl::EndsWith(line, "FROM stdin;")) {
      in_copy = true;
    }
    out.emplace_back(line);
  }
  return out;
}

// Empty when equal; else the first differences, with line numbers.
std::string Difference(const std::vector<std::string>& want,
                       const std::vector<std::string>& got) {
  std::string diff;
  int shown = 0;
  size_t i = 0, j = 0;
  while ((i < want.size() || j < got.size()) && shown < 20) {
    if (i < want.size() && j < got.size() && want[i] == got[j]) {
      ++i, ++j;
      continue;
    }
    // Resynchronise on the next line both hold, within a window.
    size_t bi = want.size(), bj = got.size();
    for (size_t d = 1; d < 400 && bi == want.size(); ++d) {
      for (size_t k = 0; k <= d; ++k) {
        size_t a = i + k, b = j + d - k;
        if (a < want.size() && b < got.size() && want[a] == got[b]) {
          bi = a, bj = b;
          break;
        }
      }
    }
    for (; i < bi && shown < 20; ++i, ++shown) {
      absl::StrAppend(&diff, "  want ", i + 1, ": ", want[i].substr(0, 200), "\n");
    }
    for (; j < bj && shown < 20; ++j, ++shown) {
      absl::StrAppend(&diff, "  got  ", j + 1, ": ", got[j].substr(0, 200), "\n");
    }
  }
  return diff;
}

class RegressionDbTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pg_ = SharedTestPostgres();
    ASSERT_NE(pg_, nullptr);
  }

  // A database holding the regression dump, restored as the workflow does.
  void RestoreRegression(const std::string& db) {
    ASSERT_TRUE(pg_->CreateDatabase(db).ok());
    auto start = std::chrono::steady_clock::now();
    absl::Status s = pg_->Restore(db, RegressionDump());
    ASSERT_TRUE(s.ok()) << s;
    std::fprintf(stderr, "restored the regression dump into %s in %.1f s\n",
                 db.c_str(), SecondsSince(start));
  }

  std::string File(const std::string& name) {
    return absl::StrCat(pg_->tmp_dir(), "/", name);
  }

  std::vector<std::string> DumpLines(const std::string& db,
                                     const std::vector<std::string>& args) {
    std::string file = File(absl::StrCat(db, "_", args.empty() ? "all" : args[0].substr(2),
                                         ".sql"));
    absl::Status s = pg_->Dump(db, args, file);
    EXPECT_TRUE(s.ok()) << s;
    return Normalised(ReadFile(file));
  }

  // pgmerge PROD DEV > merged; returns the merged file, or "" (with a
  // failure) when pgmerge refused.
  std::string Merge(const std::string& prod, const std::string& dev,
                    const std::string& name, std::string* report = nullptr) {
    std::string merged = File(name + ".sql");
    std::string report_file = merged + ".json";
    auto start = std::chrono::steady_clock::now();
    absl::StatusOr<CommandResult> r = RunCommand(
        {PGMERGE_BINARY, prod, dev, "--quiet", "--report", report_file}, {}, merged);
    EXPECT_TRUE(r.ok());
    if (!r.ok()) return "";
    EXPECT_EQ(r->exit_code, 0) << r->err;
    if (r->exit_code != 0) return "";
    std::fprintf(stderr, "pgmerge %s: %.1f s\n", name.c_str(), SecondsSince(start));
    if (report != nullptr) *report = ReadFile(report_file);
    return merged;
  }

  TestPostgres* pg_ = nullptr;
};

TEST_F(RegressionDbTest, MergedWithItselfGivesBackTheSameDatabase) {
  RestoreRegression("reg_original");
  std::string merged = Merge(RegressionDump(), RegressionDump(), "reg_self");
  ASSERT_FALSE(merged.empty());
  ASSERT_TRUE(pg_->CreateDatabase("reg_self").ok());
  auto start = std::chrono::steady_clock::now();
  absl::Status s = pg_->Restore("reg_self", merged);
  ASSERT_TRUE(s.ok()) << s;
  std::fprintf(stderr, "restored the merge in %.1f s\n", SecondsSince(start));

  std::string schema = Difference(DumpLines("reg_original", {"--schema-only"}),
                                  DumpLines("reg_self", {"--schema-only"}));
  EXPECT_EQ(schema, "") << "schema differs:\n" << schema;
  // Rows of every table, and every sequence's setval(last_value, is_called).
  std::string data = Difference(DumpLines("reg_original", {"--data-only"}),
                                DumpLines("reg_self", {"--data-only"}));
  EXPECT_EQ(data, "") << "data differs:\n" << data;
  absl::StatusOr<Rows> seqs = pg_->Query("reg_self", R"(
    SELECT count(*) FILTER (WHERE increment_by < 0), count(*) FILTER (WHERE min_value < 0)
    FROM pg_sequences)");
  ASSERT_TRUE(seqs.ok()) << seqs.status();
  EXPECT_GT(std::stoi(*(*seqs)[0][0]), 0);  // Descending sequences were there.
  EXPECT_GT(std::stoi(*(*seqs)[0][1]), 0);
  // verify passes: the dump's own sequences behind explicit keys (kept by
  // the merge at the dump's positions), its NOT VALID constraints and its
  // partitioned indexes never attached are not the merge's doing.
  absl::StatusOr<CommandResult> verified =
      RunCommand({PGMERGE_BINARY, "verify", "--db", pg_->ConnString("reg_self"), "--report",
                  merged + ".json"});
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->exit_code, 0) << verified->err;
  // The same bytes again: the merge is deterministic.
  std::string again = Merge(RegressionDump(), RegressionDump(), "reg_self_again");
  EXPECT_EQ(ReadFile(merged), ReadFile(again));
  // Every form pg_dump writes the database in merges to the same SQL as
  // its COPY form (but for the \restrict key, which follows the inputs):
  // every INSERT form (a table of no column is "DEFAULT VALUES"), and the
  // forms made to restore over a database, whose drops are left out.
  auto without_keys = [](const std::string& file) {
    std::string out;
    for (absl::string_view line : absl::StrSplit(ReadFile(file), '\n')) {
      if (absl::StartsWith(line, "\\restrict ") || absl::StartsWith(line, "\\unrestrict ")) {
        continue;
      }
      absl::StrAppend(&out, line, "\n");
    }
    return out;
  };
  const std::string copy_form = File("reg_copy_form.sql");
  ASSERT_TRUE(pg_->Dump("reg_original", {}, copy_form).ok());
  const std::string want = without_keys(Merge(copy_form, copy_form, "reg_copy_form_merged"));
  const std::vector<std::vector<std::string>> forms = {
      {"--inserts"},
      {"--rows-per-insert=7", "--on-conflict-do-nothing"},
      {"--column-inserts"},
      {"--clean"},
      {"--clean", "--if-exists"}};
  for (size_t i = 0; i < forms.size(); ++i) {
    SCOPED_TRACE(absl::StrJoin(forms[i], " "));
    const std::string dump = File(absl::StrCat("reg_form_", i, ".sql"));
    ASSERT_TRUE(pg_->Dump("reg_original", forms[i], dump).ok());
    std::string formed = Merge(dump, dump, absl::StrCat("reg_form_", i, "_merged"));
    ASSERT_FALSE(formed.empty());
    EXPECT_TRUE(without_keys(formed) == want) << "differs from the COPY form's merge";
  }
  for (const char* db : {"reg_original", "reg_self"}) {
    EXPECT_TRUE(pg_->DropDatabase(db).ok());
  }
}

// What both sides share beyond the regression database: a table keyed by a
// descending identity, as an application forked with it.
constexpr char kSharedHistory[] = R"(
  CREATE TABLE public.pgm_down (
    id integer GENERATED BY DEFAULT AS IDENTITY (START WITH -1 INCREMENT BY -1 MAXVALUE -1)
      PRIMARY KEY,
    what text NOT NULL);
  INSERT INTO public.pgm_down (what) VALUES ('base a'), ('base b');
)";

// Production since the fork: new rows in serial and identity tables. The
// regression suite left transition_table_level1's sequence unused while
// its rows took keys 1..200 explicitly, so the application moved it on
// first (on both sides: the new keys collide).
constexpr char kProdChanges[] = R"(
  SELECT setval('public.transition_table_level1_level1_no_seq',
                (SELECT max(level1_no) FROM public.transition_table_level1));
  INSERT INTO public.transition_table_level1 (level1_node_name)
    SELECT 'prod ' || g FROM generate_series(1, 5) g;
  SELECT setval('public.transition_table_level2_level2_no_seq',
                (SELECT max(level2_no) FROM public.transition_table_level2));
  INSERT INTO public.transition_table_level2 (parent_no, level1_node_name)
    SELECT 1, 'prod child ' || g FROM generate_series(1, 3) g;
  INSERT INTO public.itest1 (b) VALUES ('prod 1'), ('prod 2');
  INSERT INTO public.itest2 (b) VALUES ('prod 1');
  INSERT INTO public.pgm_down (what) VALUES ('prod 1'), ('prod 2'), ('prod 3');
  INSERT INTO public.persons2 VALUES (1000, 'prod person');
)";

// Development: schema changes (added columns with defaults, a new table
// that references old ones) and its own rows, colliding with production's.
constexpr char kDevChanges[] = R"(
  ALTER TABLE public.transition_table_level1 ADD COLUMN note text DEFAULT 'dev note';
  ALTER TABLE public.itest1 ADD COLUMN c integer DEFAULT 7;
  CREATE TABLE public.pgm_notes (
    id serial PRIMARY KEY,
    level1_no integer NOT NULL REFERENCES public.transition_table_level1,
    down_id integer REFERENCES public.pgm_down,
    body text);
  SELECT setval('public.transition_table_level1_level1_no_seq',
                (SELECT max(level1_no) FROM public.transition_table_level1));
  INSERT INTO public.transition_table_level1 (level1_node_name)
    SELECT 'dev ' || g FROM generate_series(1, 4) g;
  INSERT INTO public.itest1 (b) VALUES ('dev 1');
  INSERT INTO public.itest2 (b) VALUES ('dev 1'), ('dev 2');
  INSERT INTO public.pgm_down (what) VALUES ('dev 1'), ('dev 2');
  -- Notes on development's own new rows: they must follow them when their
  -- keys are remapped.
  INSERT INTO public.pgm_notes (level1_no, down_id, body)
    SELECT l.level1_no, d.id, 'note on ' || l.level1_node_name
    FROM public.transition_table_level1 l
    JOIN public.pgm_down d ON d.what = 'dev ' || substr(l.level1_node_name, 5)
    WHERE l.level1_node_name LIKE 'dev %';
  INSERT INTO public.pgm_notes (level1_no, body) VALUES (1, 'note on an old row');
)";

TEST_F(RegressionDbTest, ProductionAndDevelopmentCopiesMerge) {
  RestoreRegression("reg_base");
  RestoreRegression("reg_prod");
  RestoreRegression("reg_dev");
  for (const char* db : {"reg_base", "reg_prod", "reg_dev"}) {
    absl::Status s = pg_->Exec(db, kSharedHistory);
    ASSERT_TRUE(s.ok()) << s;
  }
  absl::Status s = pg_->Exec("reg_prod", kProdChanges);
  ASSERT_TRUE(s.ok()) << s;
  s = pg_->Exec("reg_dev", kDevChanges);
  ASSERT_TRUE(s.ok()) << s;
  std::string prod_dump = File("reg_prod.dump.sql"), dev_dump = File("reg_dev.dump.sql");
  ASSERT_TRUE(pg_->Dump("reg_prod", {}, prod_dump).ok());
  ASSERT_TRUE(pg_->Dump("reg_dev", {}, dev_dump).ok());
  std::string report;
  std::string merged = Merge(prod_dump, dev_dump, "reg_prod_dev", &report);
  ASSERT_FALSE(merged.empty());
  ASSERT_TRUE(pg_->CreateDatabase("reg_shadow").ok());
  s = pg_->Restore("reg_shadow", merged);
  ASSERT_TRUE(s.ok()) << s;

  // Development's schema.
  std::string schema = Difference(DumpLines("reg_dev", {"--schema-only"}),
                                  DumpLines("reg_shadow", {"--schema-only"}));
  EXPECT_EQ(schema, "") << "schema differs from development's:\n" << schema;
  // Every table row by row, and where every foreign key points.
  auto start = std::chrono::steady_clock::now();
  absl::StatusOr<TruthFindings> truth =
      CheckTruth(pg_, "reg_base", "reg_prod", "reg_dev", "reg_shadow", report, TruthOptions());
  ASSERT_TRUE(truth.ok()) << truth.status();
  EXPECT_TRUE(truth->ok()) << truth->Summary();
  std::fprintf(stderr, "truth checker: %.1f s\n", SecondsSince(start));
  absl::StatusOr<CommandResult> verified =
      RunCommand({PGMERGE_BINARY, "verify", "--db", pg_->ConnString("reg_shadow"), "--report",
                  merged + ".json"});
  ASSERT_TRUE(verified.ok());
  EXPECT_EQ(verified->exit_code, 0) << verified->err;

  auto value = [&](const std::string& sql) {
    absl::StatusOr<std::string> v = pg_->QueryValue("reg_shadow", sql);
    EXPECT_TRUE(v.ok()) << v.status();
    return v.ok() ? *v : "";
  };
  // Production's new rows kept their keys; development's colliding ones
  // were given fresh keys after them, and the notes followed.
  EXPECT_EQ(value("SELECT string_agg(level1_no || ':' || level1_node_name || ':' || note, ',' "
                  "ORDER BY level1_no) FROM transition_table_level1 WHERE level1_no > 200"),
            "201:prod 1:dev note,202:prod 2:dev note,203:prod 3:dev note,"
            "204:prod 4:dev note,205:prod 5:dev note,206:dev 1:dev note,"
            "207:dev 2:dev note,208:dev 3:dev note,209:dev 4:dev note");
  EXPECT_EQ(value("SELECT string_agg(n.body || '->' || coalesce(l.level1_node_name, 'null'), ',' ORDER BY n.body) "
                  "FROM pgm_notes n JOIN transition_table_level1 l USING (level1_no)"),
            "note on an old row->null,note on dev 1->dev 1,note on dev 2->dev 2");
  // The descending identity: development's colliding rows went further
  // down, and its notes point at them.
  EXPECT_EQ(value("SELECT string_agg(id || ':' || what, ',' ORDER BY id DESC) FROM pgm_down"),
            "-1:base a,-2:base b,-3:prod 1,-4:prod 2,-5:prod 3,-6:dev 1,-7:dev 2");
  EXPECT_EQ(value("SELECT string_agg(d.what || ':' || n.body, ',' ORDER BY d.what) FROM pgm_notes n "
                  "JOIN pgm_down d ON d.id = n.down_id"),
            "dev 1:note on dev 1,dev 2:note on dev 2");
  // Sequences go on past every key, each its own way.
  EXPECT_EQ(value("SELECT nextval('transition_table_level1_level1_no_seq')"), "210");
  EXPECT_EQ(value("SELECT nextval(pg_get_serial_sequence('pgm_down', 'id'))"), "-8");
  // Identity tables without keys: every row of both sides.
  EXPECT_EQ(value("SELECT string_agg(b || ':' || c, ',' ORDER BY b) FROM itest1 "
                  "WHERE b LIKE 'prod%' OR b LIKE 'dev%'"),
            "dev 1:7,prod 1:7,prod 2:7");
  EXPECT_EQ(value("SELECT count(*) FROM itest2 WHERE b LIKE 'prod%' OR b LIKE 'dev%'"), "3");
  EXPECT_EQ(value("SELECT name FROM persons2 WHERE id = 1000"), "prod person");
  for (const char* db : {"reg_prod", "reg_dev", "reg_shadow"}) {
    EXPECT_TRUE(pg_->DropDatabase(db).ok());
  }
}

}  // namespace
}  // namespace pgmerge::testing
