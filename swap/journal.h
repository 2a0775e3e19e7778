// The swap's journal (internal to swap/): one JSON state file per main
// database, rewritten atomically (fsync, rename) after every step, so an
// interrupted swap can be resumed or undone. The server's catalog stays the
// truth the journal is checked against.
#ifndef PGMERGE_SWAP_JOURNAL_H_
#define PGMERGE_SWAP_JOURNAL_H_

#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pgmerge::swap::internal {

struct Journal {
  std::string path;
  nlohmann::json state;

  // Records `step` (and the time) and replaces the file: a crash leaves the
  // old journal or the new one, never half of either. Refuses a `path`
  // that is there and is not a regular file (a device, a FIFO, a link).
  absl::Status Write(const std::string& step);
};

// NotFound when there is no file at `path`; FailedPrecondition when it is
// not a pgmerge journal.
absl::StatusOr<nlohmann::json> ReadJournal(const std::string& path);

// Whether `step` leaves nothing to resume or undo.
bool Finished(const std::string& step);

// The current UTC time formatted with strftime's `format`.
std::string UtcNow(const char* format);

// A whole file, or NotFound naming it.
absl::StatusOr<std::string> ReadFile(const std::string& path);

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_JOURNAL_H_
