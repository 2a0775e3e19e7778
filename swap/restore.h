// `pgmerge PROD DEV --into CONNINFO --jobs N`: the merge's SQL stream
// restored straight into an empty shadow database over libpq, cut where the
// emitter marks it (base/output.h) instead of lexed again:
// - pre-data runs in session 0, in one transaction, committed before the
//   first COPY;
// - each COPY block goes to one of N sessions as the merge writes it;
// - post-data runs in stream order, but each run of index and constraint
//   builds is spread over the N sessions, each build as soon as its
//   table's rows are in; foreign keys are added NOT VALID and checked
//   (VALIDATE) side by side; no two jobs that lock one table run at once,
//   so none waits on the server's lock or deadlocks; anything else waits
//   for what came before and runs in session 0;
// - the session settings the stream sets (SET, set_config) follow every
//   statement to whichever session runs it.
// All or nothing: the target must be empty at the start (refused
// otherwise, naming what is there), and a run that fails after sending
// anything drops the database and creates it again as it was (owner,
// encoding, locale), so a failed run never leaves a shadow that looks done.
#ifndef PGMERGE_SWAP_RESTORE_H_
#define PGMERGE_SWAP_RESTORE_H_

#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "base/output.h"

namespace pgmerge::swap {

struct IntoOptions {
  std::string conninfo;  // The shadow (conninfo string, URI or name).
  int jobs = 2;          // COPY and index sessions besides session 0.
  bool verbose = false;  // A line per table copied on stderr.
  // Polled while the restore runs: true stops it (Ctrl-C), cancels what
  // the sessions run, and Finish fails so the target is wiped.
  std::function<bool()> interrupted;
};

class IntoRestore {
 public:
  // Connects, checks that the target is empty and that it can be dropped
  // and re-created (on failure), and opens the sessions.
  static absl::StatusOr<std::unique_ptr<IntoRestore>> Open(const IntoOptions& options);
  virtual ~IntoRestore() = default;

  // What the merge writes into.
  virtual OutputSink* sink() = 0;
  // The merge succeeded: waits for every session and commits. An error is
  // the first statement that failed, with the server's message.
  virtual absl::Status Finish() = 0;
  // The run failed (the merge, Finish, or the report): when anything was
  // sent, the target is dropped and created again empty. Returns what the
  // user must know when even that failed.
  virtual absl::Status Wipe() = 0;
  // Whether anything reached the server.
  virtual bool touched() const = 0;
};

}  // namespace pgmerge::swap

#endif  // PGMERGE_SWAP_RESTORE_H_
