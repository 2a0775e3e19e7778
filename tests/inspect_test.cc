// `pgmerge inspect` against the live catalog: every shared sample dump is
// restored into a real PostgreSQL, and the tables, keys, foreign keys,
// sequences and row counts inspect reports must equal what pg_catalog and
// count(*) say, for the shared dump and for dumps made here in each form.
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "gtest/gtest.h"
#include "parser/names.h"
#include "tests/test_postgres.h"

namespace pgmerge::testing {
namespace {

using Json = nlohmann::json;

struct TableFacts {
  int64_t rows = 0;
  std::vector<std::string> pk;
  std::set<std::string> fks;  // "cols->table(cols)"
};

// What the live database says.
std::map<std::string, TableFacts> LiveFacts(TestPostgres* pg, const std::string& db,
                                            std::map<std::string, std::string>* seqs) {
  std::map<std::string, TableFacts> out;
  absl::StatusOr<Rows> tables = pg->Query(db, R"(
    SELECT c.oid, n.nspname, c.relname, c.relkind FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg_toast%')");
  EXPECT_TRUE(tables.ok()) << tables.status();
  if (!tables.ok()) return out;
  for (const auto& t : *tables) {
    std::string name = parser::TableName{*t[1], *t[2]}.Display();
    TableFacts f;
    absl::StatusOr<std::string> n = pg->QueryValue(
        db, absl::StrCat("SELECT count(*) FROM ONLY ",
                         parser::QuoteIdentifierAlways(*t[1]), ".",
                         parser::QuoteIdentifierAlways(*t[2])));
    f.rows = n.ok() ? std::stoll(*n) : -1;
    absl::StatusOr<Rows> pk = pg->Query(db, absl::StrCat(R"(
      SELECT a.attname FROM pg_constraint co,
        unnest(co.conkey) WITH ORDINALITY k(attnum, ord)
      JOIN pg_attribute a ON a.attnum = k.attnum
      WHERE co.contype = 'p' AND co.conrelid = )", *t[0], " AND a.attrelid = ", *t[0],
                                                    " ORDER BY k.ord"));
    for (const auto& r : *pk) f.pk.push_back(*r[0]);
    // Foreign keys the dump declares (not the clones partitions inherit).
    absl::StatusOr<Rows> fks = pg->Query(db, absl::StrCat(R"(
      SELECT (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                FROM unnest(co.conkey) WITH ORDINALITY k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = co.conrelid AND a.attnum = k.attnum),
             fn.nspname, fc.relname,
             (SELECT string_agg(a.attname, ',' ORDER BY k.ord)
                FROM unnest(co.confkey) WITH ORDINALITY k(attnum, ord)
                JOIN pg_attribute a ON a.attrelid = co.confrelid AND a.attnum = k.attnum)
      FROM pg_constraint co JOIN pg_class fc ON fc.oid = co.confrelid
      JOIN pg_namespace fn ON fn.oid = fc.relnamespace
      WHERE co.contype = 'f' AND co.conparentid = 0 AND co.conrelid = )", *t[0]));
    for (const auto& r : *fks) {
      f.fks.insert(absl::StrCat(*r[0], "->",
                                parser::TableName{*r[1], *r[2]}.Display(), "(", *r[3], ")"));
    }
    out[name] = std::move(f);
  }
  absl::StatusOr<Rows> s = pg->Query(db, R"(
    SELECT schemaname, sequencename, coalesce(last_value::text, 'null') FROM pg_sequences
    WHERE schemaname NOT IN ('pg_catalog', 'information_schema'))");
  for (const auto& r : *s) {
    (*seqs)[parser::TableName{*r[0], *r[1]}.Display()] = *r[2];
  }
  return out;
}

// What `pgmerge inspect --json` says.
std::map<std::string, TableFacts> InspectFacts(const std::string& dump,
                                               std::map<std::string, std::string>* seqs) {
  std::map<std::string, TableFacts> out;
  absl::StatusOr<CommandResult> r = RunCommand({PGMERGE_BINARY, "inspect", dump, "--json"});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  Json j = Json::parse(r->out, nullptr, false);
  EXPECT_FALSE(j.is_discarded());
  if (j.is_discarded()) return out;
  for (const Json& t : j["tables"]) {
    TableFacts f;
    f.rows = t["rows"].get<int64_t>();
    if (!t["primary_key"].is_null()) {
      f.pk = t["primary_key"]["columns"].get<std::vector<std::string>>();
    }
    for (const Json& fk : t["foreign_keys"]) {
      std::vector<std::string> ref = fk["ref_columns"].get<std::vector<std::string>>();
      f.fks.insert(absl::StrCat(absl::StrJoin(fk["columns"].get<std::vector<std::string>>(), ","),
                                "->", fk["references"].get<std::string>(), "(",
                                absl::StrJoin(ref, ","), ")"));
    }
    out[t["name"].get<std::string>()] = std::move(f);
  }
  for (const Json& s : j["sequences"]) {
    (*seqs)[s["name"].get<std::string>()] =
        s["last_value"].is_null() || !s["is_called"].get<bool>()
            ? "null"
            : std::to_string(s["last_value"].get<int64_t>());
  }
  return out;
}

void ExpectSame(const std::map<std::string, TableFacts>& live,
                const std::map<std::string, TableFacts>& inspected) {
  ASSERT_EQ(live.size(), inspected.size());
  for (const auto& [name, f] : live) {
    auto it = inspected.find(name);
    ASSERT_NE(it, inspected.end()) << name;
    EXPECT_EQ(f.rows, it->second.rows) << name;
    EXPECT_EQ(f.pk, it->second.pk) << name;
    EXPECT_EQ(f.fks, it->second.fks) << name;
  }
}

class InspectTest : public ::testing::TestWithParam<std::string> {};

TEST_P(InspectTest, MatchesLiveCatalogInEveryDumpForm) {
  TestPostgres* pg = SharedTestPostgres();
  ASSERT_NE(pg, nullptr);
  std::string path = absl::StrCat(SharedTestdata(), "/", GetParam());
  std::string db = "inspect_" + std::to_string(
      std::hash<std::string>()(GetParam()) % 1000000);
  ASSERT_TRUE(pg->CreateDatabase(db).ok());
  absl::Status restored = pg->Restore(db, path);
  ASSERT_TRUE(restored.ok()) << restored;
  std::map<std::string, std::string> live_seqs;
  std::map<std::string, TableFacts> live = LiveFacts(pg, db, &live_seqs);
  std::map<std::string, std::string> seqs;
  ExpectSame(live, InspectFacts(path, &seqs));
  EXPECT_EQ(live_seqs, seqs);
  const std::vector<std::vector<std::string>> forms = {
      {}, {"--inserts"}, {"--column-inserts"}, {"--rows-per-insert=50"}};
  for (const auto& form : forms) {
    SCOPED_TRACE(form.empty() ? "COPY" : form[0]);
    std::string dump = absl::StrCat(pg->tmp_dir(), "/", db, form.size(), ".sql");
    ASSERT_TRUE(pg->Dump(db, form, dump).ok());
    std::map<std::string, std::string> s;
    ExpectSame(live, InspectFacts(dump, &s));
    EXPECT_EQ(live_seqs, s);
  }
  ASSERT_TRUE(pg->DropDatabase(db).ok());
}

INSTANTIATE_TEST_SUITE_P(
    SharedDumps, InspectTest,
    ::testing::Values("chinook/chinook.dump.sql",
                      "chinook/chinook_auto_increment.dump.sql",
                      "chinook/chinook_serial.dump.sql",
                      "chinook/chinook_serial.column-inserts.dump.sql",
                      "french_towns/french_towns.dump.sql",
                      "iso3166/iso3166.dump.sql", "northwind/northwind.dump.sql",
                      "northwind/northwind.inserts.dump.sql",
                      "pagila/pagila.dump.sql", "pagila/pagila.inserts100.dump.sql"),
    [](const ::testing::TestParamInfo<std::string>& info) {
      std::string name = info.param.substr(info.param.find('/') + 1);
      for (char& c : name) {
        if (!isalnum(static_cast<unsigned char>(c))) c = '_';
      }
      return name;
    });

}  // namespace
}  // namespace pgmerge::testing
