#include "swap/verify.h"

#include <libpq-fe.h>
#include <xxhash.h>

#include <memory>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/strings.h"
#include "parser/names.h"

namespace pgmerge::swap {
namespace {

using Json = nlohmann::json;

struct ConnCloser {
  void operator()(PGconn* c) const { PQfinish(c); }
};
using Conn = std::unique_ptr<PGconn, ConnCloser>;
struct ResultCloser {
  void operator()(PGresult* r) const { PQclear(r); }
};
using Result = std::unique_ptr<PGresult, ResultCloser>;

absl::StatusOr<Result> Exec(PGconn* conn, const std::string& sql,
                            ExecStatusType want = PGRES_TUPLES_OK) {
  Result r(PQexec(conn, sql.c_str()));
  if (PQresultStatus(r.get()) != want) {
    return absl::InternalError(
        absl::StrCat(PQresultErrorMessage(r.get()), "in: ", sql));
  }
  return r;
}

// Row count and the sum of XXH3 of each COPY line, as the manifest has them.
absl::Status HashTable(PGconn* conn, const std::string& sql, int64_t* rows,
                       uint64_t* hash) {
  absl::StatusOr<Result> start = Exec(conn, sql, PGRES_COPY_OUT);
  if (!start.ok()) return start.status();
  *rows = 0;
  *hash = 0;
  for (;;) {
    char* line = nullptr;
    int n = PQgetCopyData(conn, &line, 0);
    if (n == -1) break;
    if (n < 0) {
      return absl::InternalError(absl::StrCat("COPY failed: ", PQerrorMessage(conn)));
    }
    size_t len = static_cast<size_t>(n);
    if (len > 0 && line[len - 1] == '\n') --len;
    *hash += XXH3_64bits(line, len);
    ++*rows;
    PQfreemem(line);
  }
  Result end(PQgetResult(conn));
  if (PQresultStatus(end.get()) != PGRES_COMMAND_OK) {
    return absl::InternalError(PQresultErrorMessage(end.get()));
  }
  while (PGresult* extra = PQgetResult(conn)) PQclear(extra);
  return absl::OkStatus();
}

}  // namespace

std::string ConnInfoFor(const std::string& db) {
  if (db.find('=') != std::string::npos || db.rfind("postgresql://", 0) == 0 ||
      db.rfind("postgres://", 0) == 0) {
    return db;
  }
  std::string quoted = "dbname='";
  for (char c : db) {
    if (c == '\'' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  return quoted + "'";
}

absl::StatusOr<VerifyResult> VerifyShadow(const std::string& conninfo,
                                          std::string_view report_json) {
  Json report = Json::parse(report_json, nullptr, false);
  if (report.is_discarded() || report.value("format", "") != "pgmerge-report") {
    return absl::InvalidArgumentError("the report is not a pgmerge merge report");
  }
  if (report.value("refused", false)) {
    return absl::InvalidArgumentError(
        "the report is of a refused merge: there is nothing to verify");
  }
  Conn conn(PQconnectdb(conninfo.c_str()));
  if (PQstatus(conn.get()) != CONNECTION_OK) {
    // libpq's message names host and database, never the password.
    return absl::UnavailableError(
        absl::StrCat("cannot connect: ", PQerrorMessage(conn.get())));
  }
  // The formats pg_dump wrote the values in, so COPY lines hash alike.
  absl::StatusOr<Result> set = Exec(conn.get(),
                                    "SET extra_float_digits = 3; SET DateStyle = ISO; "
                                    "SET IntervalStyle = postgres; "
                                    "SET client_encoding = 'UTF8'",
                                    PGRES_COMMAND_OK);
  if (!set.ok()) return set.status();

  VerifyResult result;
  for (const Json& t : report["tables"]) {
    if (t.value("status", "") == "dropped_by_dev") continue;
    const std::string table = t["table"].get<std::string>();
    const Json& m = t["manifest"]["output"];
    std::string cols;
    for (const Json& c : m["columns"]) {
      if (!cols.empty()) cols += ", ";
      cols += parser::QuoteIdentifierAlways(c.get<std::string>());
    }
    if (cols.empty()) continue;
    int64_t rows = 0;
    uint64_t hash = 0;
    absl::Status s = HashTable(
        conn.get(), absl::StrCat("COPY (SELECT ", cols, " FROM ONLY ", table, ") TO STDOUT"),
        &rows, &hash);
    if (!s.ok()) {
      result.problems.push_back(absl::StrCat(table, ": ", s.message()));
      continue;
    }
    ++result.tables_checked;
    result.rows_checked += rows;
    const int64_t want_rows = m["rows"].get<int64_t>();
    const std::string want_hash = m["hash"].get<std::string>();
    if (rows != want_rows) {
      result.problems.push_back(absl::StrCat(table, ": ", rows,
                                             " rows, the merge wrote ", want_rows));
    } else if (absl::StrFormat("%016x", hash) != want_hash) {
      result.problems.push_back(absl::StrCat(
          table, ": the rows' content differs from what the merge wrote"));
    }
  }
  // Every sequence past the values of the columns it feeds.
  absl::StatusOr<Result> seqs = Exec(conn.get(), R"(
    SELECT format('%I.%I', n.nspname, c.relname), quote_ident(a.attname),
           pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname)
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND pg_get_serial_sequence(format('%I.%I', n.nspname, c.relname), a.attname) IS NOT NULL
    ORDER BY 1, 2)");
  if (!seqs.ok()) return seqs.status();
  for (int i = 0; i < PQntuples(seqs->get()); ++i) {
    std::string table = PQgetvalue(seqs->get(), i, 0);
    std::string column = PQgetvalue(seqs->get(), i, 1);
    std::string seq = PQgetvalue(seqs->get(), i, 2);
    absl::StatusOr<Result> v = Exec(
        conn.get(), absl::StrCat("SELECT (SELECT max(", column, ")::bigint FROM ", table,
                                 "), last_value, is_called FROM ", seq));
    if (!v.ok()) return v.status();
    if (PQgetisnull(v->get(), 0, 0)) continue;
    int64_t max = std::stoll(PQgetvalue(v->get(), 0, 0));
    int64_t last = std::stoll(PQgetvalue(v->get(), 0, 1));
    bool called = PQgetvalue(v->get(), 0, 2)[0] == 't';
    if (called ? last < max : last <= max) {
      result.problems.push_back(absl::StrCat("sequence ", seq, " is at ", last, ", behind ",
                                             table, ".", column, " = ", max));
    }
  }
  absl::StatusOr<Result> invalid = Exec(conn.get(), R"(
    SELECT 'constraint ' || conname || ' on ' || conrelid::regclass || ' is NOT VALID'
    FROM pg_constraint WHERE NOT convalidated
    UNION ALL
    SELECT 'index ' || indexrelid::regclass || ' is invalid' FROM pg_index WHERE NOT indisvalid
    ORDER BY 1)");
  if (!invalid.ok()) return invalid.status();
  for (int i = 0; i < PQntuples(invalid->get()); ++i) {
    result.problems.push_back(PQgetvalue(invalid->get(), i, 0));
  }
  return result;
}

}  // namespace pgmerge::swap
