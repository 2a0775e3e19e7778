// `pgmerge rollback`: undoes a swap (see swap.h) with the same closing and
// checking, renaming back in one transaction.
#ifndef PGMERGE_SWAP_ROLLBACK_H_
#define PGMERGE_SWAP_ROLLBACK_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace pgmerge::swap {

struct RollbackOptions {
  std::string server;
  std::string maintenance_db = "postgres";
  std::string main;
  std::string state_path;   // "" = DefaultStatePath(main).
  std::string shadow;       // "" = from the journal.
  std::string old_name;     // "" = from the journal.
  std::string report_json;  // "" = the report the journal names, if any.
  double grace_seconds = 5;
  double terminate_timeout_seconds = 10;
  bool force = false;  // Roll back even though main was written since the swap.
  bool dry_run = false;
  std::function<void(std::string_view)> log;
  std::function<bool()> interrupted;
  // Called after each journaled step ("rolled_back"), as SwapOptions's.
  std::function<void(std::string_view step)> after_step;
};

struct RollbackResult {
  enum class Outcome { kRolledBack, kReopened, kWritesSinceSwap, kDryRun };
  Outcome outcome = Outcome::kRolledBack;
  std::string main, shadow, old_name;
  std::vector<std::string> writes_since_swap;  // What a rollback would lose.
  int64_t dark_window_ms = 0;
};

// Renames back (main -> shadow's name, old -> main) in one transaction,
// after closing main the way swap does. Refuses (kWritesSinceSwap) when main
// no longer holds what the merge wrote, unless `force`: those rows would be
// left behind in the shadow. After a swap interrupted before its renames it
// only reopens main.
absl::StatusOr<RollbackResult> Rollback(const RollbackOptions& options);

}  // namespace pgmerge::swap

#endif  // PGMERGE_SWAP_ROLLBACK_H_
