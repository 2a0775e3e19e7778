// The manifest: the contract between the merge, which writes it into its
// report, and verify, swap and rollback, which read it back and compare a
// live database with it. Both ends use this file only: the JSON names, the
// table statuses and the hash's text are defined here once.
//
// Per table the report holds "manifest": {"output": M, "prod": M}, each M
// {"columns": [...], "rows": N, "hash": "16 hex digits"}: the row count and
// the sum of RowHash (base/row_hash.h) over the rows' COPY lines, taking
// `columns` in that order.
#ifndef PGMERGE_MERGER_MANIFEST_H_
#define PGMERGE_MERGER_MANIFEST_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"

namespace pgmerge::manifest {

// The session settings the manifest's rows are hashed under (the report's
// "row_settings"), besides pg_dump's own (DateStyle, IntervalStyle,
// extra_float_digits): the merge takes every value whose text pg_dump takes
// from its session in this form (parser/value_text.h), and the live side is
// read back under them.
using RowSettings = std::vector<std::pair<std::string, std::string>>;
struct RowSetting {
  const char* name;
  const char* value;
};
inline constexpr RowSetting kRowSettings[] = {{"TimeZone", "UTC"}, {"bytea_output", "hex"}};
// The value of "row_settings": {"TimeZone": "UTC", ...}.
nlohmann::ordered_json RowSettingsJson();
// A report's row_settings as (name, value); none for a report before them.
RowSettings ReadRowSettings(std::string_view report_json);

// The report's "format" value.
inline constexpr char kReportFormat[] = "pgmerge-report";

// A table's "status" in the report.
inline constexpr char kStatusMerged[] = "merged";
inline constexpr char kStatusDroppedByDev[] = "dropped_by_dev";  // No output.
inline constexpr char kStatusNewInDev[] = "new_in_dev";          // No prod side.

struct TableManifest {
  std::vector<std::string> columns;  // The columns hashed, in order.
  int64_t rows = 0;
  uint64_t hash = 0;  // Sum of RowHash of each row's COPY line.
};

// The hash as the report writes it: 16 lower-case hex digits.
std::string HashText(uint64_t hash);

// The table's "status" value.
const char* TableStatus(bool only_in_prod, bool only_in_dev);

// The value of a table's "manifest" member.
nlohmann::ordered_json ManifestJson(const TableManifest& output,
                                    const TableManifest& prod);

// Which of a table's two manifests to read.
enum class Side {
  kOutput,  // What the merge wrote (tables development dropped left out).
  kProd,    // Production as dumped, under its production name (tables new
            // in development left out).
};

struct ManifestTable {
  std::string table;  // Quoted and schema-qualified, as SQL takes it.
  // An extension's configuration table (the report's "extension_config"):
  // measured over the rows its pg_extension_config_dump condition selects.
  bool extension_config = false;
  std::vector<std::string> columns;
  int64_t rows = 0;
  std::string hash;  // HashText of the sum.
  // The report's client_encoding: the rows are hashed as that text.
  std::string encoding = "UTF8";
  // The report's row_settings, as SET takes them (name, value); empty for a
  // report written before them (the session's own).
  RowSettings settings;
};

// A sequence as the merge set it (the report's "sequences"). `kept`: the
// position is production's or development's own, the merge added no key
// past it.
struct ManifestSequence {
  std::string sequence;  // Quoted and schema-qualified.
  int64_t value = 0;
  bool is_called = false;
  bool kept = false;
};

// A large object as the manifest lists it (the report's
// "large_objects.manifest.output" / ".prod"): its OID, its size in bytes and
// the SHA-256 of its content, 64 lower-case hex digits (on a live database:
// encode(sha256(lo_get(oid)), 'hex')).
struct ManifestLargeObject {
  uint32_t oid = 0;
  int64_t size = 0;
  std::string sha256;
};

// The value of "large_objects.manifest": {"output": [...], "prod": [...]}.
nlohmann::ordered_json LargeObjectsManifestJson(const std::vector<ManifestLargeObject>& output,
                                                const std::vector<ManifestLargeObject>& prod);

// The report's large objects on one side, by OID; nullopt for a report
// written before pgmerge carried large objects (nothing to check against).
std::optional<std::vector<ManifestLargeObject>> ReadLargeObjects(std::string_view report_json,
                                                                 Side side);

// What the output leaves unchecked because development's dump has it so
// (the report's "unvalidated"): a constraint added NOT VALID, and an index
// created ON ONLY a partitioned table, invalid until each partition's index
// is attached (PostgreSQL's regression database keeps both). Verify blames
// neither; any other constraint NOT VALID or index invalid it does.
struct ManifestUnvalidated {
  struct Constraint {
    std::string table;  // Quoted and schema-qualified.
    std::string name;   // As pg_constraint.conname holds it.
    // ALTER TABLE without ONLY: each inheritance child and partition of
    // `table` has it too, under the same name.
    bool children = false;
  };
  std::vector<Constraint> constraints;
  std::vector<std::string> indexes;  // Quoted and schema-qualified.
};
// The value of "unvalidated": {"constraints": [{"table", "constraint",
// "children"}], "indexes": [...]}.
nlohmann::ordered_json UnvalidatedJson(const ManifestUnvalidated& unvalidated);
// Empty for a report without it.
ManifestUnvalidated ReadUnvalidated(std::string_view report_json);

// The report's sequences; empty for a report without them.
std::vector<ManifestSequence> ReadSequences(std::string_view report_json);

// The report's tables for one side, in the report's order; tables with no
// column to measure are left out. InvalidArgument for a report that is not
// a merge report, is of a refused merge, or has no manifest.
absl::StatusOr<std::vector<ManifestTable>> ReadManifest(std::string_view report_json,
                                                        Side side);

}  // namespace pgmerge::manifest

#endif  // PGMERGE_MERGER_MANIFEST_H_
