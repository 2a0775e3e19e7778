// Closing a database and proving it unchanged (internal to swap/): steps 2
// and 3 of a swap, and of a rollback. The database is closed to new
// connections, writes are blocked while sessions get a grace period to
// finish, the rest are terminated; then, with pgmerge's own sessions the
// only ones left, it is compared exactly with a manifest. The caller
// renames after Release().
#ifndef PGMERGE_SWAP_QUIESCE_H_
#define PGMERGE_SWAP_QUIESCE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "swap/manifest.h"
#include "swap/pg.h"

namespace pgmerge::swap::internal {

// Not thread-safe. `admin` (a session on the maintenance database), `log`
// and `interrupted` must outlive the object.
class Quiesce {
 public:
  // `session` takes the locks; `extra` sessions help the drift check.
  Quiesce(PGconn* admin, Conn session, std::vector<Conn> extra, std::string db,
          const std::function<void(std::string_view)>& log,
          const std::function<bool()>& interrupted);
  Quiesce(const Quiesce&) = delete;
  Quiesce& operator=(const Quiesce&) = delete;

  // Closes `db` (and `also_close`, kept from latecomers until the renames).
  absl::Status Close(const std::vector<std::string>& also_close);

  // Blocks writes, lets sessions finish within `grace_seconds`, terminates
  // the rest and waits until they are gone. Returns how many client
  // sessions were terminated; background workers still on the database
  // then are terminated too and listed by background_terminated().
  // `during_grace`, if set, runs once the writes are blocked (or could not
  // be), inside the grace period; its error stops the drain.
  absl::StatusOr<int> Drain(double grace_seconds, double terminate_timeout_seconds,
                            const std::function<absl::Status()>& during_grace = nullptr);

  // REQUIRES: Drain() succeeded. With every other session gone, each
  // statement sees every committed write: the comparison is exact.
  absl::StatusOr<std::vector<TableDifference>> Check(const std::vector<ManifestTable>& manifest,
                                                     bool include_new_tables,
                                                     int64_t* rows_checked,
                                                     int64_t range_blocks = kRangeBlocks);

  // The session holding the locks, for checks beyond the manifest's
  // tables. Null after Release().
  PGconn* session() const { return session_.get(); }
  // The first of the `extra` sessions (not in a transaction), or null:
  // swap --catch-up reads the slot on it once main is closed.
  PGconn* helper() const { return extra_.empty() ? nullptr : extra_[0].get(); }

  // Ends pgmerge's own sessions on the database and waits for their
  // backends to exit: a rename refuses while anyone, us included, is
  // connected.
  absl::Status Release();
  // Ends them without waiting; returns their backends' pids, which the
  // caller waits for (WaitForExit) before the renames. Release() after it
  // has nothing left to do.
  std::vector<int> Disconnect();

  bool writes_blocked() const { return writes_blocked_; }
  const std::vector<std::string>& background_terminated() const { return background_; }

 private:
  std::vector<int> OwnPids() const;
  // Takes EXCLUSIVE locks on every table in one transaction of session_.
  absl::Status BlockWrites(double grace_seconds);
  // After the grace period: terminates the client sessions left and waits
  // for them; returns how many.
  absl::StatusOr<int> TerminateClients(double terminate_timeout_seconds);
  absl::Status StopBackgroundWorkers(std::chrono::steady_clock::time_point deadline,
                                     double terminate_timeout_seconds);

  PGconn* admin_;
  Conn session_;
  std::vector<Conn> extra_;
  std::string db_;
  const std::function<void(std::string_view)>& log_;
  const std::function<bool()>& interrupted_;
  bool writes_blocked_ = false;
  std::vector<std::string> background_;
};

// Each difference as a line.
std::vector<std::string> Describe(const std::vector<TableDifference>& diff);

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_QUIESCE_H_
