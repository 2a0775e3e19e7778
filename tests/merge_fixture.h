// A fixture for tests that build production and development databases in
// a real PostgreSQL, dump them, merge, restore, and check the shadow.
#ifndef PGMERGE_TESTS_MERGE_FIXTURE_H_
#define PGMERGE_TESTS_MERGE_FIXTURE_H_

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "base/strings.h"
#include "parser/names.h"
#include "gtest/gtest.h"
#include "tests/test_postgres.h"
#include "tests/truth_checker.h"

namespace pgmerge::testing {

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class MergeFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    pg_ = SharedTestPostgres();
    ASSERT_NE(pg_, nullptr);
  }

  std::string Name(std::string_view what) {
    return absl::StrCat(::testing::UnitTest::GetInstance()->current_test_info()->name(),
                        "_", AsAbsl(what), "_", counter_++);
  }

  // A fresh database holding `scripts` run in order.
  std::string MakeDb(std::string_view what, const std::vector<std::string>& scripts) {
    std::string db = Name(what);
    EXPECT_TRUE(pg_->CreateDatabase(db).ok());
    for (const std::string& s : scripts) {
      absl::Status st = pg_->Exec(db, s);
      EXPECT_TRUE(st.ok()) << st;
    }
    return db;
  }

  std::string DumpDb(const std::string& db, const std::vector<std::string>& args) {
    std::string file = absl::StrCat(pg_->tmp_dir(), "/", db, Name("dump"), ".sql");
    absl::Status st = pg_->Dump(db, args, file);
    EXPECT_TRUE(st.ok()) << st;
    return file;
  }

  struct MergeRun {
    int exit_code = -1;
    std::string sql_file, report, err;
  };

  MergeRun RunMerge(const std::string& prod, const std::string& dev,
                    std::vector<std::string> extra = {}) {
    MergeRun run;
    run.sql_file = absl::StrCat(pg_->tmp_dir(), "/", Name("merged"), ".sql");
    std::string report_file = run.sql_file + ".json";
    std::vector<std::string> argv = {PGMERGE_BINARY, prod, dev, "--report",
                                     report_file};
    argv.insert(argv.end(), extra.begin(), extra.end());
    absl::StatusOr<CommandResult> r = RunCommand(argv, {}, run.sql_file);
    EXPECT_TRUE(r.ok());
    run.exit_code = r->exit_code;
    run.err = r->err;
    run.report = ReadFile(report_file);
    return run;
  }

  // Merges, restores into a fresh shadow and checks it against the truth
  // decided from base, production and development (tests/truth_checker.h;
  // the options follow the merge's flags); deterministic output too.
  void MergeAndCheckTruth(const std::string& base_db, const std::string& prod_db,
                          const std::string& dev_db, const std::string& prod_dump,
                          const std::string& dev_dump, std::vector<std::string> extra = {}) {
    MergeAndCheckWith(prod_dump, dev_dump, extra, [&](const MergeRun& run) {
      absl::StatusOr<TruthFindings> f = CheckTruth(pg_, base_db, prod_db, dev_db, last_shadow_,
                                                   run.report, TruthOptionsOf(extra));
      ASSERT_TRUE(f.ok()) << f.status();
      EXPECT_TRUE(f->ok()) << f->Summary() << "\n" << run.err;
    });
  }

  // Merges, restores into a fresh shadow (last_shadow_), runs `check`, and
  // expects the same bytes from a second run.
  template <typename CheckFn>
  void MergeAndCheckWith(const std::string& prod_dump, const std::string& dev_dump,
                         const std::vector<std::string>& extra, CheckFn check) {
    MergeRun run = RunMerge(prod_dump, dev_dump, extra);
    ASSERT_EQ(run.exit_code, 0) << run.err;
    last_shadow_ = Name("shadow");
    ASSERT_TRUE(pg_->CreateDatabase(last_shadow_).ok());
    absl::Status restored = pg_->Restore(last_shadow_, run.sql_file);
    ASSERT_TRUE(restored.ok()) << restored;
    last_report_ = run.report;
    check(run);
    MergeRun again = RunMerge(prod_dump, dev_dump, extra);
    EXPECT_EQ(ReadFile(run.sql_file), ReadFile(again.sql_file));
    EXPECT_EQ(run.report, again.report);
  }

  static TruthOptions TruthOptionsOf(const std::vector<std::string>& extra) {
    TruthOptions options;
    for (size_t i = 0; i < extra.size(); ++i) {
      if (extra[i] == "--base") options.three_way = true;
      if (extra[i] == "--keep-prod-objects") options.keep_prod_objects = true;
      if (i + 1 >= extra.size()) continue;
      const std::string& arg = extra[i + 1];
      size_t eq = arg.find('=');
      if (extra[i] == "--prefer") options.prefer_dev = arg == "dev";
      if (extra[i] == "--fill") options.fill[arg.substr(0, eq)] = arg.substr(eq + 1);
      if (extra[i] == "--rename-table") {
        options.renamed_tables[TableOf(arg.substr(0, eq))] = TableOf(arg.substr(eq + 1));
      }
      if (extra[i] == "--rename") {  // TABLE.OLD=NEW
        size_t dot = arg.rfind('.', eq);
        options.renamed_columns[absl::StrCat(TableOf(arg.substr(0, dot)), ".",
                                             arg.substr(dot + 1, eq - dot - 1))] =
            arg.substr(eq + 1);
      }
    }
    return options;
  }
  // "table" or "schema.table" as the report spells it.
  static std::string TableOf(std::string_view flag) {
    parser::TableName name;
    return parser::ConsumeTableName(&flag, &name) ? name.Display() : std::string(flag);
  }

  TestPostgres* pg_ = nullptr;
  int counter_ = 0;
  std::string last_report_;
  std::string last_shadow_;
};

}  // namespace pgmerge::testing

#endif  // PGMERGE_TESTS_MERGE_FIXTURE_H_
