// --no-owner, --no-privileges (--no-acl) and --role, with pg_restore's
// meaning: a dump whose objects belong to another role, with grants and
// default privileges, restores as a non-superuser application role only
// with them.
#include <unistd.h>

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gtest/gtest.h"
#include "tests/test_postgres.h"

namespace pgmerge::testing {
namespace {

constexpr char kPsql[] = "/usr/lib/postgresql/15/bin/psql";
constexpr char kPgDump[] = "/usr/lib/postgresql/15/bin/pg_dump";

class RestoreAsRoleTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pg_ = SharedTestPostgres();
    ASSERT_NE(pg_, nullptr);
    // Roles are cluster-wide: made once per server (this binary's).
    ASSERT_TRUE(pg_->Exec("postgres",
                          "CREATE ROLE pgm_owner NOLOGIN;"
                          "CREATE ROLE pgm_reader NOLOGIN;"
                          "CREATE ROLE pgm_deploy NOLOGIN;"
                          "CREATE ROLE pgm_app LOGIN IN ROLE pgm_deploy;")
                    .ok());
    ASSERT_TRUE(pg_->CreateDatabase("owned_src").ok());
    // Objects of another role, a grant to a third, default privileges.
    ASSERT_TRUE(pg_->Exec("owned_src",
                          "CREATE SCHEMA shop AUTHORIZATION pgm_owner;"
                          "CREATE TABLE shop.items (id serial PRIMARY KEY, name text);"
                          "INSERT INTO shop.items (name) VALUES ('a'), ('b');"
                          "ALTER TABLE shop.items OWNER TO pgm_owner;"
                          "GRANT SELECT ON shop.items TO pgm_reader;"
                          "REVOKE ALL ON shop.items FROM PUBLIC;"
                          "CREATE FUNCTION shop.f() RETURNS int LANGUAGE sql AS 'SELECT 1';"
                          "ALTER FUNCTION shop.f() OWNER TO pgm_owner;"
                          "ALTER DEFAULT PRIVILEGES FOR ROLE pgm_owner IN SCHEMA shop "
                          "GRANT SELECT ON TABLES TO pgm_reader;")
                    .ok());
    dump_ = Path("owned.sql");
    absl::StatusOr<CommandResult> d =
        RunCommand({kPgDump, "-h", pg_->socket_dir(), "-p", absl::StrCat(pg_->port()), "-U",
                    "postgres", "-d", "owned_src", "-f", dump_});
    ASSERT_TRUE(d.ok() && d->exit_code == 0) << (d.ok() ? d->err : "");
  }
  void TearDown() override {
    for (const char* db : {"owned_src", "owned_plain", "owned_app", "owned_role"}) {
      pg_->DropDatabase(db).IgnoreError();
    }
    pg_->Exec("postgres", "DROP ROLE pgm_app; DROP ROLE pgm_deploy; DROP ROLE pgm_reader;"
                          "DROP ROLE pgm_owner;")
        .IgnoreError();
  }
  std::string Path(const std::string& name) {
    return absl::StrCat(pg_->tmp_dir(), "/", getpid(), "-", name);
  }
  // pgmerge DUMP DUMP [flags] -o FILE: the self-merge keeps every object.
  std::string Merge(const std::string& name, const std::vector<std::string>& flags) {
    std::string out = Path(name);
    std::vector<std::string> argv = {PGMERGE_BINARY, dump_, dump_, "-q", "-o", out};
    argv.insert(argv.end(), flags.begin(), flags.end());
    absl::StatusOr<CommandResult> r = RunCommand(argv);
    EXPECT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->err : "");
    return out;
  }
  // As the app role, as the workflow restores.
  CommandResult RestoreAsApp(const std::string& db, const std::string& sql) {
    absl::StatusOr<CommandResult> r =
        RunCommand({kPsql, "-h", pg_->socket_dir(), "-p", absl::StrCat(pg_->port()), "-U",
                    "pgm_app", "-d", db, "-X", "-q", "-v", "ON_ERROR_STOP=1",
                    "--single-transaction", "-o", "/dev/null", "-f", sql});
    EXPECT_TRUE(r.ok());
    return r.ok() ? *r : CommandResult{};
  }
  std::string Read(const std::string& path) {
    absl::StatusOr<CommandResult> r = RunCommand({"cat", path});
    return r.ok() ? r->out : "";
  }

  TestPostgres* pg_ = nullptr;
  std::string dump_;
};

TEST_F(RestoreAsRoleTest, AppRoleRestoresOnlyWithoutOwnersAndPrivileges) {
  std::string plain = Merge("plain.sql", {});
  ASSERT_TRUE(absl::StrContains(Read(plain), "OWNER TO pgm_owner"));
  ASSERT_TRUE(pg_->Exec("postgres", "CREATE DATABASE owned_plain OWNER pgm_app").ok());
  CommandResult refused = RestoreAsApp("owned_plain", plain);
  EXPECT_NE(refused.exit_code, 0) << "the app role cannot give objects to pgm_owner";
  EXPECT_EQ(pg_->QueryValue("owned_plain",
                            "SELECT count(*) FROM pg_class WHERE relname = 'items'")
                .value_or("?"),
            "0");  // One transaction: nothing committed.

  std::string report = Path("app.json");
  std::string app = Merge("app.sql", {"--no-owner", "--no-acl", "--report", report});
  std::string sql = Read(app);
  EXPECT_FALSE(absl::StrContains(sql, "OWNER TO"));
  EXPECT_FALSE(absl::StrContains(sql, "GRANT "));
  EXPECT_FALSE(absl::StrContains(sql, "REVOKE "));
  EXPECT_FALSE(absl::StrContains(sql, "DEFAULT PRIVILEGES"));
  // The report counts what was left out: the plain merge's statements.
  int owners = 0, privileges = 0;
  for (absl::string_view line : absl::StrSplit(Read(plain), '\n')) {
    if (absl::StartsWith(line, "ALTER ") && absl::StrContains(line, " OWNER TO ")) ++owners;
    if (absl::StartsWith(line, "GRANT ") || absl::StartsWith(line, "REVOKE ") ||
        absl::StartsWith(line, "ALTER DEFAULT PRIVILEGES ")) {
      ++privileges;
    }
  }
  EXPECT_GE(owners, 4);      // Schema, table, sequence, function.
  EXPECT_GE(privileges, 2);  // The grant, the default privileges.
  EXPECT_TRUE(absl::StrContains(Read(report), absl::StrCat("\"owner_statements\": ", owners)))
      << Read(report);
  EXPECT_TRUE(
      absl::StrContains(Read(report), absl::StrCat("\"privilege_statements\": ", privileges)))
      << Read(report);
  ASSERT_TRUE(pg_->Exec("postgres", "CREATE DATABASE owned_app OWNER pgm_app").ok());
  CommandResult ok = RestoreAsApp("owned_app", app);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(pg_->QueryValue("owned_app", "SELECT string_agg(name, ',' ORDER BY id) FROM "
                                         "shop.items")
                .value_or("?"),
            "a,b");
  EXPECT_EQ(pg_->QueryValue("owned_app", "SELECT tableowner FROM pg_tables WHERE "
                                         "tablename = 'items'")
                .value_or("?"),
            "pgm_app");
  EXPECT_EQ(pg_->QueryValue("owned_app", "SELECT relacl IS NULL FROM pg_class WHERE "
                                         "relname = 'items'")
                .value_or("?"),
            "t");
  EXPECT_EQ(pg_->QueryValue("owned_app", "SELECT count(*) FROM pg_default_acl").value_or("?"),
            "0");
}

TEST_F(RestoreAsRoleTest, RoleSetFirst) {
  std::string sql_file = Merge("role.sql", {"-O", "-x", "--role", "pgm_deploy"});
  std::string sql = Read(sql_file);
  size_t set_role = sql.find("SET ROLE pgm_deploy;\n");
  ASSERT_NE(set_role, std::string::npos);
  EXPECT_LT(set_role, sql.find("CREATE"));
  ASSERT_TRUE(pg_->Exec("postgres", "CREATE DATABASE owned_role OWNER pgm_deploy").ok());
  CommandResult ok = RestoreAsApp("owned_role", sql_file);
  ASSERT_EQ(ok.exit_code, 0) << ok.err;
  EXPECT_EQ(pg_->QueryValue("owned_role", "SELECT tableowner FROM pg_tables WHERE "
                                          "tablename = 'items'")
                .value_or("?"),
            "pgm_deploy");
  EXPECT_EQ(pg_->QueryValue("owned_role", "SELECT nspowner::regrole::text FROM "
                                          "pg_namespace WHERE nspname = 'shop'")
                .value_or("?"),
            "pgm_deploy");
}

// pg_dump --use-set-session-authorization gives owners that way instead.
TEST_F(RestoreAsRoleTest, SessionAuthorizationLeftOut) {
  std::string dump = Path("ssa.sql");
  absl::StatusOr<CommandResult> d = RunCommand(
      {kPgDump, "-h", pg_->socket_dir(), "-p", absl::StrCat(pg_->port()), "-U", "postgres",
       "-d", "owned_src", "--use-set-session-authorization", "-f", dump});
  ASSERT_TRUE(d.ok() && d->exit_code == 0);
  ASSERT_TRUE(absl::StrContains(Read(dump), "SET SESSION AUTHORIZATION"));
  std::string out = Path("ssa-merged.sql");
  absl::StatusOr<CommandResult> r =
      RunCommand({PGMERGE_BINARY, dump, dump, "-q", "-O", "-x", "-o", out});
  ASSERT_TRUE(r.ok() && r->exit_code == 0) << (r.ok() ? r->err : "");
  EXPECT_FALSE(absl::StrContains(Read(out), "SESSION AUTHORIZATION"));
  ASSERT_TRUE(pg_->Exec("postgres", "CREATE DATABASE owned_app OWNER pgm_app").ok());
  CommandResult ok = RestoreAsApp("owned_app", out);
  EXPECT_EQ(ok.exit_code, 0) << ok.err;
}

}  // namespace
}  // namespace pgmerge::testing
