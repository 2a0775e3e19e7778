#include "swap/db_properties.h"

#include <algorithm>
#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/strings.h"
#include "swap/pg.h"

namespace pgmerge::swap::internal {
namespace {

// pg_dump's variable_is_guc_list_quote: settings whose stored value is a
// list of (double-quoted where needed) elements.
bool IsListSetting(std::string_view name) {
  for (std::string_view n : {"local_preload_libraries", "search_path", "session_preload_libraries",
                             "shared_preload_libraries", "temp_tablespaces",
                             "unix_socket_directories"}) {
    if (EqualsIgnoreCase(name, n)) return true;
  }
  return false;
}

// The elements of a stored list value: split at commas outside double
// quotes, each trimmed and unquoted ("" inside quotes is one ").
std::vector<std::string> SplitList(std::string_view v) {
  std::vector<std::string> out;
  std::string cur;
  bool quoted = false, any = false;
  for (size_t i = 0; i < v.size(); ++i) {
    const char c = v[i];
    if (quoted) {
      if (c == '"' && i + 1 < v.size() && v[i + 1] == '"') {
        cur.push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        cur.push_back(c);
      }
    } else if (c == '"') {
      quoted = any = true;
    } else if (c == ',') {
      out.push_back(std::string(StripAsciiWhitespace(cur)));
      cur.clear();
    } else {
      cur.push_back(c);
      any = true;
    }
  }
  if (any || !out.empty()) out.push_back(std::string(StripAsciiWhitespace(cur)));
  return out;
}

std::vector<std::string> Column(PGconn* conn, const std::string& sql,
                                absl::Status* status) {
  std::vector<std::string> out;
  absl::StatusOr<Result> r = Exec(conn, sql);
  if (!r.ok()) {
    *status = r.status();
    return out;
  }
  for (int i = 0; i < PQntuples(r->get()); ++i) out.push_back(PQgetvalue(r->get(), i, 0));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::string SetClause(PGconn* conn, const std::string& setting) {
  const size_t eq = setting.find('=');
  const std::string name = setting.substr(0, eq);
  const std::string_view value =
      eq == std::string::npos ? std::string_view() : std::string_view(setting).substr(eq + 1);
  std::string out = absl::StrCat(" SET ", Ident(conn, name), " = ");
  if (!IsListSetting(name)) return absl::StrCat(out, Literal(conn, value));
  std::vector<std::string> parts;
  for (const std::string& e : SplitList(value)) parts.push_back(Literal(conn, e));
  return absl::StrCat(out, parts.empty() ? "''" : absl::StrJoin(parts, ", "));
}

absl::StatusOr<DatabaseProperties> ReadDatabaseProperties(PGconn* conn, const std::string& db) {
  const std::string where = absl::StrCat(" WHERE d.datname = ", Literal(conn, db));
  const bool v15 = PQserverVersion(conn) >= 150000;
  absl::StatusOr<Result> d = Exec(
      conn, absl::StrCat("SELECT pg_get_userbyid(d.datdba), d.datconnlimit::text, "
                         "shobj_description(d.oid, 'pg_database') IS NOT NULL, "
                         "coalesce(shobj_description(d.oid, 'pg_database'), ''), "
                         "concat_ws(' ', pg_encoding_to_char(d.encoding), d.datcollate, "
                         "d.datctype, ",
                         v15 ? "d.datlocprovider::text, coalesce(d.daticulocale, '')" : "'c', ''",
                         "), (SELECT spcname FROM pg_tablespace WHERE oid = d.dattablespace) "
                         "FROM pg_database d",
                         where));
  if (!d.ok()) return d.status();
  if (PQntuples(d->get()) != 1) {
    return absl::NotFoundError(absl::StrCat("database ", db, " does not exist"));
  }
  DatabaseProperties p;
  p.owner = PQgetvalue(d->get(), 0, 0);
  p.connection_limit = PQgetvalue(d->get(), 0, 1);
  p.has_comment = PQgetvalue(d->get(), 0, 2)[0] == 't';
  p.comment = PQgetvalue(d->get(), 0, 3);
  p.locale = PQgetvalue(d->get(), 0, 4);
  p.tablespace = PQgetvalue(d->get(), 0, 5);
  absl::Status s;
  // Effective privileges: acldefault when none were ever granted.
  p.privileges = Column(
      conn,
      absl::StrCat("SELECT concat_ws(' ', CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE "
                   "quote_ident(pg_get_userbyid(a.grantee)) END, a.privilege_type, "
                   "a.is_grantable) FROM pg_database d, "
                   "aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a",
                   where),
      &s);
  if (!s.ok()) return s;
  p.settings = Column(
      conn,
      absl::StrCat("SELECT CASE WHEN r.setrole = 0 THEN '' ELSE pg_get_userbyid(r.setrole) END "
                   "|| E'\\t' || c FROM pg_db_role_setting r JOIN pg_database d ON "
                   "d.oid = r.setdatabase, unnest(r.setconfig) c",
                   where),
      &s);
  if (!s.ok()) return s;
  return p;
}

std::vector<std::string> PropertiesSql(PGconn* conn, const std::string& db,
                                       const DatabaseProperties& now,
                                       const DatabaseProperties& want) {
  std::vector<std::string> sql;
  const std::string ident = Ident(conn, db);
  if (want.owner != now.owner) {
    sql.push_back(absl::StrCat("ALTER DATABASE ", ident, " OWNER TO ", Ident(conn, want.owner)));
  }
  if (want.connection_limit != now.connection_limit) {
    sql.push_back(
        absl::StrCat("ALTER DATABASE ", ident, " CONNECTION LIMIT ", want.connection_limit));
  }
  if (want.privileges != now.privileges || want.owner != now.owner) {
    std::vector<std::string> from;
    for (const std::string& line : now.privileges) {
      std::string grantee = line.substr(0, line.find(' '));
      if (std::find(from.begin(), from.end(), grantee) == from.end()) from.push_back(grantee);
    }
    for (const std::string& g : from) {
      sql.push_back(absl::StrCat("REVOKE ALL ON DATABASE ", ident, " FROM ", g));
    }
    for (const std::string& line : want.privileges) {
      std::vector<std::string> f = absl::StrSplit(line, ' ');
      if (f.size() != 3) continue;
      sql.push_back(absl::StrCat("GRANT ", f[1], " ON DATABASE ", ident, " TO ", f[0],
                                 f[2] == "true" ? " WITH GRANT OPTION" : ""));
    }
  }
  if (want.settings != now.settings) {
    std::vector<std::string> roles;
    for (const std::string& line : now.settings) {
      std::string role = line.substr(0, line.find('\t'));
      if (std::find(roles.begin(), roles.end(), role) == roles.end()) roles.push_back(role);
    }
    for (const std::string& role : roles) {
      sql.push_back(role.empty() ? absl::StrCat("ALTER DATABASE ", ident, " RESET ALL")
                                 : absl::StrCat("ALTER ROLE ", Ident(conn, role),
                                                " IN DATABASE ", ident, " RESET ALL"));
    }
    for (const std::string& line : want.settings) {
      const size_t tab = line.find('\t');
      const std::string role = line.substr(0, tab);
      const std::string set = SetClause(conn, line.substr(tab + 1));
      sql.push_back(role.empty() ? absl::StrCat("ALTER DATABASE ", ident, set)
                                 : absl::StrCat("ALTER ROLE ", Ident(conn, role),
                                                " IN DATABASE ", ident, set));
    }
  }
  if (want.has_comment != now.has_comment || want.comment != now.comment) {
    sql.push_back(absl::StrCat("COMMENT ON DATABASE ", ident, " IS ",
                               want.has_comment ? Literal(conn, want.comment) : "NULL"));
  }
  return sql;
}

}  // namespace pgmerge::swap::internal
