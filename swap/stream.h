// main's change stream over the replication protocol (internal to swap/):
// the walsender decodes the slot's WAL once and keeps decoding as main
// writes, where pg_logical_slot_peek_changes decodes again from the slot's
// restart_lsn on every call (up to 15 s of WAL behind under load, hundreds
// of milliseconds a call). The slot only moves when Confirm() says the
// shadow holds the changes: exactly once as before.
#ifndef PGMERGE_SWAP_STREAM_H_
#define PGMERGE_SWAP_STREAM_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "swap/pg.h"

namespace pgmerge::swap::internal {

// "16/B374D848" as a number, to compare positions; 0 for anything else.
uint64_t LsnValue(std::string_view lsn);
std::string LsnText(uint64_t lsn);

// A replication connection (replication=database) to `dbname` on the
// server `conninfo` names, as Connect() takes them.
absl::StatusOr<Conn> ConnectReplication(const std::string& conninfo, const std::string& dbname);

// A round's end is marked in main's WAL by a transactional logical
// message, pg_logical_emit_message(true, 'pgmerge', TOKEN): its commit is
// flushed before the call returns (it wrote WAL, so synchronous_commit
// applies) and it comes after every commit acknowledged before. A flush
// position would not do: it may lie past the last record (a page's end),
// and a transaction that wrote no WAL commits without a flush.
inline constexpr std::string_view kMarkerPrefix = "message: transactional: 1 prefix: pgmerge, ";
// `line` is test_decoding's line for the message `marker`.
bool IsMarker(std::string_view line, std::string_view marker);

struct StreamLine {
  uint64_t lsn = 0;
  std::string data;  // One line of test_decoding's output.
};

// Not thread-safe; `conn` (a replication connection) must outlive it.
class ChangeStream {
 public:
  explicit ChangeStream(PGconn* conn) : conn_(conn) {}

  // START_REPLICATION from `from` (test_decoding, no xids, no empty
  // transactions).
  absl::Status Start(const std::string& slot, uint64_t from);

  // Appends what the server sends to `out` until the COMMIT of the
  // transaction holding the message `marker` (true: every commit before it
  // came first), or until `max_lines` lines ending with a COMMIT were read
  // (false).
  absl::StatusOr<bool> Read(std::string_view marker, size_t max_lines,
                            std::vector<StreamLine>* out);

  // The shadow holds every commit up to `lsn`: the slot may let it go.
  absl::Status Confirm(uint64_t lsn);

 private:
  absl::Status SendStatus(bool reply_requested);

  PGconn* conn_;
  uint64_t confirmed_ = 0;  // Reported as written and flushed.
};

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_STREAM_H_
