// `pgmerge swap` and `pgmerge rollback`: replace the live database by the
// verified shadow with both renames in one transaction, after proving that
// nothing was written to it since the dump the merge read (y'). Every step
// is journaled to a state file so an interrupted swap can be resumed or
// undone; the server's own catalog is the truth the journal is checked
// against.
#ifndef PGMERGE_SWAP_SWAP_H_
#define PGMERGE_SWAP_SWAP_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "swap/rollback.h"

namespace pgmerge::swap {

// Where and how to connect. Databases are named; the server is reached the
// way psql does (conninfo string or URI in `server`, PG* variables, the
// service file, .pgpass). `main` or `shadow` may also be a full conninfo
// string or URI, in which case the databases' servers are compared.
struct SwapOptions {
  std::string server;                     // "" = libpq's defaults.
  std::string maintenance_db = "postgres";  // Where the renames run from.
  std::string main;
  std::string shadow;
  std::string report_json;  // The merge's report: both manifests.
  std::string report_path;  // Recorded in the journal, for rollback.
  std::string state_path;   // The journal; "" = DefaultStatePath(main).
  std::string old_name;     // "" = MAIN_old_YYYYMMDD_HHMMSS (UTC).
  double grace_seconds = 5;  // Sessions on main get this long to finish.
  double terminate_timeout_seconds = 10;
  int jobs = 2;  // Sessions the checks read the shadow and main with.
  // Heap blocks per ctid range when those sessions share a table (8 MB);
  // tests make it small so that small tables are read in ranges too.
  int64_t check_range_blocks = 1024;
  bool dry_run = false;  // Every precondition and the drift check; no change.
  bool resume = false;   // Finish or restart the swap the journal records.
  // Swap although main has logical replication slots (not pgmerge's) or
  // subscriptions: they belong to the database, not its name, and stay
  // with the old one. Refused without it.
  bool leave_replication = false;
  // The live switch: the writes made on main since `pgmerge dump` (y') are
  // applied to the shadow from the dump's logical slot instead of refused.
  // Rounds of catch-up run while main is live until one applies fewer than
  // `catch_up_lag` changes (or `catch_up_rounds` ran); then main is closed
  // and drained as usual, the tail is applied up to the WAL position after
  // every session is gone, and the renames follow. The slot's changes are
  // the drift, so main is not re-hashed against production's dump. The
  // slot is dropped after the renames, after a stop once main was closed,
  // and by rollback; a refusal before closing keeps it (fix, run again).
  bool catch_up = false;
  std::string slot;  // "" = the only pgmerge slot of main's database.
  // Main is closed only once a live round applied fewer than
  // `catch_up_lag` changes. The swap stops before closing (FailedPrecondition,
  // the slot kept, the shadow keeping what was applied) when that did not
  // happen within `catch_up_rounds` rounds or `catch_up_timeout_seconds`, or
  // when 3 rounds in a row applied no fewer changes than the smallest
  // before them: the lag is not shrinking (swap/live_rounds.h).
  int64_t catch_up_lag = 1000;
  int catch_up_rounds = 20;
  double catch_up_timeout_seconds = 300;
  std::function<void(std::string_view)> log;  // A line per step.
  std::function<bool()> interrupted;          // Polled while waiting.
  // Called after each journaled step ("preconditions_ok", "closed",
  // "sessions_gone", "drift_checked" or, with catch_up, "caught_up",
  // "renamed"): tests kill the process
  // there to prove --resume and rollback recover from a crash at any step.
  std::function<void(std::string_view step)> after_step;
  // Called before each live catch-up round (swap and rehearsal): tests
  // write to main there, so that every round has a change to apply, which a
  // writer thread on a loaded machine cannot promise.
  std::function<void()> before_live_round;
};

struct SwapResult {
  enum class Outcome { kSwapped, kDrift, kDryRun };
  Outcome outcome = Outcome::kSwapped;
  std::string main, shadow, old_name;
  // y': each table of main that no longer matches production's dump.
  std::vector<std::string> drift;
  bool drift_seen_live = false;  // Found before main was closed at all.
  int sessions_terminated = 0;  // Client sessions.
  // Background workers (backend_type other than client backend, walsender
  // and autovacuum) found on main after the grace period and terminated.
  std::vector<std::string> background_workers_terminated;
  // Step 2 start (main closed) to step 4 end (renamed, reopened), and its
  // parts: closing (journal, locks), waiting (grace, terminations), the
  // drift check (exact, without a slot), with --catch-up the last round
  // (tail, journal, the checks beside it) and its cleanup (bookkeeping
  // dropped, journal), our own sessions' exit, the renames.
  int64_t dark_window_ms = 0, waiting_ms = 0, drift_check_ms = 0, rename_ms = 0;
  int64_t closing_ms = 0, last_round_ms = 0, cleanup_ms = 0, exit_wait_ms = 0;
  int64_t rows_checked = 0;
  bool resumed_after_rename = false;  // --resume found the renames done.
  // --catch-up: changes applied live (before closing) and in the tail
  // (inside the dark window), how long each took, the slot.
  bool caught_up = false;
  std::string slot;
  int catch_up_rounds = 0;
  int64_t live_changes = 0, live_ms = 0, tail_changes = 0, tail_ms = 0;
  bool slot_dropped = false;
};

// Errors: FailedPrecondition for a refused precondition (nothing changed,
// main open), Unavailable when the server cannot be reached, Aborted when
// the swap was stopped after main was closed (main is reopened before
// returning; the message says so), Internal for anything else.
absl::StatusOr<SwapResult> Swap(const SwapOptions& options);

// The journal's default path for a main database name:
// $XDG_STATE_HOME/pgmerge/pgmerge-swap-MAIN.json, or
// ~/.local/state/pgmerge/... when XDG_STATE_HOME is unset (the directory is
// made, mode 0700, on first write); the working directory when neither
// HOME nor XDG_STATE_HOME is an absolute path.
std::string DefaultStatePath(std::string_view main);

}  // namespace pgmerge::swap

#endif  // PGMERGE_SWAP_SWAP_H_
