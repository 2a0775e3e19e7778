// `pgmerge swap --rehearse`: the live switch played against copies, to
// learn before the real one whether catch-up keeps up with main's writes
// and what dark window it would have had. Nothing live changes: main is
// only read (its catalog, its sequences, its change stream through a copy
// of the dump's slot), the shadow is only copied, the real slot is never
// read; every temporary (the shadow's copy, main's stand-in, the slot's
// copy) is dropped afterwards, on failure too.
#ifndef PGMERGE_SWAP_REHEARSE_H_
#define PGMERGE_SWAP_REHEARSE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "swap/swap.h"

namespace pgmerge::swap {

struct RehearsalResult {
  std::string main, shadow, slot;  // The real ones, untouched.
  int rounds = 0;
  int64_t live_changes = 0, live_ms = 0;  // Live rounds: bounded by main's write rate.
  int64_t grace_ms = 0;                   // What sessions would be given.
  // Applied as the dark window would: a round in the grace period, the
  // last after it. (Main is not closed here: rounds go on through the
  // grace, counted as live, so the last one holds one round's writes.)
  int64_t tail_changes = 0, tail_ms = 0;
  int64_t rename_ms = 0;
  // grace + tail + the shadow's bookkeeping dropped + the renames.
  int64_t dark_window_ms = 0;
  int sessions_on_main = 0;  // Now; a swap would give them grace, then end them.
  std::vector<std::string> temporaries;  // Created, and dropped again.
};

// Uses `o.main`, `o.shadow` (database names on `o.server`),
// `o.maintenance_db`, `o.report_json`, `o.slot`, `o.grace_seconds`, the
// catch-up limits, `o.log` and `o.interrupted`. Errors as Swap's before
// closing: FailedPrecondition for what the real swap would refuse (the
// lag not falling included), with every temporary dropped.
absl::StatusOr<RehearsalResult> Rehearse(const SwapOptions& o);

}  // namespace pgmerge::swap

#endif  // PGMERGE_SWAP_REHEARSE_H_
