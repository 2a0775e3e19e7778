#include "swap/verify.h"

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "swap/manifest.h"
#include "swap/pg.h"

namespace pgmerge::swap {

using internal::Conn;
using internal::Exec;
using internal::Result;

bool IsConnInfo(const std::string& s) {
  return s.find('=') != std::string::npos || s.rfind("postgresql://", 0) == 0 ||
         s.rfind("postgres://", 0) == 0;
}

std::string ConnInfoFor(const std::string& db) {
  if (IsConnInfo(db)) return db;
  std::string quoted = "dbname='";
  for (char c : db) {
    if (c == '\'' || c == '\\') quoted.push_back('\\');
    quoted.push_back(c);
  }
  return quoted + "'";
}

absl::StatusOr<VerifyResult> VerifyShadow(const std::string& conninfo,
                                          std::string_view report_json) {
  PGM_ASSIGN_OR_RETURN(std::vector<internal::ManifestTable> manifest,
                       internal::ReadManifest(report_json, internal::Side::kOutput));
  PGM_ASSIGN_OR_RETURN(Conn conn, internal::Connect(conninfo));
  return internal::VerifyConnected(conn.get(), manifest);
}

absl::StatusOr<VerifyResult> internal::VerifyConnected(
    PGconn* conn, const std::vector<ManifestTable>& manifest) {
  VerifyResult result;
  PGM_ASSIGN_OR_RETURN(std::vector<TableDifference> differences,
                       CompareWithManifest(conn, manifest, &result.rows_checked));
  result.tables_checked = static_cast<int>(manifest.size());
  for (const TableDifference& d : differences) result.problems.push_back(d.Describe());
  // Every sequence past the values of the columns it feeds.
  absl::StatusOr<Result> seqs = Exec(conn, R"(
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
        conn, absl::StrCat("SELECT (SELECT max(", column, ")::bigint FROM ", table,
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
  absl::StatusOr<Result> invalid = Exec(conn, R"(
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
