// The drift check beyond production's rows (internal to swap/). The
// manifest's hashes prove main's rows in production's columns are as
// dumped; a swap would still lose what main holds elsewhere. This checks:
//   - values in columns main has that the dump did not (added since);
//   - sequences that moved since the dump (nextval() without a row kept:
//     the new main's sequence would hand those keys out again), against the
//     report's `prod_value`;
//   - large objects: main's against production's as the manifest lists
//     them (OID, size, SHA-256), exactly: one written, changed or deleted
//     since the dump is drift (reports from before the manifest listed
//     them: main's that the shadow lacks or holds otherwise);
//   - the schema: catalog rows (tables, columns, defaults, constraints,
//     indexes, functions, triggers, types, rules, policies, comments,
//     schemas, extensions, sequences' definitions) created or changed after
//     the shadow was restored, found by their xmin against the restore's
//     transaction (xids are cluster-wide and the shadow is on main's
//     server); and a fingerprint of those rows (identity and xmin), taken
//     at the live pre-check and again once main is closed, which also sees
//     an object dropped in between.
// What it cannot see: DDL made between the dump and the restore that holds
// no data (an empty table or column, an index, a function, a comment), and
// objects dropped before the pre-check. Those leave the shadow with
// development's schema, which is what the swap installs anyway.
#ifndef PGMERGE_SWAP_DRIFT_H_
#define PGMERGE_SWAP_DRIFT_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "swap/manifest.h"
#include "swap/pg.h"

namespace pgmerge::swap::internal {

// A sequence as the report lists it: the value production's dump had drawn
// up to (is_called ? last_value : last_value - 1, as merger computes it).
struct DumpedSequence {
  std::string name;
  int64_t prod_value = 0;
};
absl::StatusOr<std::vector<DumpedSequence>> ReadDumpedSequences(std::string_view report_json);

// Taken in step 1, from the verified shadow and from main while it still
// matches the dump.
struct DriftBaseline {
  std::string restore_xid;  // The oldest xmin of the shadow's restored tables.
  std::map<std::string, std::string> shadow_large_objects;  // OID -> md5.
  std::string catalog_fingerprint;                          // main's.
  // The manifest's production side; nullopt for a report without it.
  std::optional<std::vector<ManifestLargeObject>> prod_large_objects;
};

// The shadow's part. `output`: the tables the merge wrote.
absl::Status ReadShadowBaseline(PGconn* shadow, const std::vector<ManifestTable>& output,
                                DriftBaseline* base);
// main's catalog fingerprint (see above).
absl::StatusOr<std::string> CatalogFingerprint(PGconn* main);

// Every difference found on main, one line each. `base.catalog_fingerprint`
// empty skips that comparison (the live pre-check takes it).
absl::StatusOr<std::vector<std::string>> WiderDrift(PGconn* main,
                                                   const std::vector<ManifestTable>& prod,
                                                   const std::vector<DumpedSequence>& sequences,
                                                   const DriftBaseline& base);

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_DRIFT_H_
