#include "swap/restore_target.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/strings.h"
#include "swap/db_properties.h"
#include "swap/pg.h"
#include "swap/restore_sql.h"

namespace pgmerge::swap::internal {

absl::StatusOr<Target> InspectTarget(PGconn* c) {
  Target t;
  // Whether a failed run can put the target back: drop it, create it.
  absl::StatusOr<std::string> can = QueryValue(
      c,
      "SELECT r.rolsuper OR (r.rolcreatedb AND pg_has_role(d.datdba, 'MEMBER')) "
      "FROM pg_roles r, pg_database d WHERE r.rolname = current_user "
      "AND d.datname = current_database()");
  if (!can.ok()) return can.status();
  absl::StatusOr<std::string> name = QueryValue(c, "SELECT current_database()");
  if (!name.ok()) return name.status();
  t.name = *name;
  if (*can != "t") {
    return absl::FailedPreconditionError(absl::StrCat(
        "--into ", t.name, ": the role must own the database and have CREATEDB (or be a "
        "superuser), so that a failed run can drop it and create it again empty"));
  }
  absl::StatusOr<Result> there = Exec(c, R"sql(
    SELECT what FROM (
      SELECT 'schema ' || quote_ident(nspname) AS what FROM pg_namespace
        WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\_%'
      UNION ALL SELECT 'relation ' || c.oid::regclass::text FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
      UNION ALL SELECT 'function ' || p.oid::regprocedure::text FROM pg_proc p
        JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
      UNION ALL SELECT 'type ' || t.oid::regtype::text FROM pg_type t
        JOIN pg_namespace n ON n.oid = t.typnamespace
        WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_%'
          AND t.typtype IN ('b', 'd', 'e', 'r') AND t.typcategory <> 'A'
      UNION ALL SELECT 'extension ' || quote_ident(extname) FROM pg_extension
        WHERE extname <> 'plpgsql'
      UNION ALL SELECT 'large object ' || oid FROM pg_largeobject_metadata
    ) x ORDER BY 1 LIMIT 6)sql");
  if (!there.ok()) return there.status();
  if (PQntuples(there->get()) > 0) {
    std::vector<std::string> what;
    for (int i = 0; i < PQntuples(there->get()) && i < 5; ++i) {
      what.push_back(PQgetvalue(there->get(), i, 0));
    }
    if (PQntuples(there->get()) > 5) what.push_back("...");
    return absl::FailedPreconditionError(absl::StrCat(
        "--into ", t.name, " is not empty (", absl::StrJoin(what, ", "),
        "): pgmerge restores only into an empty database; nothing was changed"));
  }
  // The database as it is, to create it again the same after a failure.
  const bool v15 = PQserverVersion(c) >= 150000;
  absl::StatusOr<Result> d = Exec(
      c, absl::StrCat(
             "SELECT pg_get_userbyid(d.datdba), pg_encoding_to_char(d.encoding), d.datcollate, "
             "d.datctype, d.datconnlimit, t.spcname, ",
             v15 ? "d.datlocprovider::text, coalesce(d.daticulocale, '')" : "'c', ''",
             " FROM pg_database d JOIN pg_tablespace t ON t.oid = d.dattablespace "
             "WHERE d.datname = current_database()"));
  if (!d.ok()) return d.status();
  auto v = [&](int col) { return std::string(PQgetvalue(d->get(), 0, col)); };
  t.create_sql = absl::StrCat(
      "CREATE DATABASE ", Ident(c, t.name), " OWNER ", Ident(c, v(0)),
      " TEMPLATE template0 ENCODING ", Literal(c, v(1)), " LC_COLLATE ",
      Literal(c, v(2)), " LC_CTYPE ", Literal(c, v(3)),
      " CONNECTION LIMIT ", v(4), " TABLESPACE ", Ident(c, v(5)));
  if (v15) {
    absl::StrAppend(&t.create_sql, " LOCALE_PROVIDER ", v(6) == "i" ? "icu" : "libc");
    if (v(6) == "i") absl::StrAppend(&t.create_sql, " ICU_LOCALE ", Literal(c, v(7)));
  }
  // Its privileges, settings and comment, put back after CREATE DATABASE.
  absl::StatusOr<DatabaseProperties> properties = ReadDatabaseProperties(c, t.name);
  if (!properties.ok()) return properties.status();
  t.properties = *std::move(properties);
  return t;
}

absl::Status RecreateTarget(const std::string& conninfo, const Target& target) {
  absl::StatusOr<Conn> m = Connect(conninfo, "postgres");
  if (!m.ok()) m = Connect(conninfo, "template1");
  absl::Status s = m.status();
  if (s.ok()) {
    s = Run(m->get(), absl::StrCat("DROP DATABASE ", Ident(m->get(), target.name),
                                   " WITH (FORCE)"));
  }
  if (s.ok()) s = Run(m->get(), target.create_sql);
  absl::StatusOr<DatabaseProperties> made =
      s.ok() ? ReadDatabaseProperties(m->get(), target.name)
             : absl::StatusOr<DatabaseProperties>(s);
  if (!made.ok()) s = made.status();
  if (s.ok()) {
    for (const std::string& sql : PropertiesSql(m->get(), target.name, *made, target.properties)) {
      if (s.ok()) s = Run(m->get(), sql);
    }
  }
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat(
        "the restore into ", target.name, " failed and it could not be dropped and created "
        "again (", s.message(), "): it is half-restored; drop it before any use"));
  }
  return absl::OkStatus();
}

}  // namespace pgmerge::swap::internal
