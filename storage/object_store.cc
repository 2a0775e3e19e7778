#include "storage/object_store.h"

#include <algorithm>

#include "base/status.h"
#include "storage/local_store.h"
#include "storage/s3_store.h"

namespace pgmerge::storage {

absl::Status ObjectStore::Stream(const ObjectInfo& object, int64_t piece,
                                 const std::function<absl::Status(std::string_view)>& sink) {
  std::string buf;
  for (int64_t off = 0; off < object.size; off += piece) {
    PGM_RETURN_IF_ERROR(Read(object.key, off, std::min(piece, object.size - off), &buf));
    PGM_RETURN_IF_ERROR(sink(buf));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<ObjectStore>> OpenStore(const Location& location,
                                                       const StoreOptions& options) {
  if (location.local) return NewLocalStore(location);
  return NewS3Store(location, options);
}

}  // namespace pgmerge::storage
