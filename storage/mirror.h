// `pgmerge mirror`: copies into DST every object of SRC that DST lacks.
// Never overwrites, never deletes: an object on both sides with other
// content is reported, not written.
#ifndef PGMERGE_STORAGE_MIRROR_H_
#define PGMERGE_STORAGE_MIRROR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/object_store.h"

namespace pgmerge::storage {

struct MirrorProgress {
  int64_t objects_done = 0, objects_total = 0;
  int64_t bytes_done = 0, bytes_total = 0;
};

struct MirrorOptions {
  int jobs = 4;                       // Parallel transfers.
  int64_t part_size = int64_t{8} << 20;  // Memory per transfer; multipart above it.
  bool dry_run = false;               // The plan only.
  std::function<void(const MirrorProgress&)> progress;  // From worker threads, serialized.
  // Polled between parts: true stops every transfer cleanly (unfinished
  // uploads aborted, partial files removed); those objects count as failed.
  std::function<bool()> interrupted;
};

struct ObjectOutcome {
  std::string key;
  int64_t size = 0;       // Source size.
  int64_t dst_size = -1;  // For differences.
  std::string etag, dst_etag;
  std::string detail;  // Why it failed / how it differs.
};

// A development row that names an object that differs (see references.h).
struct ReferencedDifference {
  std::string object, table, column;
  std::string row;         // "id=14" (the row's key), "" for a keyless table.
  std::string renamed_to;  // With --rename-conflicts: the object's new key.
};

struct MirrorResult {
  std::string source, destination;  // Display forms, no credentials.
  bool dry_run = false;
  std::vector<ObjectOutcome> copied;     // (or, in a dry run, to copy)
  std::vector<ObjectOutcome> same;       // Present on both, same content.
  std::vector<ObjectOutcome> differing;  // Present on both, other content: left alone.
  std::vector<ObjectOutcome> failed;     // Missing in DST and not copied.
  std::vector<ReferencedDifference> references;  // Filled by the caller.
  int64_t bytes_copied = 0;
  int64_t server_side_copies = 0;
  double seconds = 0;
};

// Lists both sides (errors there stop everything: missing bucket, refused
// credentials, unreachable endpoint), then copies what DST lacks with
// `jobs` transfers, each holding at most one part in memory.
absl::StatusOr<MirrorResult> Mirror(ObjectStore& source, ObjectStore& destination,
                                    const MirrorOptions& options);

// Copies one object to `dst_key` (server-side where possible, else
// streamed in parts); never replaces an existing object (AlreadyExists).
absl::Status CopyObject(ObjectStore& src, ObjectStore& dst, const ObjectInfo& object,
                        const std::string& dst_key, int64_t part_size, bool* server_side,
                        const std::function<void(int64_t)>& on_bytes,
                        const std::function<bool()>& interrupted = {});

// The result as JSON (docs/mirror.md), keys sorted, no credentials.
std::string MirrorReportJson(const MirrorResult& result);

}  // namespace pgmerge::storage

#endif  // PGMERGE_STORAGE_MIRROR_H_
