// Stored generated columns in every data form pg_dump writes: COPY and
// --column-inserts leave them out, --inserts and --rows-per-insert write
// DEFAULT in their place (issue #12). Each form merges two-way and
// three-way, restores with the generated values recomputed, and a DEFAULT
// anywhere else is refused. Against a real PostgreSQL 15.
#include <algorithm>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/merge_fixture.h"

namespace pgmerge::testing {
namespace {

class GeneratedInsertsTest : public MergeFixture {};

// A serial key beside two generated columns, and a composite key and a
// unique key that hold a generated column.
constexpr char kBase[] = R"(
  CREATE TABLE items (id serial PRIMARY KEY, qty int NOT NULL, price int,
                      total int GENERATED ALWAYS AS (qty * price) STORED,
                      label text,
                      shout text GENERATED ALWAYS AS (upper(label)) STORED);
  CREATE TABLE pairs (a int NOT NULL, b int GENERATED ALWAYS AS (a * 10) STORED,
                      c text, PRIMARY KEY (a, b), UNIQUE (c, b));
  INSERT INTO items (qty, price, label) VALUES (1, 2, 'one'), (3, 4, NULL), (5, 6, 'it''s');
  INSERT INTO pairs (a, c) VALUES (1, 'x'), (2, 'y'), (3, NULL);)";
constexpr char kProd[] = R"(
  INSERT INTO items (qty, price, label) VALUES (7, 8, 'prod');
  UPDATE items SET qty = 9 WHERE id = 1;
  INSERT INTO pairs (a, c) VALUES (4, 'prod');)";
constexpr char kDev[] = R"(
  INSERT INTO items (qty, price, label) VALUES (10, 11, 'dev'), (12, NULL, 'dev2');
  INSERT INTO pairs (a, c) VALUES (5, 'dev');)";

TEST_F(GeneratedInsertsTest, EveryDumpFormMergesTwoAndThreeWay) {
  const std::string base = MakeDb("base", {kBase});
  const std::string prod = MakeDb("prod", {kBase, kProd});
  const std::string dev = MakeDb("dev", {kBase, kDev});
  const std::vector<std::vector<std::string>> forms = {
      {}, {"--inserts"}, {"--column-inserts"}, {"--rows-per-insert=3"}};
  for (const std::vector<std::string>& form : forms) {
    SCOPED_TRACE(form.empty() ? "COPY" : form[0]);
    const std::string base_dump = DumpDb(base, form);
    const std::string prod_dump = DumpDb(prod, form);
    const std::string dev_dump = DumpDb(dev, form);
    if (form == std::vector<std::string>{"--inserts"}) {
      ASSERT_NE(ReadFile(prod_dump).find("VALUES (1, 9, 2, DEFAULT, 'one', DEFAULT);"),
                std::string::npos);
    }
    for (bool three_way : {false, true}) {
      SCOPED_TRACE(three_way ? "three-way" : "two-way");
      std::vector<std::string> extra;
      if (three_way) extra = {"--base", base_dump};
      // The rows are checked below (keys holding generated columns).
      MergeRun run = RunMerge(prod_dump, dev_dump, extra);
      ASSERT_EQ(run.exit_code, 0) << run.err;
      last_shadow_ = Name("shadow");
      ASSERT_TRUE(pg_->CreateDatabase(last_shadow_).ok());
      absl::Status restored = pg_->Restore(last_shadow_, run.sql_file);
      ASSERT_TRUE(restored.ok()) << restored;
      // Output gives the generated columns no value: the server computed them.
      const std::string sql = ReadFile(run.sql_file);
      EXPECT_EQ(sql.find(", DEFAULT"), std::string::npos);
      EXPECT_EQ(sql.find("INSERT INTO"), std::string::npos);
      EXPECT_NE(sql.find("COPY public.items (id, qty, price, label) FROM stdin;"),
                std::string::npos);
      MergeRun again = RunMerge(prod_dump, dev_dump, extra);
      EXPECT_EQ(ReadFile(again.sql_file), sql);
      absl::StatusOr<CommandResult> v =
          RunCommand({PGMERGE_BINARY, "verify", "--db", pg_->ConnString(last_shadow_),
                      "--report", run.sql_file + ".json"});
      ASSERT_TRUE(v.ok());
      EXPECT_EQ(v->exit_code, 0) << v->out << v->err;
      absl::StatusOr<Rows> items = pg_->Query(
          last_shadow_,
          "SELECT id, qty, price, total, label, shout FROM items ORDER BY id");
      ASSERT_TRUE(items.ok()) << items.status();
      auto row = [](std::vector<Cell> r) { return r; };
      Rows want = {
          row({"1", "9", "2", "18", "one", "ONE"}),
          row({"2", "3", "4", "12", std::nullopt, std::nullopt}),
          row({"3", "5", "6", "30", "it's", "IT'S"}),
          row({"4", "7", "8", "56", "prod", "PROD"}),
          // Dev's 4 collided with prod's 4: remapped past it.
          row({"5", "12", std::nullopt, std::nullopt, "dev2", "DEV2"}),
          row({"6", "10", "11", "110", "dev", "DEV"}),
      };
      // Which of dev's two rows takes which fresh key is the merge's
      // choice; compare as a set of contents.
      ASSERT_EQ(items->size(), want.size());
      std::vector<std::string> got_text, want_text;
      for (size_t i = 0; i < want.size(); ++i) {
        std::string g, w;
        for (size_t c = 1; c < want[i].size(); ++c) {
          absl::StrAppend(&g, (*items)[i][c].value_or("NULL"), "|");
          absl::StrAppend(&w, want[i][c].value_or("NULL"), "|");
        }
        got_text.push_back(g);
        want_text.push_back(w);
      }
      std::sort(got_text.begin(), got_text.end());
      std::sort(want_text.begin(), want_text.end());
      EXPECT_EQ(got_text, want_text);
      absl::StatusOr<std::string> pairs = pg_->QueryValue(
          last_shadow_,
          "SELECT string_agg(a || ':' || b || ':' || coalesce(c, 'NULL'), ',' "
          "ORDER BY a) FROM pairs");
      ASSERT_TRUE(pairs.ok()) << pairs.status();
      EXPECT_EQ(*pairs, "1:10:x,2:20:y,3:30:NULL,4:40:prod,5:50:dev");
    }
  }
}

TEST_F(GeneratedInsertsTest, DefaultOutsideAGeneratedColumnIsRefused) {
  const std::string db = MakeDb("db", {kBase});
  const std::string good = ReadFile(DumpDb(db, {"--inserts"}));
  const std::string dev = DumpDb(db, {});
  auto refused = [&](const std::string& from, const std::string& to,
                     const std::string& message) {
    SCOPED_TRACE(to);
    std::string bad = good;
    size_t at = bad.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    bad.replace(at, from.size(), to);
    const int64_t line = 1 + std::count(bad.begin(), bad.begin() + at, '\n');
    std::string file = absl::StrCat(pg_->tmp_dir(), "/", Name("bad"), ".sql");
    std::ofstream(file, std::ios::binary) << bad;
    MergeRun run = RunMerge(file, dev);
    EXPECT_EQ(run.exit_code, 2) << run.err;
    EXPECT_EQ(ReadFile(run.sql_file), "");
    EXPECT_NE(run.err.find(absl::StrCat(file, ":", line, ": ")), std::string::npos)
        << run.err;
    EXPECT_NE(run.err.find(message), std::string::npos) << run.err;
  };
  // DEFAULT for an ordinary column.
  refused("VALUES (1, 1, 2, DEFAULT, 'one', DEFAULT);",
          "VALUES (1, DEFAULT, 2, DEFAULT, 'one', DEFAULT);",
          "has DEFAULT for column qty, which is not a generated column");
  // A value where pg_dump writes DEFAULT.
  refused("VALUES (1, 1, 2, DEFAULT, 'one', DEFAULT);",
          "VALUES (1, 1, 2, 2, 'one', DEFAULT);",
          "has no DEFAULT for generated column total");
  // DEFAULT in another position than the table's earlier rows.
  refused("VALUES (2, 3, 4, DEFAULT, NULL, DEFAULT);",
          "VALUES (2, 3, 4, DEFAULT, DEFAULT, NULL);",
          "has DEFAULT in values 4, 5, its earlier rows in values 4, 6");
  // DEFAULT with a column list: --column-inserts leaves the column out.
  refused("INSERT INTO public.pairs VALUES (1, DEFAULT, 'x');",
          "INSERT INTO public.pairs (a, b, c) VALUES (1, DEFAULT, 'x');",
          "names its columns and has DEFAULT in value 2");
  // Not a whole value.
  refused("VALUES (1, 1, 2, DEFAULT, 'one', DEFAULT);",
          "VALUES (1, 1, 2, DEFAULT + 1, 'one', DEFAULT);",
          "INSERT is not of the form pg_dump writes");
}

}  // namespace
}  // namespace pgmerge::testing
