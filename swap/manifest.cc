#include "swap/manifest.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace pgmerge::swap::internal {

using Json = nlohmann::json;

absl::StatusOr<std::vector<ManifestTable>> ReadManifest(std::string_view report_json,
                                                        Side side) {
  Json report = Json::parse(report_json, nullptr, false);
  if (report.is_discarded() || !report.is_object() ||
      report.value("format", "") != "pgmerge-report" || !report["tables"].is_array()) {
    return absl::InvalidArgumentError("the report is not a pgmerge merge report");
  }
  if (report.value("refused", false)) {
    return absl::InvalidArgumentError(
        "the report is of a refused merge: no shadow was built from it");
  }
  std::vector<ManifestTable> tables;
  for (const Json& t : report["tables"]) {
    const std::string status = t.value("status", "");
    if (side == Side::kOutput ? status == "dropped_by_dev" : status == "new_in_dev") {
      continue;
    }
    const Json* m = nullptr;
    if (t.contains("manifest") && t["manifest"].is_object()) {
      const char* key = side == Side::kOutput ? "output" : "prod";
      if (t["manifest"].contains(key)) m = &t["manifest"][key];
    }
    if (m == nullptr || !m->is_object() || !t["table"].is_string()) {
      return absl::InvalidArgumentError("the report has no manifest: merge again with this pgmerge");
    }
    ManifestTable table;
    table.table = t["table"].get<std::string>();
    if (side == Side::kProd && t.contains("prod_table") && t["prod_table"].is_string() &&
        !t["prod_table"].get<std::string>().empty()) {
      table.table = t["prod_table"].get<std::string>();
    }
    for (const Json& c : m->value("columns", Json::array())) {
      table.columns.push_back(c.get<std::string>());
    }
    table.rows = m->value("rows", int64_t{0});
    table.hash = m->value("hash", "");
    if (table.columns.empty()) continue;  // Nothing of it to measure.
    tables.push_back(std::move(table));
  }
  return tables;
}

std::string TableDifference::Describe() const {
  if (!error.empty()) return absl::StrCat(table, ": ", error);
  if (want_rows < 0) {
    return absl::StrCat(table, ": not in the dump (created since), ", rows, " rows");
  }
  if (content_differs) {
    return absl::StrCat(table, ": ", rows, " rows as expected, but their content changed");
  }
  const int64_t delta = rows - want_rows;
  return absl::StrCat(table, ": ", rows, " rows, expected ", want_rows, " (",
                      delta > 0 ? "+" : "", delta, ")");
}

absl::StatusOr<std::vector<TableDifference>> CompareWithManifest(
    PGconn* conn, const std::vector<ManifestTable>& manifest, int64_t* rows_checked) {
  absl::Status formats = SetDumpFormats(conn);
  if (!formats.ok()) return formats;
  std::vector<TableDifference> out;
  for (const ManifestTable& t : manifest) {
    absl::StatusOr<TableHash> h = HashTable(conn, t.table, t.columns);
    TableDifference d;
    d.table = t.table;
    d.want_rows = t.rows;
    if (!h.ok()) {
      d.rows = -1;
      d.error = std::string(h.status().message());
      out.push_back(std::move(d));
      // A failed COPY leaves a transaction aborted: later tables would all
      // fail for that reason instead of their own.
      if (PQtransactionStatus(conn) == PQTRANS_INERROR) {
        absl::Status s = ExecCommand(conn, "ROLLBACK");
        if (!s.ok()) return s;
      }
      continue;
    }
    if (rows_checked != nullptr) *rows_checked += h->rows;
    d.rows = h->rows;
    if (h->rows != t.rows) {
      out.push_back(std::move(d));
    } else if (absl::StrFormat("%016x", h->hash) != t.hash) {
      d.content_differs = true;
      out.push_back(std::move(d));
    }
  }
  return out;
}

absl::StatusOr<std::vector<TableDifference>> TablesNotInManifest(
    PGconn* conn, const std::vector<ManifestTable>& manifest) {
  // Matched by OID, so quoting rules never decide what counts as known.
  std::string known = "NULL";
  for (const ManifestTable& t : manifest) {
    absl::StrAppend(&known, ", to_regclass(", Literal(conn, t.table), ")");
  }
  absl::StatusOr<Result> tables = Exec(conn, absl::StrCat(R"(
    SELECT format('%I.%I', n.nspname, c.relname)
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND c.relpersistence <> 't'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname NOT LIKE 'pg\_toast%'
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid
                      AND d.classid = 'pg_class'::regclass AND d.deptype = 'e')
      AND c.oid NOT IN (SELECT r FROM unnest(ARRAY[)", known, R"(]::regclass[]) r
                        WHERE r IS NOT NULL)
    ORDER BY 1)"));
  if (!tables.ok()) return tables.status();
  std::vector<TableDifference> out;
  for (int i = 0; i < PQntuples(tables->get()); ++i) {
    std::string name = PQgetvalue(tables->get(), i, 0);
    absl::StatusOr<std::string> count =
        QueryValue(conn, absl::StrCat("SELECT count(*) FROM ONLY ", name));
    TableDifference d;
    d.table = name;
    d.want_rows = -1;
    if (!count.ok()) {
      d.rows = -1;
      d.error = std::string(count.status().message());
    } else {
      d.rows = std::stoll(*count);
      if (d.rows == 0) continue;  // Nothing in it the shadow would lose.
    }
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace pgmerge::swap::internal
