// The merge report's manifest, compared with a live database (internal to
// swap/): verify checks the shadow against what the merge wrote, swap checks
// main against what production held when it was dumped (y' detection), and
// rollback checks main against the shadow it became (writes since the swap).
#ifndef PGMERGE_SWAP_MANIFEST_H_
#define PGMERGE_SWAP_MANIFEST_H_

#include <cstdint>
#include <optional>
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
using manifest::ManifestLargeObject;
using manifest::ManifestSequence;
using manifest::ManifestTable;
using manifest::ManifestUnvalidated;
using manifest::ReadLargeObjects;
using manifest::ReadManifest;
using manifest::ReadSequences;
using manifest::ReadUnvalidated;
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
// Heap blocks per ctid range of the several-session check: 8 MB.
inline constexpr int64_t kRangeBlocks = 1024;
// The same on several sessions of one database at once, one thread each:
// tables larger than `range_blocks` are cut into ctid ranges (TID range
// scans), so one big table is read by every session. Exact: the hash is a
// sum.
absl::StatusOr<std::vector<TableDifference>> CompareWithManifest(
    const std::vector<PGconn*>& sessions, const std::vector<ManifestTable>& manifest,
    int64_t* rows_checked, int64_t range_blocks = kRangeBlocks);

// User tables of the database the manifest does not list, with their rows:
// created after the dump, so the shadow lacks them.
absl::StatusOr<std::vector<TableDifference>> TablesNotInManifest(
    PGconn* conn, const std::vector<ManifestTable>& manifest);

// The large objects of `conn`'s database, by OID, measured as the manifest
// lists them (size and SHA-256 of the content).
absl::StatusOr<std::vector<ManifestLargeObject>> LiveLargeObjects(PGconn* conn);
// How `live` differs from `want` (both by OID), one line per large object:
// in the manifest and not live (`missing`), live and not in the manifest
// (`extra`), or with other content.
std::vector<std::string> CompareLargeObjects(const std::vector<ManifestLargeObject>& live,
                                             const std::vector<ManifestLargeObject>& want,
                                             std::string_view extra, std::string_view missing);

// verify's checks on open sessions of the shadow (the rows read on all of
// them, as CompareWithManifest; the rest on the first). `sequences`: the
// report's (ReadSequences); a sequence the merge kept at an input's own
// position is checked against that position, not against its column.
// `large_objects`: the manifest's output side (ReadLargeObjects); the
// shadow must hold exactly those. Not checked for a report without them.
// `unvalidated`: the constraints and indexes the output leaves unchecked as
// the dump had them (ReadUnvalidated), not blamed.
absl::StatusOr<VerifyResult> VerifyConnected(
    const std::vector<PGconn*>& sessions, const std::vector<ManifestTable>& manifest,
    const std::vector<ManifestSequence>& sequences = {},
    const std::optional<std::vector<ManifestLargeObject>>& large_objects = std::nullopt,
    const ManifestUnvalidated& unvalidated = {});

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_MANIFEST_H_
