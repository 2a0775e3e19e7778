// What a merge did, table by table: the conflict report and the manifest
// that the verify and swap stages check a database against.
#ifndef PGMERGE_MERGER_REPORT_H_
#define PGMERGE_MERGER_REPORT_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "merger/manifest.h"

namespace pgmerge::merger {

struct KeyRange {  // Keys old..old+count-1 became new..new+count-1.
  int64_t old_start;
  int64_t new_start;
  int64_t count;
};

struct Unification {
  std::string dev_key;
  std::string prod_key;
  std::string unique_key;  // The constraint or index that matched.
};

struct Conflict {
  std::string key;
  std::string kept = "prod";      // Whose version the output holds.
  std::string edited = "unknown"; // "both" when a base dump proves it.
  std::vector<std::string> columns;  // Columns whose values differ.
};

struct DroppedRow {
  std::string key;
  std::string reason;
};

struct ColumnLoss {
  std::string column;
  int64_t values = 0;       // Production values in a column dev dropped.
  int64_t non_default = 0;  // Of them, those not equal to its old default.
};

// How development's schema changed a table production has rows in.
struct SchemaChange {
  std::string kind;    // added_column, renamed_column, type_change,
                       // likely_rename, restore_risk, renamed_table
  std::string column;  // The column (dev's name), or "" for the table.
  std::string detail;  // What happens: "default applies", "int4 -> int2"...
};

// A column whose development values follow a parent's remapped keys.
struct ReferenceReport {
  // What makes it one: development's foreign key, --reference, or what
  // pgmerge inferred (its name, a polymorphic type, an array's name).
  enum Kind { kForeignKey, kDeclared, kInferred };
  std::string column;
  std::string parent;     // The table it references.
  std::string by;         // "foreign key NAME", "--reference", "its name"...
  Kind kind = kForeignKey;
  int64_t rewritten = 0;  // Development's values rewritten to a remapped key.
};

// A column named like a reference (user_id, userId) that no foreign key
// declares and pgmerge did not follow: development's values are as written.
struct UnlinkedColumn {
  std::string column;
  std::string why;
};

using manifest::TableManifest;  // merger/manifest.h: what verify checks.

struct TableReport {
  std::string table;
  std::string prod_table;  // Production's table feeding it ("" if none).
  std::string key_kind;
  // The columns (development's names) a key text joins with ",".
  std::vector<std::string> key_columns;
  int64_t prod_rows = 0;
  int64_t dev_rows = 0;
  int64_t base = 0;            // In both with identical content: once.
  int64_t prod_only = 0;       // Production rows dev does not have.
  int64_t dev_only = 0;        // Dev rows kept with their own key.
  int64_t remapped = 0;        // Dev rows given a fresh key.
  int64_t unified = 0;         // Dev rows merged into a prod row.
  int64_t conflicts = 0;       // Same key, other content: prod's kept.
  int64_t deleted_in_prod = 0; // Dev rows production had deleted.
  int64_t dropped = 0;         // Dev rows that could not be placed.
  int64_t taken_from_dev = 0;  // With --base: base rows only dev edited.
  int64_t output_rows = 0;
  int64_t base_high_water = 0;  // The change point; 0 when not applicable.
  // Two-way: dev rows inference took for edits (conflicts) or production's
  // deletions, and the decisions the evidence left open (both rows kept).
  int64_t inferred = 0;
  int64_t ambiguous = 0;
  struct Ambiguous {
    std::string key;
    std::string evidence;  // "key K: what both sides hold, ...: what was done".
  };
  std::vector<Ambiguous> ambiguous_list;
  // With --key-headroom: production's top key at its dump, and the last key
  // left free for its writes since ({0, 0} when off).
  std::pair<int64_t, int64_t> key_headroom{0, 0};
  std::vector<KeyRange> remaps;
  std::vector<Unification> unifications;
  std::vector<Conflict> conflict_list;
  std::vector<std::string> deleted_keys;
  std::vector<std::string> dev_edit_keys;  // With --base: taken from dev.
  std::vector<std::string> prod_edit_keys;  // With --base: prod's edits.
  std::vector<DroppedRow> dropped_list;
  std::vector<ColumnLoss> lost_columns;
  // Columns development added: development's values on rows whose
  // production version is written (base rows, conflicts production won,
  // unified rows), and of them those production's row does not get (the
  // default or --fill differs, or is evaluated at restore).
  std::vector<ColumnLoss> dev_values_not_carried;
  std::vector<SchemaChange> schema_changes;
  std::vector<ReferenceReport> references;  // Per Plan::fks slot.
  std::vector<UnlinkedColumn> unlinked_columns;
  bool only_in_prod = false;  // Dropped by dev (allowed by --allow-drop).
  bool only_in_dev = false;
  bool extension_config = false;  // Rows of an extension's config table.
  TableManifest output;  // What the merge emitted.
  TableManifest prod;    // Production's rows as read.
};

struct SequenceReport {
  std::string sequence;
  int64_t value = 0;
  bool is_called = true;
  int64_t prod_value = 0;
  int64_t dev_value = 0;
  int64_t max_key = 0;
  // The merged position is production's or development's own (the merge
  // added no key past it): keys past it are ones that side already held
  // past its own sequence.
  bool kept = false;
};

// Large objects of both dumps (merger/large_objects.cc).
struct LargeObjectReport {
  int64_t prod = 0;             // Read from production's dump: all written.
  int64_t dev = 0;              // Read from development's.
  int64_t same = 0;             // Dev's with a prod OID and its content: once.
  int64_t dev_new = 0;          // Dev's OIDs production lacks: written.
  int64_t taken_from_dev = 0;   // With --base: content only dev changed.
  int64_t prod_edited = 0;      // With --base: content only prod changed.
  int64_t deleted_in_prod = 0;  // With --base: prod deleted, dev unchanged.
  std::vector<uint32_t> dev_new_oids, taken_from_dev_oids, deleted_oids;
  // The manifest: what the output holds, and production's as dumped.
  std::vector<manifest::ManifestLargeObject> output, prod_side;
};

struct ObjectRef {
  std::string type, schema, name;
  bool kept = false;  // Written to the output (--keep-prod-objects).
  // Why --keep-prod-objects still left it out ("" when kept or not asked).
  std::string left_out;
};

struct Report {
  std::string prod_file;
  std::string dev_file;
  // With --base: edits and deletions are exact; without, inferred.
  bool three_way = false;
  // The dumps' client_encoding ("UTF8" when they set none): the text the
  // manifest's hashes are over, and verify reads the shadow in.
  std::string client_encoding = "UTF8";
  // Dumps whose values pg_dump wrote in its session's form (a timestamptz
  // in another time zone than UTC, a bytea in the escape form), merged from
  // a copy with them in the form every row is compared in
  // (merger/canonical.cc, manifest::kRowSettings).
  struct RewrittenDump {
    std::string file;
    int64_t values = 0;  // Values written again.
  };
  std::vector<RewrittenDump> rewritten_dumps;
  // Objects production's schema has and development's lacks (an index, a
  // function, a trigger a hotfix added): not in the output.
  std::vector<ObjectRef> prod_only_objects;
  // Why the merge was refused, one "FILE:LINE: what" each (offending rows
  // first N per check); empty for a merge that was written.
  std::vector<std::string> refusals;
  std::vector<TableReport> tables;
  std::vector<SequenceReport> sequences;
  LargeObjectReport large_objects;
  // Constraints and indexes the output leaves unchecked as the dump did.
  manifest::ManifestUnvalidated unvalidated;
  // Statements --no-owner and --no-privileges left out of the output, and
  // the drops of development's dump made with pg_dump --clean.
  int64_t owner_statements_left_out = 0;
  int64_t privilege_statements_left_out = 0;
  int64_t clean_statements_left_out = 0;
  int64_t total_conflicts() const;
  int64_t total_inferred() const;
  int64_t total_ambiguous() const;
  int64_t total_lost_values() const;
};

// The report as JSON (schema in docs/report.md); deterministic.
std::string ReportJson(const Report& report);
// A table a line, for a person to review before a swap.
std::string ReportSummary(const Report& report);

}  // namespace pgmerge::merger

#endif  // PGMERGE_MERGER_REPORT_H_
