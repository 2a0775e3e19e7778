// The x+y+z merge: production's dump (x+y) and development's dump (x+z) in,
// one SQL stream out that restores x+y+z with development's schema.
//
// Passes: (0) each dump's catalog; (1) index keys and fingerprints of every
// row of both dumps; decide, table by table with parents first, which
// development rows are base rows, collisions to remap, unifications, and
// conflicts; (2) stream the output, each table once it is decided, while
// later ones still are. Everything that can fail on input fails before the
// first output byte; decide's own refusal (fresh keys that do not fit) may
// come after it.
#ifndef PGMERGE_MERGER_MERGE_H_
#define PGMERGE_MERGER_MERGE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "base/mapped_file.h"
#include "base/output.h"
#include "merger/report.h"

namespace pgmerge::merger {

struct DumpInput {
  std::string_view data;  // The whole plain-format dump; must outlive Merge.
  std::string name;       // For messages: "FILE:LINE: ...".
  // The mapping `data` views, if any: its pages are released behind each
  // pass so resident memory does not grow with the size of the dumps.
  const MappedFile* file = nullptr;
};

struct MergeOptions {
  // Conflicts (same key, different content) refuse the merge: no output.
  bool fail_on_conflict = false;
  // Two-way decisions the evidence left open (both rows kept, reported)
  // refuse the merge: no output.
  bool fail_on_ambiguous = false;
  // Tables production has and development dropped; their rows are lost
  // (and counted) instead of refusing the merge.
  std::vector<std::string> allow_drop;
  // The dump both sides forked from (--base): makes the merge three-way,
  // so edits and deletions are told apart exactly instead of inferred.
  DumpInput base;
  // Which version a row edited on both sides keeps (with a base only).
  bool prefer_dev = false;

  // Fitting production's rows to development's schema. Tables are named
  // "schema.table" or "table" (in public).
  struct ColumnFill {  // --fill TABLE.COLUMN=VALUE
    std::string table, column, value;
  };
  struct ColumnRename {  // --rename TABLE.OLD=NEW
    std::string table, from, to;
  };
  struct TableRename {  // --rename-table OLD=NEW
    std::string from, to;
  };
  std::vector<ColumnFill> fills;
  std::vector<ColumnRename> column_renames;
  std::vector<TableRename> table_renames;
  // References no foreign key declares (merger/references.cc): followed as
  // foreign keys are, so development's values follow remapped keys.
  struct Reference {  // --reference TABLE.COLUMN=PARENT: one to follow.
    std::string table, column, parent;
  };
  struct NotReference {  // --no-reference TABLE.COLUMN: one not to infer.
    std::string table, column;
  };
  std::vector<Reference> references;
  std::vector<NotReference> not_references;
  // Any production value lost in a column development dropped (other than
  // the column's default) refuses the merge.
  bool strict = false;
  // Write the schema objects only production has (a hotfix index, function
  // or trigger) after development's, instead of only listing them.
  bool keep_prod_objects = false;
  // The key of the \restrict / \unrestrict pair around the output
  // (--restrict-key, as pg_dump's); empty: derived from the inputs.
  std::string restrict_key;
  // Key headroom (--key-headroom N; 0 = off): in tables keyed by a
  // sequence, the N keys above production's sequence are left to the
  // writes production makes after its dump (caught up by `pgmerge
  // catch-up`); development's rows there are remapped above them.
  int64_t key_headroom = 0;
  // pg_restore's --no-owner, --no-privileges and --role: no statement that
  // gives an object to a dump's role (ALTER ... OWNER TO, SET SESSION
  // AUTHORIZATION); no GRANT, REVOKE or ALTER DEFAULT PRIVILEGES; `SET
  // ROLE role` first. For restoring as an application role.
  bool no_owner = false;
  bool no_privileges = false;
  std::string role;
};

// Runs the merge and writes SQL to `out` (may be a discarding buffer).
// Returns the report. Errors: DataLoss for malformed dumps ("FILE:LINE:"),
// FailedPrecondition for schemas that cannot be fitted, Aborted when
// fail_on_conflict refused a merge with conflicts (report in the message).
// When the merge is refused and `refusal` is given, it receives the report
// as far as it got, with every refusal (offending rows first) listed.
absl::StatusOr<Report> Merge(const DumpInput& prod, const DumpInput& dev,
                             const MergeOptions& options, OutputBuffer* out,
                             Report* refusal = nullptr);

}  // namespace pgmerge::merger

#endif  // PGMERGE_MERGER_MERGE_H_
