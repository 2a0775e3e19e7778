// Step 1 of `pgmerge swap` (internal to swap/): the checks of the catalog,
// of the shadow and of main while it is open, which must all hold before
// anything is changed. A refusal is FailedPrecondition, with nothing
// changed and main open.
#ifndef PGMERGE_SWAP_PRECONDITIONS_H_
#define PGMERGE_SWAP_PRECONDITIONS_H_

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "swap/drift.h"
#include "swap/manifest.h"
#include "swap/pg.h"
#include "swap/server.h"
#include "swap/swap.h"

namespace pgmerge::swap::internal {

// The merge's report as a swap reads it.
struct SwapReport {
  std::string json;
  std::string path;  // Recorded in the journal, for rollback.
  std::vector<ManifestTable> prod, output;  // Its two manifests.
  std::vector<DumpedSequence> sequences;
};

// Sessions on main and on the shadow of `names`: by name on `o.server`,
// or as `o.main` and `o.shadow` give them in full.
absl::StatusOr<Conn> ConnectMain(const SwapOptions& o, const Names& names);
absl::StatusOr<Conn> ConnectShadow(const SwapOptions& o, const Names& names);

// The databases, asked on `admin`: main and the shadow exist and are not
// templates, the old name is free, neither is `maintenance_db`, main is
// open, the role may rename both, and no prepared transaction holds them.
// Returns whether the shadow allows connections now.
absl::StatusOr<bool> CheckDatabases(PGconn* admin, const Names& names,
                                    const std::string& maintenance_db);

// The shadow holds what the merge wrote (the report's output manifest, read
// on `o.jobs` sessions, all closed before returning), unless `catch_up` and
// catch-up has already applied main's rows to it (or `o.resume`: it had,
// before the journal was written; then one session reads the baseline);
// its part of the drift baseline goes into `baseline`; then nobody else is
// connected to it.
absl::Status CheckShadow(PGconn* admin, const SwapOptions& o, const Names& names,
                         bool catch_up, const SwapReport& report, DriftBaseline* baseline);

// Main while it is still open: y' that is already there stops the swap
// before any downtime (the result's outcome kDrift, drift_seen_live).
// Opens main's sessions, `*main_conn` for the locks and `*extra` the drift
// check's helpers (none with `catch_up`); takes main's catalog fingerprint
// into `baseline`. The result names the databases, as a swap's does.
absl::StatusOr<SwapResult> CheckMainOpen(const SwapOptions& o, PGconn* admin, const Names& names,
                                         bool catch_up, const SwapReport& report,
                                         DriftBaseline* baseline, Conn* main_conn,
                                         std::vector<Conn>* extra);

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_PRECONDITIONS_H_
