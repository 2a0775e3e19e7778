// Schema evolution without silent loss: production's rows fitted to
// development's schema, every misfit caught before a byte of SQL is written.
// Each case builds prod and dev in a real PostgreSQL, dumps both, merges,
// and either restores and checks the rows, or checks the exact error and
// that nothing was written.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/merge_fixture.h"

namespace pgmerge::testing {
namespace {

class SchemaTest : public MergeFixture {
 protected:
  // base_db_ = base (what both sides forked from, for the truth checker);
  // prod = base + prod_sql; dev = base + dev_sql; both dumped.
  void Build(const std::string& base, const std::string& prod_sql,
             const std::string& dev_sql) {
    base_db_ = MakeDb("base", {base});
    prod_db_ = MakeDb("prod", {base, prod_sql});
    dev_db_ = MakeDb("dev", {base, dev_sql});
    prod_dump_ = DumpDb(prod_db_, {});
    dev_dump_ = DumpDb(dev_db_, {});
  }
  // Expects a refusal: exit 2, each of `messages` in stderr, no SQL.
  void ExpectRefused(const std::vector<std::string>& messages,
                     std::vector<std::string> extra = {}) {
    std::vector<std::string> argv = {PGMERGE_BINARY, prod_dump_, dev_dump_};
    argv.insert(argv.end(), extra.begin(), extra.end());
    absl::StatusOr<CommandResult> r = RunCommand(argv);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->exit_code, 2) << r->err;
    EXPECT_EQ(r->out, "");
    for (const std::string& m : messages) {
      EXPECT_NE(r->err.find(m), std::string::npos) << "missing: " << m << "\nin: " << r->err;
    }
  }
  std::string Value(const std::string& sql) {
    absl::StatusOr<std::string> v = pg_->QueryValue(last_shadow_, sql);
    return v.ok() ? *v : v.status().ToString();
  }

  std::string base_db_, prod_db_, dev_db_, prod_dump_, dev_dump_;
};

constexpr char kBase[] = R"SQL(
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE people (id serial PRIMARY KEY, name text, age int, code varchar(10),
                     price numeric(8,2), feeling mood, note text DEFAULT 'none');
INSERT INTO people (name, age, code, price, feeling, note) VALUES
  ('ann', 30, 'A1', 10.50, 'ok', 'none'), ('bob', 40, 'B2', 20.00, 'happy', 'vip');
)SQL";

TEST_F(SchemaTest, AddedColumnsTakeDefaultNullOrFill) {
  Build(kBase, "INSERT INTO people (name) VALUES ('pam');",
        "ALTER TABLE people ADD COLUMN country text DEFAULT 'NL';"
        "ALTER TABLE people ADD COLUMN nickname text;"
        "ALTER TABLE people ADD COLUMN tier int NOT NULL DEFAULT 0;");
  MergeAndCheckTruth(base_db_, prod_db_, dev_db_, prod_dump_, dev_dump_);
  EXPECT_EQ(Value("SELECT country FROM people WHERE name = 'pam'"), "NL");
  EXPECT_EQ(Value("SELECT nickname IS NULL FROM people WHERE name = 'pam'"), "t");
  EXPECT_EQ(Value("SELECT tier FROM people WHERE name = 'pam'"), "0");
}

TEST_F(SchemaTest, NotNullWithoutDefaultNeedsFill) {
  Build(kBase, "", "ALTER TABLE people ADD COLUMN email text;"
                   "UPDATE people SET email = name || '@x';"
                   "ALTER TABLE people ALTER COLUMN email SET NOT NULL;");
  ExpectRefused({"column public.people.email is new in development, NOT NULL without a "
                 "default, and production has 2 rows",
                 "hint: --fill public.people.email=VALUE"});
  MergeAndCheckTruth(base_db_, prod_db_, dev_db_, prod_dump_, dev_dump_,
                {"--fill", "people.email=unknown@example.org"});
  EXPECT_EQ(Value("SELECT count(*) FROM people WHERE email = 'unknown@example.org'"), "2");
}

TEST_F(SchemaTest, DroppedColumnCountedAndStrictRefuses) {
  Build(kBase, "INSERT INTO people (name, note) VALUES ('pam', 'gold');",
        "ALTER TABLE people DROP COLUMN note;");
  MergeAndCheckTruth(base_db_, prod_db_, dev_db_, prod_dump_, dev_dump_);
  // note: 3 prod values lost, 2 of them not the default 'none'.
  EXPECT_NE(last_report_.find(R"("column": "note",)"), std::string::npos) << last_report_;
  EXPECT_NE(last_report_.find(R"("non_default": 2)"), std::string::npos) << last_report_;
  ExpectRefused({"development drops public.people.note, losing 2 production values "
                 "that are not its default (--strict)"},
                {"--strict"});
}

TEST_F(SchemaTest, RenamedColumnCarriedWithRename) {
  Build(kBase, "INSERT INTO people (name) VALUES ('pam');",
        "ALTER TABLE people RENAME COLUMN name TO full_name;");
  // Without --rename the values would be lost: the report says which
  // rename looks likely, and --strict refuses.
  MergeAndCheckTruth(base_db_, prod_db_, dev_db_, prod_dump_, dev_dump_);
  EXPECT_NE(last_report_.find("--rename public.people.name=full_name"), std::string::npos)
      << last_report_;
  ExpectRefused({"losing 3 production values"}, {"--strict"});
  MergeAndCheckTruth(base_db_, prod_db_, dev_db_, prod_dump_, dev_dump_,
                {"--rename", "people.name=full_name", "--strict"});
  EXPECT_EQ(Value("SELECT count(*) FROM people WHERE full_name IN ('ann', 'bob', 'pam')"), "3");
}

TEST_F(SchemaTest, NarrowerTypesCheckedBeforeOutput) {
  Build(kBase, "INSERT INTO people (name, age, code, price) VALUES ('big', 40000, 'LONGCODE', 123456.78);",
        "ALTER TABLE people ALTER COLUMN age TYPE smallint;"
        "ALTER TABLE people ALTER COLUMN code TYPE varchar(4);"
        "ALTER TABLE people ALTER COLUMN price TYPE numeric(6,2);");
  ExpectRefused({"public.people.age = 40000 does not fit development's smallint",
                 "public.people.code = LONGCODE does not fit development's character varying(4)",
                 "public.people.price = 123456.78 does not fit development's numeric(6,2)"});
  // The report of a refused merge lists the offending rows.
  std::string report = absl::StrCat(pg_->tmp_dir(), "/refused.json");
  absl::StatusOr<CommandResult> r =
      RunCommand({PGMERGE_BINARY, prod_dump_, dev_dump_, "--report", report});
  EXPECT_EQ(r->exit_code, 2);
  std::string text = ReadFile(report);
  EXPECT_NE(text.find(R"("refused": true)"), std::string::npos) << text;
  EXPECT_NE(text.find("public.people.age = 40000 does not fit"), std::string::npos) << text;
}

TEST_F(SchemaTest, WidenedTypesPass) {
  Build(kBase, "INSERT INTO people (name, age) VALUES ('pam', 50);",
        "ALTER TABLE people ALTER COLUMN age TYPE bigint;"
        "ALTER TABLE people ALTER COLUMN code TYPE varchar(40);");
  MergeAndCheckTruth(base_db_, prod_db_, dev_db_, prod_dump_, dev_dump_);
  EXPECT_NE(last_report_.find("integer -> bigint: every value checked"), std::string::npos);
}

// Types development changed so that PostgreSQL writes production's values
// as other text once restored, in a way pgmerge does not compute
// (timestamp -> timestamptz: in the restoring session's zone): the manifest
// leaves those columns out, so verify passes on the restore, and keeps the
// ones whose text stays or that it computes (numeric(8,2) -> (10,4)).
// Production's timestamps are compared as UTC: base rows stay one row.
TEST_F(SchemaTest, RetypedColumnsLeftOutOfTheManifest) {
  Build(kBase +
            std::string("ALTER TABLE people ADD COLUMN seen timestamp DEFAULT '2020-01-01 10:00';"),
        "INSERT INTO people (name, age, price) VALUES ('pam', 50, 1.5);",
        "ALTER TABLE people ALTER COLUMN price TYPE numeric(10,4);"
        "SET TimeZone = 'UTC'; ALTER TABLE people ALTER COLUMN seen TYPE timestamptz;"
        "ALTER TABLE people ALTER COLUMN age TYPE bigint;"
        "ALTER TABLE people ALTER COLUMN code TYPE text;");
  MergeAndCheckWith(prod_dump_, dev_dump_, {}, [&](const MergeRun& run) {
    absl::StatusOr<CommandResult> v = RunCommand(
        {PGMERGE_BINARY, "verify", "--db", pg_->ConnString(last_shadow_), "--report",
         run.sql_file + ".json"});
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->exit_code, 0) << v->err;
    EXPECT_EQ(Value("SELECT price FROM people WHERE name = 'pam' ORDER BY id LIMIT 1"),
              "1.5000");
    nlohmann::json report = nlohmann::json::parse(run.report);
    EXPECT_EQ(report["tables"][0]["manifest"]["output"]["columns"],
              nlohmann::json({"id", "name", "age", "code", "price", "feeling", "note"}));
    EXPECT_NE(run.err.find("timestamp without time zone -> timestamp with time zone "
                           "(production's values compared as UTC; restored, read in the "
                           "session's time zone: verify does not compare the column)"),
              std::string::npos)
        << run.err;
    // Development's migration ran in UTC: its base rows are production's.
    EXPECT_EQ(Value("SELECT string_agg(name, ',' ORDER BY name) FROM people"), "ann,bob,pam");
    EXPECT_EQ(report["tables"][0]["counts"]["base"], 2) << run.err;
  });
}

// numeric(8,2) -> numeric(10,4) alone: production's 10.50 is compared as
// the 10.5000 development's dump holds, so the base rows both hold stay
// one row each, and the column stays in the manifest.
TEST_F(SchemaTest, RescaledNumericComparedAtItsScale) {
  Build(kBase, "INSERT INTO people (name, age, price) VALUES ('pam', 50, 1.5);",
        "ALTER TABLE people ALTER COLUMN price TYPE numeric(10,4);"
        "INSERT INTO people (name, price) VALUES ('dan', 2.12345);");
  // (The truth checker compares text across the type change: checked here.)
  MergeAndCheckWith(prod_dump_, dev_dump_, {}, [&](const MergeRun& run) {
    EXPECT_EQ(Value("SELECT string_agg(name || '=' || price, ',' ORDER BY name) FROM people"),
              "ann=10.5000,bob=20.0000,dan=2.1235,pam=1.5000");
    nlohmann::json report = nlohmann::json::parse(run.report);
    EXPECT_EQ(report["tables"][0]["counts"]["base"], 2) << run.err;
    EXPECT_EQ(report["tables"][0]["manifest"]["output"]["columns"][4], "price");
    absl::StatusOr<CommandResult> v = RunCommand(
        {PGMERGE_BINARY, "verify", "--db", pg_->ConnString(last_shadow_), "--report",
         run.sql_file + ".json"});
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->exit_code, 0) << v->err;
  });
}

// json -> jsonb: production's {"b": 1,  "a": [1.50, 2e1]} is compared as
// jsonb writes it, {"a": [1.50, 20], "b": 1}, so the base rows stay one row
// each, and the column stays in the manifest.
TEST_F(SchemaTest, JsonMadeJsonbComparedAsJsonbWritesIt) {
  const std::string base =
      std::string(kBase) +
      "CREATE TABLE docs (id serial PRIMARY KEY, body json);"
      R"(INSERT INTO docs (body) VALUES ('{"b": 1,  "a": [1.50, 2e1]}'), )"
      R"(('{"k":"tab\there \u00e9","k":"last"}'), ('[ ]'), (NULL);)";
  Build(base, R"(INSERT INTO docs (body) VALUES ('{"prod": true}');)",
        "ALTER TABLE docs ALTER COLUMN body TYPE jsonb;"
        R"(INSERT INTO docs (body) VALUES ('{"dev": 1}');)");
  MergeAndCheckWith(prod_dump_, dev_dump_, {}, [&](const MergeRun& run) {
    EXPECT_EQ(Value("SELECT string_agg(coalesce(body::text, 'NULL'), ' | ' ORDER BY id) "
                    "FROM docs"),
              R"({"a": [1.50, 20], "b": 1} | {"k": "last"} | [] | NULL | {"prod": true} | )"
              R"({"dev": 1})");
    nlohmann::json report = nlohmann::json::parse(run.report);
    for (const auto& t : report["tables"]) {
      if (t["table"] != "public.docs") continue;
      EXPECT_EQ(t["counts"]["base"], 4) << run.err;
      EXPECT_EQ(t["manifest"]["output"]["columns"], nlohmann::json({"id", "body"}));
    }
    absl::StatusOr<CommandResult> v = RunCommand(
        {PGMERGE_BINARY, "verify", "--db", pg_->ConnString(last_shadow_), "--report",
         run.sql_file + ".json"});
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->exit_code, 0) << v->err;
  });
}

TEST_F(SchemaTest, EnumLabelRemoved) {
  Build(kBase, "INSERT INTO people (name, feeling) VALUES ('pam', 'sad');",
        // Development dropped the label 'sad'.
        "ALTER TYPE mood RENAME TO mood_old;"
        "CREATE TYPE mood AS ENUM ('ok', 'happy');"
        "ALTER TABLE people ALTER COLUMN feeling TYPE mood USING feeling::text::mood;"
        "DROP TYPE mood_old;");
  ExpectRefused({"public.people.feeling = sad does not fit development's public.mood"});
}

TEST_F(SchemaTest, NewConstraintsProdBreaks) {
  Build(kBase, "INSERT INTO people (name, code) VALUES (NULL, 'A1');",
        "DELETE FROM people WHERE name IS NULL;"
        "ALTER TABLE people ALTER COLUMN name SET NOT NULL;"
        "ALTER TABLE people ADD CONSTRAINT people_code_key UNIQUE (code);");
  ExpectRefused({"public.people.name = \\N does not fit development's NOT NULL",
                 "public.people has two rows with the same values for development's "
                 "unique key people_code_key"});
}

TEST_F(SchemaTest, DroppedAndRenamedTables) {
  std::string base = std::string(kBase) + "CREATE TABLE logs (at text); INSERT INTO logs VALUES ('x');";
  Build(base, "INSERT INTO logs VALUES ('y');", "ALTER TABLE logs RENAME TO events;");
  ExpectRefused({"table public.logs has 2 rows in production but development's schema drops it",
                 "--rename-table public.logs=NEW", "--allow-drop public.logs"});
  MergeAndCheckTruth(base_db_, prod_db_, dev_db_, prod_dump_, dev_dump_, {"--rename-table", "logs=events"});
  EXPECT_EQ(Value("SELECT count(*) FROM events"), "2");  // x once, and y.
}

TEST_F(SchemaTest, DryRunWritesNoSql) {
  Build(kBase, "INSERT INTO people (name) VALUES ('pam');",
        "INSERT INTO people (name) VALUES ('dan');");
  std::string report = absl::StrCat(pg_->tmp_dir(), "/dry.json");
  absl::StatusOr<CommandResult> r =
      RunCommand({PGMERGE_BINARY, prod_dump_, dev_dump_, "--dry-run", "--report", report});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_EQ(r->out, "");
  EXPECT_NE(r->err.find("public.people"), std::string::npos);
  EXPECT_NE(ReadFile(report).find(R"("remapped": 1)"), std::string::npos);
}

TEST_F(SchemaTest, NewCheckConstraintProdBreaks) {
  Build(kBase, "INSERT INTO people (name, age) VALUES ('old', 130);",
        "DELETE FROM people WHERE age > 120;"
        "ALTER TABLE people ADD CONSTRAINT people_age_check CHECK (age >= 0 AND age <= 120);"
        "ALTER TABLE people ADD CONSTRAINT people_name_check CHECK (length(name) > 1);");
  ExpectRefused({"public.people.age = 130 does not fit development's CHECK people_age_check"});
  // A CHECK pgmerge cannot evaluate is named as a restore risk.
  std::string prod2 = MakeDb("prod2", {kBase});
  prod_dump_ = DumpDb(prod2, {});
  MergeAndCheckTruth(base_db_, prod2, dev_db_, prod_dump_, dev_dump_);
  EXPECT_NE(last_report_.find("CHECK people_name_check: pgmerge cannot evaluate it"),
            std::string::npos);
}

TEST_F(SchemaTest, PartialUniqueIndexChecksOnlyCoveredRows) {
  const std::string base =
      "CREATE TABLE accounts (id serial PRIMARY KEY, email text, deleted_at text);"
      "INSERT INTO accounts (email, deleted_at) VALUES ('a@x', '2024'), ('a@x', NULL);";
  const std::string dev =
      "CREATE UNIQUE INDEX accounts_live_email ON accounts (email) WHERE deleted_at IS NULL;";
  // Two rows share an email, but one is deleted: the index allows it.
  Build(base, "INSERT INTO accounts (email) VALUES ('b@x');", dev);
  MergeAndCheckTruth(base_db_, prod_db_, dev_db_, prod_dump_, dev_dump_);
  // Two live rows share one: refused before output.
  Build(base, "INSERT INTO accounts (email) VALUES ('a@x');", dev);
  ExpectRefused({"public.accounts has two rows with the same values for development's "
                 "unique key accounts_live_email"});
}

TEST_F(SchemaTest, DomainChangeIsARestoreRisk) {
  Build(kBase, "", "CREATE DOMAIN positive AS int CHECK (VALUE > 0);"
                   "ALTER TABLE people ALTER COLUMN age TYPE positive;");
  MergeAndCheckTruth(base_db_, prod_db_, dev_db_, prod_dump_, dev_dump_);
  EXPECT_NE(last_report_.find("integer -> public.positive: pgmerge cannot check the values"),
            std::string::npos)
      << last_report_;
}

TEST_F(SchemaTest, NewForeignKeyProdBreaks) {
  Build("CREATE TABLE users (id serial PRIMARY KEY, name text);"
        "CREATE TABLE orders (id serial PRIMARY KEY, user_id int);"
        "INSERT INTO users (name) VALUES ('ann');"
        "INSERT INTO orders (user_id) VALUES (1);",
        "INSERT INTO orders (user_id) VALUES (999);",
        "ALTER TABLE orders ADD CONSTRAINT orders_user_fkey FOREIGN KEY (user_id) "
        "REFERENCES users (id);");
  ExpectRefused({"public.orders.user_id points at no row of public.users, and "
                 "development adds the foreign key orders_user_fkey"});
}

TEST_F(SchemaTest, ProdOnlyObjectsAreListed) {
  Build(kBase,
        // A hotfix in production: an index and a function dev never had.
        "CREATE INDEX people_age_idx ON people (age);"
        "CREATE FUNCTION hotfix() RETURNS int LANGUAGE sql AS 'SELECT 1';",
        "INSERT INTO people (name) VALUES ('dan');");
  MergeAndCheckTruth(base_db_, prod_db_, dev_db_, prod_dump_, dev_dump_);
  EXPECT_NE(last_report_.find(R"("name": "people_age_idx")"), std::string::npos);
  EXPECT_NE(last_report_.find(R"x("name": "hotfix()")x"), std::string::npos);
  MergeRun run = RunMerge(prod_dump_, dev_dump_);
  EXPECT_NE(run.err.find("INDEX public.people_age_idx"), std::string::npos) << run.err;
  // --keep-prod-objects brings them along.
  MergeAndCheckTruth(base_db_, prod_db_, dev_db_, prod_dump_, dev_dump_, {"--keep-prod-objects"});
  EXPECT_EQ(Value("SELECT count(*) FROM pg_indexes WHERE indexname = 'people_age_idx'"), "1");
  EXPECT_EQ(Value("SELECT hotfix()"), "1");
}

// Development dumped with --quote-all-identifiers: its headers name
// functions as _f("text", integer), production's as _f(text, integer).
// They are one object: none is production-only, and --keep-prod-objects
// does not create a function development's schema already does.
TEST_F(SchemaTest, QuotedIdentifiersNameTheSameObjects) {
  const std::string both = std::string(kBase) +
                           "CREATE FUNCTION shout(t text, n integer) RETURNS text LANGUAGE sql "
                           "AS 'SELECT upper(t)';"
                           "CREATE AGGREGATE \"user\"(text) (sfunc = textcat, stype = text);";
  Build(both, "INSERT INTO people (name) VALUES ('pam');",
        "INSERT INTO people (name) VALUES ('dan');");
  dev_dump_ = DumpDb(dev_db_, {"--quote-all-identifiers"});
  ASSERT_NE(ReadFile(dev_dump_).find(R"(shout("text", integer))"), std::string::npos);
  MergeAndCheckTruth(base_db_, prod_db_, dev_db_, prod_dump_, dev_dump_, {"--keep-prod-objects"});
  EXPECT_NE(last_report_.find(R"("prod_only_objects": [])"), std::string::npos) << last_report_;
  EXPECT_EQ(Value("SELECT shout('a', 1)"), "A");
}

// --keep-prod-objects with renames: a production-only object naming a
// renamed table or column under its old name would fail the restore (or bind
// to whatever now has the old name), so it is left out and reported; the
// others are kept, and the rows are still the truth.
TEST_F(SchemaTest, KeptProdObjectsNamingRenamedTablesOrColumnsAreLeftOut) {
  std::string base = std::string(kBase) + "CREATE TABLE logs (at text); INSERT INTO logs VALUES ('x');";
  Build(base,
        "CREATE INDEX people_age_idx ON people (age);"
        "CREATE INDEX people_name_idx ON people (name);"
        "CREATE INDEX logs_at_idx ON logs (at);",
        "ALTER TABLE people RENAME COLUMN name TO full_name; ALTER TABLE logs RENAME TO events;");
  const std::vector<std::string> flags = {"--keep-prod-objects", "--rename", "people.name=full_name",
                                          "--rename-table", "logs=events"};
  MergeAndCheckWith(prod_dump_, dev_dump_, flags, [&](const MergeRun& run) {
    absl::StatusOr<TruthFindings> f = CheckTruth(pg_, base_db_, prod_db_, dev_db_, last_shadow_,
                                                 run.report, TruthOptionsOf(flags));
    ASSERT_TRUE(f.ok()) << f.status();
    // The rows are the truth; only the two left-out indexes differ from
    // "development's schema plus production's objects".
    EXPECT_TRUE(f->lost.empty() && f->invented.empty() && f->repointed.empty() &&
                f->changed.empty() && f->report.empty())
        << f->Summary();
    EXPECT_NE(run.report.find(R"("left_out": "names column people.name, renamed full_name")"),
              std::string::npos) << run.report;
    EXPECT_NE(run.report.find(R"("left_out": "names table logs, renamed events")"),
              std::string::npos) << run.report;
    EXPECT_NE(run.err.find("people_name_idx (left out: names column"), std::string::npos) << run.err;
  });
  EXPECT_EQ(Value("SELECT count(*) FROM pg_indexes WHERE indexname = 'people_age_idx'"), "1");
  EXPECT_EQ(Value("SELECT count(*) FROM pg_indexes WHERE indexname IN "
                  "('people_name_idx', 'logs_at_idx')"), "0");
}

// Quoted mixed-case names, several schemas, generated and identity columns,
// inherited tables: all merged and checked row by row.
TEST_F(SchemaTest, NamesSchemasGeneratedIdentityInheritance) {
  const std::string base = R"SQL(
    CREATE SCHEMA "Sales";
    CREATE TABLE "Sales"."Order Line" ("Id" int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                                       "Qty" int, "Total" int GENERATED ALWAYS AS ("Qty" * 2) STORED);
    CREATE TABLE public.notes ("Id" serial PRIMARY KEY,
                               line_id int REFERENCES "Sales"."Order Line" ("Id"), body text);
    CREATE TABLE public.animals (id serial PRIMARY KEY, name text);
    CREATE TABLE public.dogs (breed text) INHERITS (public.animals);
    INSERT INTO "Sales"."Order Line" ("Qty") VALUES (1), (2);
    INSERT INTO public.notes (line_id, body) VALUES (1, 'first');
    INSERT INTO public.dogs (name, breed) VALUES ('rex', 'lab');
  )SQL";
  Build(base,
        R"SQL(INSERT INTO "Sales"."Order Line" ("Qty") VALUES (30);
              INSERT INTO public.notes (line_id, body) VALUES (3, 'prod note');
              INSERT INTO public.dogs (name, breed) VALUES ('prod dog', 'pug');)SQL",
        R"SQL(INSERT INTO "Sales"."Order Line" ("Qty") VALUES (40), (41);
              INSERT INTO public.notes (line_id, body) VALUES (3, 'dev note'), (4, 'dev note 2');
              INSERT INTO public.animals (name) VALUES ('dev cat');)SQL");
  MergeAndCheckTruth(base_db_, prod_db_, dev_db_, prod_dump_, dev_dump_);
  EXPECT_EQ(Value(R"(SELECT "Total" FROM "Sales"."Order Line" l JOIN notes n ON n.line_id = l."Id"
                     WHERE n.body = 'dev note')"),
            "80");
  EXPECT_EQ(Value(R"(SELECT count(*) FROM "Sales"."Order Line")"), "5");
}

}  // namespace
}  // namespace pgmerge::testing
