// Dumps as an attacker or a broken disk would make them: nothing they hold
// may reach psql unless pg_dump would have written it, and a dump cut short
// is refused. Every refusal: exit 2, "FILE:LINE: ...", nothing on stdout.
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "parser/restrict_key.h"
#include "tests/test_postgres.h"

namespace pgmerge::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)),
                     std::istreambuf_iterator<char>());
}

std::string Write(const std::string& name, const std::string& text) {
  std::string path =
      absl::StrCat(::testing::TempDir(), "/pgmerge-hostile-", getpid(), "-", name);
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

CommandResult Merge(const std::string& prod, const std::string& dev,
                    std::vector<std::string> extra = {}) {
  std::vector<std::string> argv = {PGMERGE_BINARY, prod, dev, "-q"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  absl::StatusOr<CommandResult> r = RunCommand(argv);
  EXPECT_TRUE(r.ok());
  return r.ok() ? *r : CommandResult{};
}

const std::string& Iso() {
  static const std::string* text =
      new std::string(ReadAll(SharedTestdata() + "/iso3166/iso3166.dump.sql"));
  return *text;
}

// Development's dump with `extra` after its first SET statement.
std::string DevWith(const std::string& extra) {
  std::string dev = Iso();
  size_t at = dev.find("SET statement_timeout = 0;\n");
  EXPECT_NE(at, std::string::npos);
  dev.insert(at, extra);
  return dev;
}

void ExpectRefused(const CommandResult& r, const std::string& file,
                   const std::string& what) {
  EXPECT_EQ(r.exit_code, 2) << what << "\n" << r.err;
  EXPECT_TRUE(r.out.empty()) << what << ": " << r.out.size() << " bytes out";
  EXPECT_NE(r.err.find(file + ":"), std::string::npos) << what << "\n" << r.err;
}

TEST(HostileInputTest, ForeignMetaCommandsRefused) {
  std::string prod = Write("prod.sql", Iso());
  const std::vector<std::string> hostile = {
      "\\! touch /tmp/pgmerge-pwned\n",
      "\\o /tmp/pgmerge-out\n",
      "\\copy public.x from '/etc/passwd'\n",
      "\\set ON_ERROR_STOP 0\n",
      "\\c\totherdb\n",
      "\\c\n",
      "\\connect\n",
      "\\connect db `touch /tmp/pgmerge-pwned`\n",
      "\\i /etc/passwd\n",
      "\\g\n",
      "\\gexec\n",
      "\\restrict\n",
      "\\unrestrict nokey\n",
      "SELECT 1; \\! touch /tmp/pgmerge-pwned\n",
      "SELECT 1 \\g\n",
      "SELECT 1\\; SELECT 2;\n",
      "SELECT :'DBNAME';\n",
      "SELECT 'a' \\gset\n",
      "/* c */ \\! id\n",
      "SET standard_conforming_strings = on;\nSELECT 'x\\';\n\\! id\n",
      "SET standard_conforming_strings TO 'False';\nSELECT E'x'; SELECT '\\' \\! id ';\n"
      "SET standard_conforming_strings = on; SELECT 'y\\';\n",
      "SELECT pg_catalog.set_config('standard_conforming_strings', current_user, false);\n",
  };
  for (const std::string& h : hostile) {
    std::string dev = Write("dev.sql", DevWith(h));
    ExpectRefused(Merge(prod, dev), dev, h);
  }
}

// A table created after the first data block: its rows would be written
// before it exists. Refused, not restored half-way; a statement that looks
// like post-data (a CHECK added to one table) before the last table does
// not move the data ahead of the tables either.
TEST(HostileInputTest, TableCreatedAfterTheDataRefused) {
  const std::string example = absl::StrCat(SourceDir(), "/testdata/example/");
  std::string dev = ReadAll(example + "dev.sql");
  const size_t table = dev.find("--\n-- Name: documents; Type: TABLE;");
  const size_t next = dev.find("--\n-- Name:", table + 1);
  ASSERT_NE(table, std::string::npos);
  const std::string block = dev.substr(table, next - table);
  dev.erase(table, next - table);
  const size_t first_copy_end = dev.find("\n\\.\n", dev.find("\nCOPY ")) + 4;
  dev.insert(first_copy_end, "\n" + block);
  const std::string late = Write("late-table.sql", dev);
  CommandResult r = Merge(example + "prod.sql", late);
  ExpectRefused(r, late, "a table after the data");
  EXPECT_NE(r.err.find("CREATE TABLE public.documents comes after the data section starts"),
            std::string::npos)
      << r.err;

  std::string checked = ReadAll(example + "dev.sql");
  checked.insert(checked.find("\n\n", checked.find("CREATE TABLE public.comments (")) + 2,
                 "ALTER TABLE public.comments ADD CONSTRAINT short CHECK (id > 0);\n\n");
  r = Merge(example + "prod.sql", Write("early-check.sql", checked));
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_LT(r.out.find("CREATE TABLE public.documents"), r.out.find("COPY public.documents"));
}

TEST(HostileInputTest, OnlyOwnMetaCommandsInOutput) {
  std::string prod = Write("prod.sql", Iso());
  // Legal, but text that would be a meta-command if lexed the wrong way.
  std::string dev_text = DevWith(
      "SET standard_conforming_strings = on;\n"
      "SELECT 'it\\';\n"
      "SELECT E'\\'\n\\! id\n';\n"
      "SELECT 1 /* /* */ \n\\! id */;\n");
  std::string dev = Write("dev.sql", dev_text);
  CommandResult r = Merge(prod, dev);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n');
  ASSERT_FALSE(lines.empty());
  EXPECT_EQ(lines[0].rfind("\\restrict ", 0), 0u) << lines[0];
  const std::string key = lines[0].substr(10);
  EXPECT_GE(key.size(), 32u);
  EXPECT_NE(r.out.find("\n\\unrestrict " + key + "\n"), std::string::npos);
  // The backslash literal goes out pinned to the setting it was cut by.
  EXPECT_NE(r.out.find("SET standard_conforming_strings = on;\nSELECT 'it\\';"),
            std::string::npos);
  // Deterministic, and the key follows the inputs; --restrict-key is taken.
  CommandResult again = Merge(prod, dev);
  EXPECT_EQ(again.out, r.out);
  CommandResult other = Merge(dev, prod);
  EXPECT_EQ(other.exit_code, 0) << other.err;
  EXPECT_EQ(other.out.find(key), std::string::npos);
  // Nothing of the input's own \restrict survives.
  size_t in_key = dev_text.find("\\restrict ");
  ASSERT_NE(in_key, std::string::npos);
  std::string their_key =
      dev_text.substr(in_key + 10, dev_text.find('\n', in_key) - in_key - 10);
  EXPECT_EQ(r.out.find(their_key), std::string::npos);
}

// A row that would lift psql's restriction if a bug ever let it out of its
// COPY block. Rows go into the key by their length only, so its author
// could foresee the key of a file with no such row; a row holding
// \unrestrict makes the key a hash of every byte of both inputs.
TEST(HostileInputTest, RowHoldingUnrestrictHashedIntoTheKey) {
  const std::string prod = Write("prod.sql", Iso());
  auto dev_with = [](const std::string& value) {
    std::string dev = Iso();
    const size_t at = dev.find("\n\\.\n", dev.find("COPY public.subcountry")) + 1;
    dev.insert(at, "GB\tZZ\t" + value + "\t\\N\n");
    return dev;
  };
  auto key_of = [](const CommandResult& r) {
    return r.out.substr(10, r.out.find('\n') - 10);
  };
  const std::string lift = "\\\\unrestrict ";  // As COPY writes \unrestrict.
  const size_t width = lift.size() + 43;
  const std::string plain_text = dev_with(std::string(width, 'x'));
  CommandResult plain = Merge(prod, Write("dev-plain.sql", plain_text));
  ASSERT_EQ(plain.exit_code, 0) << plain.err;
  const std::string foreseen = key_of(plain);
  ASSERT_EQ(foreseen.size(), 43u);
  EXPECT_NE(foreseen, parser::DeriveRestrictKey({Iso(), plain_text}));  // Rows searched.
  // The word alone is text, not a command.
  const std::string word = "an unrestricted ";
  CommandResult text =
      Merge(prod, Write("dev-word.sql", dev_with(word + std::string(width - word.size(), 'x'))));
  EXPECT_EQ(key_of(text), foreseen);
  const std::string attack_text = dev_with(lift + foreseen);
  CommandResult attacked = Merge(prod, Write("dev-attack.sql", attack_text));
  ASSERT_EQ(attacked.exit_code, 0) << attacked.err;
  EXPECT_NE(attacked.out.find("\nGB\tZZ\t" + lift + foreseen + "\t"), std::string::npos);
  EXPECT_NE(key_of(attacked), foreseen);
  EXPECT_EQ(key_of(attacked), parser::DeriveRestrictKey({Iso(), attack_text}));
  EXPECT_EQ(attacked.out.find("\nGB\tZZ\t" + lift + key_of(attacked)), std::string::npos);
  // In the base dump of a three-way merge too: all three inputs hashed whole.
  const std::string dev_plain = Write("dev-same.sql", Iso());
  CommandResult three = Merge(prod, dev_plain, {"--base", Write("base-attack.sql", attack_text)});
  ASSERT_EQ(three.exit_code, 0) << three.err;
  EXPECT_EQ(key_of(three), parser::DeriveRestrictKey({Iso(), Iso(), attack_text}));
  // Restored, the row is data, as written.
  TestPostgres* pg = SharedTestPostgres();
  ASSERT_NE(pg, nullptr);
  const std::string out = absl::StrCat(pg->tmp_dir(), "/hostile_unrestrict.out.sql");
  std::ofstream(out, std::ios::binary) << attacked.out;
  ASSERT_TRUE(pg->CreateDatabase("hostile_unrestrict").ok());
  const absl::Status restored = pg->Restore("hostile_unrestrict", out);
  ASSERT_TRUE(restored.ok()) << restored;
  absl::StatusOr<std::string> value =
      pg->QueryValue("hostile_unrestrict",
                     "SELECT subdivision FROM public.subcountry WHERE subcountry_name = 'ZZ'");
  ASSERT_TRUE(value.ok()) << value.status();
  EXPECT_EQ(*value, "\\unrestrict " + foreseen);
}

// What the key's scheme rests on (parser/restrict_key.h): psql lifts its
// restriction only on a backslash right before the lower-case name, so a
// row without "\unrestrict" in any case cannot hold the command.
TEST(HostileInputTest, PsqlLiftsOnlyOnItsOwnCommandName) {
  TestPostgres* pg = SharedTestPostgres();
  ASSERT_NE(pg, nullptr);
  auto lifts = [&](const std::string& line) {
    return pg->Exec("postgres", "\\restrict abc\n" + line + "\n\\echo lifted\n").ok();
  };
  EXPECT_TRUE(lifts("\\unrestrict abc"));
  EXPECT_TRUE(lifts("SELECT 1 \\unrestrict\t'abc'"));  // The key may be quoted.
  for (const std::string& not_it :
       {"\\UNRESTRICT abc", "\\Unrestrict abc", "\\ unrestrict abc", "\\unrestrict'abc'",
        "\\unrestrict abd", "SELECT 'x' \\\\unrestrict abc"}) {
    EXPECT_FALSE(lifts(not_it)) << not_it;
  }
}

// What pg_dump really writes for SQL-standard bodies whose words psql counts.
TEST(HostileInputTest, PgDumpRoutineBodiesAccepted) {
  TestPostgres* pg = SharedTestPostgres();
  ASSERT_NE(pg, nullptr);
  ASSERT_TRUE(pg->CreateDatabase("hostile_routines").ok());
  ASSERT_TRUE(pg->Exec("hostile_routines",
                       "CREATE TABLE t (id int PRIMARY KEY);\n"
                       "INSERT INTO t VALUES (1), (2);\n"
                       "CREATE FUNCTION add_one(begin integer) RETURNS integer "
                       "LANGUAGE sql RETURN begin + 1;\n"
                       "CREATE FUNCTION sgn(x integer) RETURNS integer LANGUAGE sql "
                       "BEGIN ATOMIC SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END; END;\n")
                  .ok());
  std::string dump = absl::StrCat(pg->tmp_dir(), "/hostile_routines.sql");
  ASSERT_TRUE(pg->Dump("hostile_routines", {}, dump).ok());
  ASSERT_NE(ReadAll(dump).find("add_one(begin integer)"), std::string::npos);
  CommandResult r = Merge(dump, dump);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("add_one(begin integer)"), std::string::npos);
  // And the output restores.
  std::string out = absl::StrCat(pg->tmp_dir(), "/hostile_routines.out.sql");
  std::ofstream(out, std::ios::binary) << r.out;
  ASSERT_TRUE(pg->CreateDatabase("hostile_routines_shadow").ok());
  absl::Status st = pg->Restore("hostile_routines_shadow", out);
  EXPECT_TRUE(st.ok()) << st;
}

TEST(HostileInputTest, DeepExpressionRefusedNotCrashed) {
  std::string prod = Write("prod.sql", Iso());
  std::string sum = "1";
  for (int i = 1; i < 30000; ++i) sum += "+1";
  std::string dev = Write(
      "dev.sql",
      DevWith(absl::StrCat("CREATE TABLE public.deep (id integer DEFAULT (", sum,
                           "));\n")));
  CommandResult r = Merge(prod, dev);
  ExpectRefused(r, dev, "deep");
  EXPECT_NE(r.err.find("nested"), std::string::npos) << r.err;
}

TEST(HostileInputTest, EveryCutOfARealDumpRefused) {
  const std::string whole = ReadAll(SharedTestdata() + "/chinook/chinook.dump.sql");
  ASSERT_FALSE(whole.empty());
  std::string good = Write("whole.sql", whole);
  std::mt19937_64 rng(13);
  int refused = 0;
  const int kCuts = 30;
  for (int i = 0; i < kCuts; ++i) {
    // Cut anywhere; and at line ends too, where a cut looks cleanest.
    size_t cut = rng() % whole.size();
    if (i % 2 == 1) cut = whole.rfind('\n', cut) + 1;
    std::string part = Write("cut.sql", whole.substr(0, cut));
    for (bool prod_side : {true, false}) {
      CommandResult r = prod_side ? Merge(part, good) : Merge(good, part);
      ExpectRefused(r, part, absl::StrCat("cut at ", cut));
      if (r.exit_code == 2 && r.out.empty()) ++refused;
    }
  }
  // The last cuts: the trailer's line and the \unrestrict after it.
  size_t trailer = whole.rfind("-- PostgreSQL database dump complete");
  size_t unrestrict = whole.rfind("\\unrestrict ");
  for (size_t cut : {trailer, trailer + 20, unrestrict, unrestrict + 14}) {
    std::string part = Write("cut.sql", whole.substr(0, cut));
    ExpectRefused(Merge(good, part), part, absl::StrCat("cut at ", cut));
  }
  EXPECT_EQ(refused, 2 * kCuts);
  CommandResult ok = Merge(good, good);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

}  // namespace
}  // namespace pgmerge::testing
