// Statements sent to the shadow in libpq's pipeline mode (internal to
// swap/): catch-up applies thousands of small statements a second, and one
// round trip each was most of its time. Statements go out back to back;
// their outcomes come back in order and are handed to a callback each, so
// the caller's per-statement decisions (a refusal naming the change, a
// count) are made as before, only later. A server error aborts what
// follows up to the next sync; the caller's transaction is then rolled
// back, so nothing half-applied is ever committed.
#ifndef PGMERGE_SWAP_PIPELINE_H_
#define PGMERGE_SWAP_PIPELINE_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "swap/pg.h"

namespace pgmerge::swap::internal {

// A statement's outcome; the SQLSTATE comes back with the error so
// collisions can be told from other failures.
struct ExecOutcome {
  absl::Status status;
  std::string sqlstate;
  std::string constraint;  // The violated constraint, when the error names one.
  int64_t affected = 0;
};
ExecOutcome OutcomeOf(PGresult* r);

// Not thread-safe. Each distinct statement is prepared once per
// connection: a change stream repeats a handful of shapes (per table:
// insert, update of these columns, delete), and planning each of thousands
// of rows again costs more than running it.
class Pipeline {
 public:
  using Done = std::function<absl::Status(const ExecOutcome&)>;
  explicit Pipeline(PGconn* conn) : conn_(conn) {}
  ~Pipeline();

  // Enters pipeline mode (the connection must be idle, e.g. just after BEGIN).
  absl::Status Begin();
  // Queues `sql` with text `params`; `done` runs when its outcome came back
  // (in order, from Send or Finish). After the first error (the server's or
  // a callback's) nothing more is sent and later callbacks do not run.
  absl::Status Send(const std::string& sql, const std::vector<std::optional<std::string>>& params,
                    Done done);
  // Waits for every outcome and leaves pipeline mode; the first error.
  absl::Status Finish();

 private:
  struct Pending {
    enum class Kind { kPrepare, kQuery, kSync } kind;
    std::string sql;  // kPrepare: forgotten again if the prepare failed.
    Done done;
  };
  absl::Status Sync();
  absl::Status ReadOne();  // Consumes the oldest pending entry's results.

  PGconn* conn_;
  bool on_ = false;
  absl::Status first_error_;
  std::deque<Pending> pending_;
  int unsynced_ = 0, syncs_in_flight_ = 0;
  std::map<std::string, std::string> names_;  // SQL -> prepared statement.
};

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_PIPELINE_H_
