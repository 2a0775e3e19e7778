#include "swap/verify.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "base/status.h"
#include "base/strings.h"
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
                                          std::string_view report_json, int sessions) {
  PGM_ASSIGN_OR_RETURN(std::vector<internal::ManifestTable> manifest,
                       internal::ReadManifest(report_json, internal::Side::kOutput));
  std::vector<Conn> conns;
  PGM_RETURN_IF_ERROR(internal::OpenSessions(
      std::max(1, sessions), [&] { return internal::Connect(conninfo); }, &conns));
  return internal::VerifyConnected(
      internal::Borrow(conns), manifest, internal::ReadSequences(report_json),
      internal::ReadLargeObjects(report_json, internal::Side::kOutput),
      internal::ReadUnvalidated(report_json));
}

namespace {

// Every sequence a column draws from, however it is tied to it: a DEFAULT
// calling nextval() (the default's expression depends on the sequence:
// pg_dump's output of `id integer DEFAULT nextval('s'::regclass)` with no
// OWNED BY, as pagila has), serial (OWNED BY, deptype 'a') or identity
// (deptype 'i'). An ascending sequence must be past the column's largest
// value, a descending one below its smallest: otherwise the next insert
// that takes the default collides with a key already there. Only integer
// columns (or domains over them) are compared; a partition's column is
// covered by its parent's.
//
// Not every sequence behind its column is the merge's doing: a dump may
// hold keys inserted with explicit values past its own sequence
// (PostgreSQL's regression database does), and the merge carries those
// rows and that position as they were. The merge only promises its
// sequences pass the keys it added (development's new rows, fresh keys);
// when it added none past an input's position it keeps that position and
// says so ("kept" in the report). Such a sequence, still at exactly that
// position, is not blamed for the input's explicit keys; moved anywhere
// else (a restore that lost or changed the setval), or set by the merge
// past the inputs, it must pass its column like every other.
constexpr char kSequenceFeeds[] = R"(
  WITH feeds AS (
    SELECT ad.adrelid AS rel, ad.adnum AS att, d.refobjid AS seq
    FROM pg_attrdef ad
    JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                    AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid = 0
    UNION
    SELECT d.refobjid, d.refobjsubid, d.objid
    FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i'))
  SELECT format('%I.%I', n.nspname, c.relname), quote_ident(a.attname),
         format('%I.%I', sn.nspname, s.relname), sq.seqincrement < 0
  FROM feeds f
  JOIN pg_class s ON s.oid = f.seq AND s.relkind = 'S'
  JOIN pg_namespace sn ON sn.oid = s.relnamespace
  JOIN pg_sequence sq ON sq.seqrelid = s.oid
  JOIN pg_class c ON c.oid = f.rel
  JOIN pg_namespace n ON n.oid = c.relnamespace
  JOIN pg_attribute a ON a.attrelid = f.rel AND a.attnum = f.att
  JOIN pg_type t ON t.oid = a.atttypid
  WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND NOT a.attisdropped
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END)
        IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)
  ORDER BY 1, 2, 3)";

absl::Status CheckSequences(PGconn* conn, const std::vector<internal::ManifestSequence>& kept,
                            std::vector<std::string>* problems) {
  auto kept_at = [&](const std::string& seq) -> const internal::ManifestSequence* {
    for (const internal::ManifestSequence& s : kept) {
      if (s.kept && s.sequence == seq) return &s;
    }
    return nullptr;
  };
  PGM_ASSIGN_OR_RETURN(Result feeds, Exec(conn, kSequenceFeeds));
  for (int i = 0; i < PQntuples(feeds.get()); ++i) {
    const std::string table = PQgetvalue(feeds.get(), i, 0);
    const std::string column = PQgetvalue(feeds.get(), i, 1);
    const std::string seq = PQgetvalue(feeds.get(), i, 2);
    const bool descending = PQgetvalue(feeds.get(), i, 3)[0] == 't';
    PGM_ASSIGN_OR_RETURN(
        Result v, Exec(conn, absl::StrCat("SELECT (SELECT ", descending ? "min(" : "max(",
                                          column, ")::bigint FROM ", table,
                                          "), last_value, is_called FROM ", seq)));
    if (PQgetisnull(v.get(), 0, 0)) continue;  // No rows: nothing to collide with.
    const int64_t edge = std::stoll(PQgetvalue(v.get(), 0, 0));
    const int64_t last = std::stoll(PQgetvalue(v.get(), 0, 1));
    const bool called = PQgetvalue(v.get(), 0, 2)[0] == 't';
    if (const internal::ManifestSequence* k = kept_at(seq);
        k != nullptr && last == k->value && called == k->is_called) {
      continue;  // Where the input had it, past every key the merge added.
    }
    // Not called: `last` is the next value handed out; called: the one
    // before it.
    const bool behind = descending ? (called ? last > edge : last >= edge)
                                   : (called ? last < edge : last <= edge);
    if (behind) {
      problems->push_back(absl::StrCat("sequence ", seq, " is at ", last,
                                       called ? "" : " (not yet called)",
                                       descending ? ", above " : ", behind ", table, ".",
                                       column, " = ", edge));
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<internal::ManifestLargeObject>> internal::LiveLargeObjects(
    PGconn* conn) {
  // lo_get reads a whole object into memory: up to 1 GB each, as pg_dump
  // reads them too.
  PGM_ASSIGN_OR_RETURN(
      Result r, Exec(conn, "SELECT oid::text, pg_catalog.length(pg_catalog.lo_get(oid)), "
                           "pg_catalog.encode(pg_catalog.sha256(pg_catalog.lo_get(oid)), 'hex') "
                           "FROM pg_catalog.pg_largeobject_metadata ORDER BY oid"));
  std::vector<ManifestLargeObject> out;
  for (int i = 0; i < PQntuples(r.get()); ++i) {
    out.push_back({static_cast<uint32_t>(std::stoul(PQgetvalue(r.get(), i, 0))),
                   std::stoll(PQgetvalue(r.get(), i, 1)), PQgetvalue(r.get(), i, 2)});
  }
  return out;
}

std::vector<std::string> internal::CompareLargeObjects(
    const std::vector<ManifestLargeObject>& live, const std::vector<ManifestLargeObject>& want,
    std::string_view extra, std::string_view missing) {
  std::vector<std::string> out;
  size_t i = 0, j = 0;
  while (i < live.size() || j < want.size()) {
    if (j == want.size() || (i < live.size() && live[i].oid < want[j].oid)) {
      out.push_back(absl::StrCat("large object ", live[i].oid, ": ", AsAbsl(extra)));
      ++i;
    } else if (i == live.size() || want[j].oid < live[i].oid) {
      out.push_back(absl::StrCat("large object ", want[j].oid, ": ", AsAbsl(missing)));
      ++j;
    } else {
      if (live[i].size != want[j].size || live[i].sha256 != want[j].sha256) {
        out.push_back(absl::StrCat("large object ", live[i].oid, ": ", live[i].size,
                                   " bytes, sha256 ", live[i].sha256.substr(0, 12),
                                   ", the manifest has ", want[j].size, " bytes, sha256 ",
                                   want[j].sha256.substr(0, 12)));
      }
      ++i;
      ++j;
    }
  }
  return out;
}

absl::StatusOr<VerifyResult> internal::VerifyConnected(
    const std::vector<PGconn*>& sessions, const std::vector<ManifestTable>& manifest,
    const std::vector<ManifestSequence>& sequences,
    const std::optional<std::vector<ManifestLargeObject>>& large_objects,
    const ManifestUnvalidated& unvalidated) {
  VerifyResult result;
  PGconn* conn = sessions.front();
  PGM_ASSIGN_OR_RETURN(std::vector<TableDifference> differences,
                       CompareWithManifest(sessions, manifest, &result.rows_checked));
  result.tables_checked = static_cast<int>(manifest.size());
  for (const TableDifference& d : differences) result.problems.push_back(d.Describe());
  PGM_RETURN_IF_ERROR(CheckSequences(conn, sequences, &result.problems));
  // What the dump left unchecked is matched by OID, so quoting never
  // decides it; a constraint added without ONLY is on every descendant.
  std::string constraints = "(NULL::regclass, NULL::name, false)";
  for (const ManifestUnvalidated::Constraint& c : unvalidated.constraints) {
    absl::StrAppend(&constraints, ", (to_regclass(", Literal(conn, c.table), "), ",
                    Literal(conn, c.name), "::name, ", c.children ? "true" : "false", ")");
  }
  std::string indexes = "NULL";
  for (const std::string& i : unvalidated.indexes) {
    absl::StrAppend(&indexes, ", to_regclass(", Literal(conn, i), ")");
  }
  absl::StatusOr<Result> invalid = Exec(conn, absl::StrCat(R"(
    WITH RECURSIVE dumped(rel, con, children) AS (VALUES )", constraints, R"(),
    up(rel, ancestor) AS (
      SELECT inhrelid, inhparent FROM pg_inherits
      UNION SELECT up.rel, i.inhparent FROM up JOIN pg_inherits i ON i.inhrelid = up.ancestor)
    SELECT 'constraint ' || k.conname || ' on ' || k.conrelid::regclass || ' is NOT VALID'
    FROM pg_constraint k WHERE NOT k.convalidated AND NOT EXISTS (
      SELECT 1 FROM dumped d WHERE d.con = k.conname AND (d.rel = k.conrelid OR (d.children
        AND d.rel IN (SELECT ancestor FROM up WHERE up.rel = k.conrelid))))
    UNION ALL
    SELECT 'index ' || x.indexrelid::regclass || ' is invalid'
    FROM pg_index x JOIN pg_class c ON c.oid = x.indexrelid
    WHERE NOT x.indisvalid AND NOT (c.relkind = 'I' AND x.indexrelid IN (
      SELECT r FROM unnest(ARRAY[)", indexes, R"(]::regclass[]) r WHERE r IS NOT NULL))
    ORDER BY 1)"));
  if (!invalid.ok()) return invalid.status();
  for (int i = 0; i < PQntuples(invalid->get()); ++i) {
    result.problems.push_back(PQgetvalue(invalid->get(), i, 0));
  }
  if (large_objects) {
    PGM_ASSIGN_OR_RETURN(std::vector<ManifestLargeObject> live, LiveLargeObjects(conn));
    for (std::string& p : CompareLargeObjects(live, *large_objects,
                                              "not in the manifest (not the merge's)",
                                              "in the manifest, missing")) {
      result.problems.push_back(std::move(p));
    }
  }
  return result;
}

}  // namespace pgmerge::swap
