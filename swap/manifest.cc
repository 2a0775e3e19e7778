#include "swap/manifest.h"

#include <atomic>
#include <cstdlib>
#include <optional>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status.h"

namespace pgmerge::swap::internal {

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

namespace {

// The verdict on one table from what was read of it: a difference, or none.
std::optional<TableDifference> Judge(const ManifestTable& t, const absl::StatusOr<TableHash>& h,
                                     int64_t* rows_checked) {
  TableDifference d;
  d.table = t.table;
  d.want_rows = t.rows;
  if (!h.ok()) {
    d.rows = -1;
    d.error = std::string(h.status().message());
    return d;
  }
  if (rows_checked != nullptr) *rows_checked += h->rows;
  d.rows = h->rows;
  if (h->rows != t.rows) return d;
  if (manifest::HashText(h->hash) == t.hash) return std::nullopt;
  d.content_differs = true;
  return d;
}

// An extension's configuration table holds the extension's own rows too;
// the manifest counts the rows pg_dump dumps of it, those its
// pg_extension_config_dump condition selects ("" for all of them).
absl::StatusOr<std::string> RowsMeasured(PGconn* conn, const ManifestTable& t) {
  if (!t.extension_config) return std::string();
  PGM_ASSIGN_OR_RETURN(
      std::string cond,
      QueryValue(conn, absl::StrCat("SELECT coalesce(e.extcondition[array_position(e.extconfig, "
                                    "c.oid)], '') FROM pg_extension e JOIN pg_class c ON c.oid = "
                                    "ANY(e.extconfig) WHERE c.oid = to_regclass(",
                                    Literal(conn, t.table), ")")));
  absl::string_view c = absl::StripLeadingAsciiWhitespace(cond);
  if (c.size() >= 6 && absl::AsciiStrToUpper(c.substr(0, 6)) == "WHERE ") c.remove_prefix(6);
  return c.empty() ? std::string() : absl::StrCat("(", c, ")");
}

// The text the manifest's rows were hashed as (one for all its tables).
std::string EncodingOf(const std::vector<ManifestTable>& manifest) {
  return manifest.empty() ? "UTF8" : manifest.front().encoding;
}
manifest::RowSettings SettingsOf(const std::vector<ManifestTable>& manifest) {
  return manifest.empty() ? manifest::RowSettings() : manifest.front().settings;
}

}  // namespace

absl::StatusOr<std::vector<TableDifference>> CompareWithManifest(
    PGconn* conn, const std::vector<ManifestTable>& manifest, int64_t* rows_checked) {
  absl::Status formats = SetDumpFormats(conn, EncodingOf(manifest), SettingsOf(manifest));
  if (!formats.ok()) return formats;
  std::vector<TableDifference> out;
  for (const ManifestTable& t : manifest) {
    absl::StatusOr<std::string> where = RowsMeasured(conn, t);
    absl::StatusOr<TableHash> h =
        where.ok() ? HashTable(conn, t.table, t.columns, *where)
                   : absl::StatusOr<TableHash>(where.status());
    if (std::optional<TableDifference> d = Judge(t, h, rows_checked)) out.push_back(std::move(*d));
    // A failed COPY leaves a transaction aborted: later tables would all
    // fail for that reason instead of their own.
    if (!h.ok() && PQtransactionStatus(conn) == PQTRANS_INERROR) {
      absl::Status s = ExecCommand(conn, "ROLLBACK");
      if (!s.ok()) return s;
    }
  }
  return out;
}

absl::StatusOr<std::vector<TableDifference>> CompareWithManifest(
    const std::vector<PGconn*>& sessions, const std::vector<ManifestTable>& manifest,
    int64_t* rows_checked, int64_t range_blocks) {
  if (sessions.size() <= 1) return CompareWithManifest(sessions.front(), manifest, rows_checked);
  for (PGconn* c : sessions) {
    absl::Status s = SetDumpFormats(c, EncodingOf(manifest), SettingsOf(manifest));
    if (!s.ok()) return s;
  }
  // Tasks: a table, or a block range of one. The last range is open-ended.
  struct Task {
    size_t table;
    std::string where;
    absl::StatusOr<TableHash> hash = TableHash();
  };
  std::vector<Task> tasks;
  for (size_t i = 0; i < manifest.size(); ++i) {
    absl::StatusOr<std::string> pages = QueryValue(
        sessions.front(),
        absl::StrCat("SELECT relpages FROM pg_class WHERE oid = to_regclass(",
                     Literal(sessions.front(), manifest[i].table), ")"));
    const int64_t blocks = pages.ok() && !pages->empty() ? std::stoll(*pages) : 0;
    const int64_t ranges = std::min<int64_t>(
        static_cast<int64_t>(sessions.size()) * 2, blocks / std::max<int64_t>(1, range_blocks));
    if (ranges < 2 || manifest[i].extension_config) {
      absl::StatusOr<std::string> where = RowsMeasured(sessions.front(), manifest[i]);
      // A condition that cannot be read is that table's error, as on one
      // session.
      if (!where.ok()) {
        tasks.push_back({i, "", where.status()});
      } else {
        tasks.push_back({i, *where});
      }
      continue;
    }
    const int64_t step = (blocks + ranges - 1) / ranges;
    for (int64_t r = 0; r < ranges; ++r) {
      std::string where = absl::StrCat("ctid >= '(", r * step, ",0)'::tid");
      if (r + 1 < ranges) absl::StrAppend(&where, " AND ctid < '(", (r + 1) * step, ",0)'::tid");
      tasks.push_back({i, where});
    }
  }
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (PGconn* c : sessions) {
    threads.emplace_back([&, c]() {
      for (size_t t; (t = next++) < tasks.size();) {
        if (!tasks[t].hash.ok()) continue;
        tasks[t].hash = HashTable(c, manifest[tasks[t].table].table,
                                  manifest[tasks[t].table].columns, tasks[t].where);
      }
    });
  }
  for (std::thread& t : threads) t.join();
  // A table's parts add up; any part's error is the table's.
  std::vector<absl::StatusOr<TableHash>> sums(manifest.size(), TableHash());
  for (const Task& t : tasks) {
    absl::StatusOr<TableHash>& sum = sums[t.table];
    if (!sum.ok()) continue;
    if (!t.hash.ok()) {
      sum = t.hash.status();
      continue;
    }
    sum->rows += t.hash->rows;
    sum->hash += t.hash->hash;
  }
  std::vector<TableDifference> out;
  for (size_t i = 0; i < manifest.size(); ++i) {
    if (std::optional<TableDifference> d = Judge(manifest[i], sums[i], rows_checked)) {
      out.push_back(std::move(*d));
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
