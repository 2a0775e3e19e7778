// `pgmerge catch-up`: applies to the shadow the writes made on main after
// its dump (y'), read from the logical slot `pgmerge dump` created, with the
// merge's rules: production's keys kept, updates and deletes found by key,
// production's columns mapped onto development's shape as the report says
// (dropped columns left out, renamed ones carried, added ones filled as the
// merge filled them), sequences advanced to main's. Exactly once: the LSN of
// the last applied commit is stored in the shadow (pgmerge.catchup) in the
// same transaction as the changes, and the slot is only advanced after that
// transaction committed, so a run interrupted anywhere continues where it
// stopped and applies nothing twice.
#ifndef PGMERGE_SWAP_CATCHUP_H_
#define PGMERGE_SWAP_CATCHUP_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "parser/names.h"
#include "swap/pg.h"

namespace pgmerge::swap {

struct CatchUpOptions {
  std::string server;  // "" = libpq's defaults; main and shadow live on it.
  std::string main;
  std::string shadow;
  std::string report_json;  // The merge's report: tables, columns, sequences.
  std::string slot;         // "" = the only pgmerge slot of main's database.
  // Changes read per shadow transaction (at least). Small: a row main
  // updates often (pgbench's branches) is updated again and again in one
  // shadow transaction, and each update walks every version the
  // transaction left so far; 100,000 ran 4x slower than 1,000.
  int batch_changes = 1000;
  bool drop_slot = false;  // When caught up: drop the slot and pgmerge schema.
  std::function<void(std::string_view)> log;
};

struct CatchUpResult {
  std::string slot;
  std::string start_lsn;    // Where this run started (the last applied commit).
  std::string applied_lsn;  // The last commit applied, after this run.
  std::string target_lsn;   // Main's WAL end when the run started.
  int64_t transactions = 0, inserts = 0, updates = 0, deletes = 0;
  int64_t already_gone = 0;  // Deletes whose row the shadow no longer had
                              // (a cascade in the shadow removed it first).
  int64_t skipped_transactions = 0;  // Applied by an earlier run.
  int64_t lost_values = 0;  // Non-NULL values in columns development dropped.
  std::vector<std::string> dropped_tables;  // Written on main, dropped by dev.
  int sequences_advanced = 0;
  int64_t lag_bytes = 0;  // Main's WAL written since target_lsn.
  bool slot_dropped = false;
};

// Errors: FailedPrecondition for what cannot be applied, named (DDL on main
// since the dump, UPDATE/DELETE on a table without a replica identity, a y'
// key a development row holds in the shadow, TRUNCATE); the shadow keeps
// every batch committed before it, and a re-run after the cause is fixed
// continues. Unavailable when a database cannot be reached, InvalidArgument
// for a report that is not pgmerge's.
absl::StatusOr<CatchUpResult> CatchUp(const CatchUpOptions& options);

namespace internal {

// A catch-up of several rounds on sessions the caller holds: the report,
// main's catalog, the slot and the shadow's prepared statements are read
// once, and main's changes come over one replication stream, so a round
// costs what it applies (swap --catch-up runs its live rounds and the tail
// on one). `o.server`, `o.main` and `o.shadow` are not used; `main`,
// `replication` and `shadow` must outlive it.
class CatchUpRun {
 public:
  // `main`: a session on main's database; `replication`: a replication
  // connection to it (ConnectReplication); `shadow`: on the shadow.
  static absl::StatusOr<std::unique_ptr<CatchUpRun>> Start(PGconn* main, PGconn* replication,
                                                           PGconn* shadow,
                                                           const CatchUpOptions& o);
  ~CatchUpRun();
  // Applies every commit main made before the call; `main` is any session
  // on main's database not inside a transaction. With `final`, the shadow's
  // sequences are advanced to main's too. The counts are this round's.
  absl::StatusOr<CatchUpResult> Round(PGconn* main, bool final);
  const std::string& slot() const;

  struct State;

 private:
  CatchUpRun();
  absl::Status ApplyPending(int64_t* changes);
  std::unique_ptr<State> s_;
};

// The pgmerge slot of main's database: `wanted`, or the only one there.
// FailedPrecondition when there is none, several, or it is in use.
absl::StatusOr<std::string> FindSlot(PGconn* main, const std::string& wanted);

// Drops the replication slot `slot` if the server still has it (from any
// database of the server); true when it was there.
absl::StatusOr<bool> DropSlotIfPresent(PGconn* conn, const std::string& slot);

// One line of test_decoding's output, parsed.
struct DecodedValue {
  enum class Kind { kNull, kText, kUnchangedToast };
  Kind kind = Kind::kNull;
  std::string text;  // The type's text form, unquoted.
};
struct DecodedColumn {
  std::string name;  // Unquoted.
  std::string type;
  DecodedValue value;
};
struct DecodedChange {
  enum class Kind { kBegin, kCommit, kInsert, kUpdate, kDelete, kTruncate, kOther };
  Kind kind = Kind::kOther;
  parser::TableName table;
  std::vector<DecodedColumn> old_tuple;  // UPDATE's old-key, DELETE's key.
  std::vector<DecodedColumn> new_tuple;  // INSERT's and UPDATE's new tuple.
  bool no_tuple_data = false;  // The table has no replica identity.
};
// REQUIRES: `line` is test_decoding's output with include-xids off.
// InvalidArgument naming the position for anything else.
absl::StatusOr<DecodedChange> ParseTestDecoding(std::string_view line);

}  // namespace internal
}  // namespace pgmerge::swap

#endif  // PGMERGE_SWAP_CATCHUP_H_
