#include "swap/pg.h"

#include "absl/strings/str_cat.h"
#include "base/row_hash.h"
#include "base/strings.h"
#include "parser/names.h"
#include "swap/secrets.h"

namespace pgmerge::swap::internal {

absl::StatusOr<Conn> Connect(const std::string& conninfo, const std::string& dbname) {
  // The first dbname is expanded as a conninfo string or URI; a later one
  // overrides the database it names and keeps everything else.
  std::vector<std::pair<std::string, std::string>> params = {{"dbname", conninfo}};
  if (!dbname.empty()) params.emplace_back("dbname", dbname);
  params.emplace_back("fallback_application_name", "pgmerge");
  return ConnectWith(params);
}

absl::StatusOr<Conn> ConnectWith(
    const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<const char*> keys, values;
  for (const auto& [key, value] : params) {
    keys.push_back(key.c_str());
    values.push_back(value.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  Conn conn(PQconnectdbParams(keys.data(), values.data(), /*expand_dbname=*/1));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    std::string message = PQerrorMessage(conn.get());
    while (!message.empty() && (message.back() == '\n' || message.back() == ' ')) {
      message.pop_back();
    }
    // libpq quotes a malformed conninfo or URI in its message, password
    // included: every value we passed it is redacted, wherever it appears.
    std::vector<std::string> secrets;
    for (const auto& [key, value] : params) {
      for (std::string& p : PasswordsIn(value)) secrets.push_back(std::move(p));
    }
    return absl::UnavailableError(
        absl::StrCat("cannot connect: ", RedactPasswords(message, secrets)));
  }
  return conn;
}

absl::Status OpenSessions(size_t n, const std::function<absl::StatusOr<Conn>()>& open,
                          std::vector<Conn>* conns) {
  while (conns->size() < n) {
    absl::StatusOr<Conn> c = open();
    if (!c.ok()) return c.status();
    conns->push_back(std::move(*c));
  }
  return absl::OkStatus();
}

std::vector<PGconn*> Borrow(const std::vector<Conn>& conns) {
  std::vector<PGconn*> raw;
  raw.reserve(conns.size());
  for (const Conn& c : conns) raw.push_back(c.get());
  return raw;
}

absl::StatusOr<Result> Exec(PGconn* conn, const std::string& sql, ExecStatusType want) {
  Result r(PQexec(conn, sql.c_str()));
  if (PQresultStatus(r.get()) != want) {
    std::string message = PQresultErrorMessage(r.get());
    if (message.empty()) message = PQerrorMessage(conn);
    while (!message.empty() && message.back() == '\n') message.pop_back();
    return absl::InternalError(absl::StrCat(message, " (in: ", sql, ")"));
  }
  return r;
}

absl::Status ExecCommand(PGconn* conn, const std::string& sql) {
  return Exec(conn, sql, PGRES_COMMAND_OK).status();
}

absl::StatusOr<std::string> QueryValue(PGconn* conn, const std::string& sql) {
  absl::StatusOr<Result> r = Exec(conn, sql);
  if (!r.ok()) return r.status();
  if (PQntuples(r->get()) == 0 || PQnfields(r->get()) == 0) return std::string();
  return std::string(PQgetvalue(r->get(), 0, 0));
}

std::string Ident(PGconn* conn, std::string_view name) {
  char* quoted = PQescapeIdentifier(conn, name.data(), name.size());
  if (quoted == nullptr) return parser::QuoteIdentifierAlways(name);
  std::string out = quoted;
  PQfreemem(quoted);
  return out;
}

std::string Literal(PGconn* conn, std::string_view value) {
  char* quoted = PQescapeLiteral(conn, value.data(), value.size());
  std::string out = quoted == nullptr ? "NULL" : quoted;
  PQfreemem(quoted);
  return out;
}

absl::Status SetDumpFormats(PGconn* conn, const std::string& encoding,
                            const std::vector<std::pair<std::string, std::string>>& settings) {
  if (PQsetClientEncoding(conn, encoding.c_str()) != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot read the database as ", encoding, ": ", PQerrorMessage(conn)));
  }
  std::string sql = "SET extra_float_digits = 3; SET DateStyle = ISO; SET IntervalStyle = postgres";
  for (const auto& [name, value] : settings) {
    absl::StrAppend(&sql, "; SET ", Ident(conn, name), " = ", Literal(conn, value));
  }
  return ExecCommand(conn, sql);
}

absl::StatusOr<TableHash> HashTable(PGconn* conn, const std::string& table,
                                    const std::vector<std::string>& columns,
                                    const std::string& where) {
  std::string cols;
  for (const std::string& c : columns) {
    if (!cols.empty()) cols += ", ";
    cols += Ident(conn, c);
  }
  absl::StatusOr<Result> start = Exec(
      conn, absl::StrCat("COPY (SELECT ", cols, " FROM ONLY ", table,
                   where.empty() ? "" : " WHERE ", where, ") TO STDOUT"),
      PGRES_COPY_OUT);
  if (!start.ok()) return start.status();
  TableHash out;
  for (;;) {
    char* line = nullptr;
    int n = PQgetCopyData(conn, &line, 0);
    if (n == -1) break;
    if (n < 0) {
      return absl::InternalError(absl::StrCat("COPY failed: ", PQerrorMessage(conn)));
    }
    size_t len = static_cast<size_t>(n);
    if (len > 0 && line[len - 1] == '\n') --len;
    out.hash += RowHash(std::string_view(line, len));
    ++out.rows;
    PQfreemem(line);
  }
  Result end(PQgetResult(conn));
  if (PQresultStatus(end.get()) != PGRES_COMMAND_OK) {
    return absl::InternalError(PQresultErrorMessage(end.get()));
  }
  while (PGresult* extra = PQgetResult(conn)) PQclear(extra);
  return out;
}

}  // namespace pgmerge::swap::internal
