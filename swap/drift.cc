#include "swap/drift.h"

#include <algorithm>
#include <set>

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "base/status.h"

namespace pgmerge::swap::internal {
namespace {

// Every catalog row that defines a user object, named for people, with the
// xmin of its current version: CREATE, ALTER, COMMENT, GRANT make a new
// version; ANALYZE and VACUUM update pg_class in place and leave xmin alone.
// OFFSET 0 keeps `what IS NOT NULL` out of the branches: pushed into them,
// pg_describe_object ran on each of pg_proc's ~3,200 built-in rows before
// the namespace filter, 270 ms of a swap's dark window (MATERIALIZED would
// do the same from PostgreSQL 12 on only).
constexpr char kCatalogRows[] = R"(
  WITH ns AS (SELECT oid FROM pg_namespace
              WHERE nspname NOT IN ('pg_catalog', 'information_schema')
                AND nspname NOT LIKE 'pg\_toast%' AND nspname NOT LIKE 'pg\_temp\_%'),
  rel AS (SELECT oid, relkind FROM pg_class WHERE relnamespace IN (SELECT oid FROM ns)),
  objs AS (
    SELECT pg_describe_object('pg_namespace'::regclass, oid, 0) AS what, xmin AS x
      FROM pg_namespace WHERE oid IN (SELECT oid FROM ns) AND oid >= 16384
    UNION ALL SELECT pg_describe_object('pg_class'::regclass, oid, 0), xmin
      FROM pg_class WHERE oid IN (SELECT oid FROM rel)
    UNION ALL SELECT pg_describe_object('pg_class'::regclass, attrelid, attnum), xmin
      FROM pg_attribute WHERE attnum > 0 AND attrelid IN (SELECT oid FROM rel
                                                           WHERE relkind <> 'i')
    UNION ALL SELECT pg_describe_object('pg_attrdef'::regclass, oid, 0), xmin
      FROM pg_attrdef WHERE adrelid IN (SELECT oid FROM rel)
    UNION ALL SELECT pg_describe_object('pg_constraint'::regclass, oid, 0), xmin
      FROM pg_constraint WHERE connamespace IN (SELECT oid FROM ns)
    UNION ALL SELECT pg_describe_object('pg_class'::regclass, indexrelid, 0) || ' (definition)',
                     xmin
      FROM pg_index WHERE indrelid IN (SELECT oid FROM rel)
    UNION ALL SELECT pg_describe_object('pg_proc'::regclass, oid, 0), xmin
      FROM pg_proc WHERE pronamespace IN (SELECT oid FROM ns)
    UNION ALL SELECT pg_describe_object('pg_trigger'::regclass, oid, 0), xmin
      FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN (SELECT oid FROM rel)
    UNION ALL SELECT pg_describe_object('pg_type'::regclass, oid, 0), xmin
      FROM pg_type WHERE typnamespace IN (SELECT oid FROM ns)
    UNION ALL SELECT pg_describe_object('pg_type'::regclass, enumtypid, 0) || ' label ' ||
                     quote_literal(enumlabel), xmin
      FROM pg_enum WHERE enumtypid IN (SELECT oid FROM pg_type
                                       WHERE typnamespace IN (SELECT oid FROM ns))
    UNION ALL SELECT pg_describe_object('pg_rewrite'::regclass, oid, 0), xmin
      FROM pg_rewrite WHERE ev_class IN (SELECT oid FROM rel)
    UNION ALL SELECT pg_describe_object('pg_policy'::regclass, oid, 0), xmin
      FROM pg_policy WHERE polrelid IN (SELECT oid FROM rel)
    UNION ALL SELECT pg_describe_object('pg_class'::regclass, seqrelid, 0) || ' (definition)',
                     xmin
      FROM pg_sequence WHERE seqrelid IN (SELECT oid FROM rel)
    UNION ALL SELECT pg_describe_object('pg_extension'::regclass, oid, 0), xmin
      FROM pg_extension WHERE oid >= 16384
    UNION ALL SELECT pg_describe_object('pg_event_trigger'::regclass, oid, 0), xmin
      FROM pg_event_trigger
    UNION ALL SELECT 'comment on ' || coalesce(pg_describe_object(classoid, objoid, objsubid),
                                               objoid::text), xmin
      FROM pg_description WHERE objoid >= 16384)
  SELECT what, x::text, age(x) < age(NULLIF(%s, '')::xid) FROM (SELECT * FROM objs OFFSET 0) o
  WHERE what IS NOT NULL ORDER BY 1, 2)";

struct CatalogRow {
  std::string what, xmin;
  bool since_restore = false;
};

absl::StatusOr<std::vector<CatalogRow>> CatalogRows(PGconn* conn, const std::string& xid) {
  std::string sql = kCatalogRows;
  sql.replace(sql.find("%s"), 2, Literal(conn, xid));
  // Names schema-qualified whatever the session's search_path, then the
  // session's own path back.
  PGM_ASSIGN_OR_RETURN(std::string path, QueryValue(conn, "SHOW search_path"));
  PGM_RETURN_IF_ERROR(
      Exec(conn, "SELECT pg_catalog.set_config('search_path', 'pg_catalog', false)").status());
  absl::StatusOr<Result> queried = Exec(conn, sql);
  PGM_RETURN_IF_ERROR(Exec(conn, absl::StrCat("SELECT pg_catalog.set_config('search_path', ",
                                              Literal(conn, path), ", false)"))
                          .status());
  PGM_ASSIGN_OR_RETURN(Result r, std::move(queried));
  std::vector<CatalogRow> rows;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    rows.push_back({PQgetvalue(r.get(), i, 0), PQgetvalue(r.get(), i, 1),
                    PQgetvalue(r.get(), i, 2)[0] == 't'});
  }
  return rows;
}

std::string Fingerprint(const std::vector<CatalogRow>& rows) {
  std::string out;
  for (const CatalogRow& r : rows) absl::StrAppend(&out, r.what, "@", r.xmin, "\n");
  return out;
}

using LargeObjectMap = std::map<std::string, std::string>;  // OID -> md5.

absl::StatusOr<LargeObjectMap> LargeObjects(PGconn* conn) {
  PGM_ASSIGN_OR_RETURN(
      Result r, Exec(conn, "SELECT oid::text, md5(lo_get(oid)) FROM pg_largeobject_metadata "
                           "ORDER BY oid"));
  LargeObjectMap out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    out[PQgetvalue(r.get(), i, 0)] = PQgetvalue(r.get(), i, 1);
  }
  return out;
}

// Columns of main's copy of each dumped table that the dump did not have,
// holding values the shadow would not. Generated columns are not dumped.
absl::Status NewColumns(PGconn* conn, const std::vector<ManifestTable>& prod,
                        std::vector<std::string>* out) {
  for (const ManifestTable& t : prod) {
    PGM_ASSIGN_OR_RETURN(
        Result cols,
        Exec(conn, absl::StrCat("SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(",
                                Literal(conn, t.table), ") AND attnum > 0 AND NOT attisdropped "
                                "AND attgenerated = '' ORDER BY attnum")));
    const std::set<std::string> known(t.columns.begin(), t.columns.end());
    for (int i = 0; i < PQntuples(cols.get()); ++i) {
      const std::string column = PQgetvalue(cols.get(), i, 0);
      if (known.count(column) > 0) continue;
      PGM_ASSIGN_OR_RETURN(std::string n,
                           QueryValue(conn, absl::StrCat("SELECT count(", Ident(conn, column),
                                                         ") FROM ONLY ", t.table)));
      if (n == "0") continue;  // Empty: the catalog check names the DDL.
      out->push_back(absl::StrCat(t.table, ".", Ident(conn, column),
                                  ": column not in the dump (added since), ", n,
                                  " non-NULL values"));
    }
  }
  return absl::OkStatus();
}

absl::Status MovedSequences(PGconn* conn, const std::vector<DumpedSequence>& sequences,
                            std::vector<std::string>* out) {
  for (const DumpedSequence& s : sequences) {
    PGM_ASSIGN_OR_RETURN(std::string exists,
                         QueryValue(conn, absl::StrCat("SELECT to_regclass(",
                                                       Literal(conn, s.name), ")::text")));
    if (exists.empty()) continue;  // Not on main: development's, or renamed.
    PGM_ASSIGN_OR_RETURN(Result r, Exec(conn, absl::StrCat("SELECT last_value, is_called FROM ",
                                                           exists)));
    const int64_t last = std::stoll(PQgetvalue(r.get(), 0, 0));
    const bool called = PQgetvalue(r.get(), 0, 1)[0] == 't';
    const int64_t drawn = called ? last : last - 1;
    if (drawn != s.prod_value) {
      out->push_back(absl::StrCat("sequence ", s.name, ": drawn up to ", drawn, " on main, ",
                                  s.prod_value, " in the dump (nextval() or setval() since)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<DumpedSequence>> ReadDumpedSequences(std::string_view report_json) {
  nlohmann::json report = nlohmann::json::parse(report_json, nullptr, false);
  std::vector<DumpedSequence> out;
  if (report.is_discarded() || !report.is_object() || !report.contains("sequences") ||
      !report["sequences"].is_array()) {
    return out;
  }
  for (const nlohmann::json& s : report["sequences"]) {
    if (!s.is_object() || !s.contains("sequence") || !s["sequence"].is_string() ||
        !s.contains("prod_value") || !s["prod_value"].is_number_integer()) {
      return absl::InvalidArgumentError("the report's sequences are not as pgmerge writes them");
    }
    out.push_back({s["sequence"].get<std::string>(), s["prod_value"].get<int64_t>()});
  }
  return out;
}

absl::Status ReadShadowBaseline(PGconn* shadow, const std::vector<ManifestTable>& output,
                                DriftBaseline* base) {
  // The restored tables' pg_class rows were made by the restore: the
  // oldest of them is its (first) transaction. Taken over the manifest's
  // tables, not all of the shadow's, so objects the shadow's template
  // brought do not pull the boundary back.
  std::string list = "NULL";
  for (const ManifestTable& t : output) {
    absl::StrAppend(&list, ", to_regclass(", Literal(shadow, t.table), ")");
  }
  PGM_ASSIGN_OR_RETURN(
      base->restore_xid,
      QueryValue(shadow, absl::StrCat("SELECT xmin::text FROM pg_class WHERE oid IN (", list,
                                      ") ORDER BY age(xmin) DESC LIMIT 1")));
  PGM_ASSIGN_OR_RETURN(base->shadow_large_objects, LargeObjects(shadow));
  return absl::OkStatus();
}

absl::StatusOr<std::string> CatalogFingerprint(PGconn* main) {
  PGM_ASSIGN_OR_RETURN(std::vector<CatalogRow> rows, CatalogRows(main, ""));
  return Fingerprint(rows);
}

absl::StatusOr<std::vector<std::string>> WiderDrift(PGconn* main,
                                                   const std::vector<ManifestTable>& prod,
                                                   const std::vector<DumpedSequence>& sequences,
                                                   const DriftBaseline& base) {
  std::vector<std::string> out;
  PGM_RETURN_IF_ERROR(NewColumns(main, prod, &out));
  PGM_RETURN_IF_ERROR(MovedSequences(main, sequences, &out));

  if (base.prod_large_objects) {
    // Production's large objects are in the output (the shadow was
    // verified to hold them): main must still hold exactly those.
    PGM_ASSIGN_OR_RETURN(std::vector<ManifestLargeObject> live, LiveLargeObjects(main));
    for (std::string& d : CompareLargeObjects(
             live, *base.prod_large_objects,
             "on main, not in production's dump (written since the dump)",
             "in production's dump, gone from main (deleted since the dump)")) {
      out.push_back(std::move(d));
    }
  }
  PGM_ASSIGN_OR_RETURN(LargeObjectMap los, LargeObjects(main));
  for (const auto& [oid, md5] : los) {
    if (base.prod_large_objects) break;  // Compared exactly above.
    auto it = base.shadow_large_objects.find(oid);
    if (it == base.shadow_large_objects.end()) {
      out.push_back(absl::StrCat("large object ", oid,
                                 ": on main, not in the shadow (written since the dump, or not "
                                 "carried by the merge)"));
    } else if (it->second != md5) {
      out.push_back(absl::StrCat("large object ", oid, ": content differs from the shadow's"));
    }
  }

  PGM_ASSIGN_OR_RETURN(std::vector<CatalogRow> rows, CatalogRows(main, base.restore_xid));
  for (const CatalogRow& r : rows) {
    if (r.since_restore) {
      out.push_back(absl::StrCat("schema: ", r.what, " created or changed after the shadow was "
                                 "restored"));
    }
  }
  if (!base.catalog_fingerprint.empty()) {
    // What was there at the pre-check and is gone now (dropped), or there
    // with another version (changed; named above when also since restore).
    const std::string now = Fingerprint(rows);
    if (now != base.catalog_fingerprint) {
      std::set<std::string> current;
      for (const CatalogRow& r : rows) current.insert(r.what);
      size_t pos = 0;
      const std::string& before = base.catalog_fingerprint;
      while (pos < before.size()) {
        const size_t end = before.find('\n', pos);
        const std::string line = before.substr(pos, end - pos);
        pos = end == std::string::npos ? before.size() : end + 1;
        const std::string what = line.substr(0, line.rfind('@'));
        if (current.count(what) == 0) {
          out.push_back(absl::StrCat("schema: ", what, " dropped while the swap ran"));
        }
      }
      if (out.empty()) out.push_back("schema: main's catalog changed while the swap ran");
    }
  }
  return out;
}

}  // namespace pgmerge::swap::internal
