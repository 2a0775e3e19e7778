// The merge report's manifest, compared with a live database (internal to
// swap/): verify checks the shadow against what the merge wrote, swap checks
// main against what production held when it was dumped (y' detection), and
// rollback checks main against the shadow it became (writes since the swap).
#ifndef PGMERGE_SWAP_MANIFEST_H_
#define PGMERGE_SWAP_MANIFEST_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "merger/manifest.h"
#include "swap/pg.h"
#include "swap/verify.h"

namespace pgmerge::swap::internal {

// The manifest's reader is merger/manifest.h's, the one definition the
// merge's writer shares.
using manifest::ManifestSequence;
using manifest::ManifestTable;
using manifest::ReadManifest;
using manifest::ReadSequences;
using manifest::Side;

// One table that is not as the manifest says. `rows` is -1 when the table
// could not be read (`error` says why); `want_rows` -1 for a table the
// manifest does not know.
struct TableDifference {
  std::string table;
  int64_t want_rows = 0;
  int64_t rows = 0;
  bool content_differs = false;  // Same count, other rows.
  std::string error;
  std::string Describe() const;
};

// Hashes every table of `manifest` on `conn` (formats set as pg_dump's) and
// returns the ones that differ. `rows_checked` counts what was read.
absl::StatusOr<std::vector<TableDifference>> CompareWithManifest(
    PGconn* conn, const std::vector<ManifestTable>& manifest, int64_t* rows_checked);
// The same on several sessions of one database at once, one thread each:
// tables larger than a few MB are cut into ctid ranges (TID range scans),
// so one big table is read by every session. Exact: the hash is a sum.
absl::StatusOr<std::vector<TableDifference>> CompareWithManifest(
    const std::vector<PGconn*>& sessions, const std::vector<ManifestTable>& manifest,
    int64_t* rows_checked);

// User tables of the database the manifest does not list, with their rows:
// created after the dump, so the shadow lacks them.
absl::StatusOr<std::vector<TableDifference>> TablesNotInManifest(
    PGconn* conn, const std::vector<ManifestTable>& manifest);

// verify's checks on an open connection to the shadow. `sequences`: the
// report's (ReadSequences); a sequence the merge kept at an input's own
// position is checked against that position, not against its column.
absl::StatusOr<VerifyResult> VerifyConnected(
    PGconn* conn, const std::vector<ManifestTable>& manifest,
    const std::vector<ManifestSequence>& sequences = {});

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_MANIFEST_H_
