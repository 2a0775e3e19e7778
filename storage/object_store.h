// Object stores the media mirror reads and writes: S3 (any S3-compatible
// server: AWS, MinIO, moto) over libcurl with its own SigV4 signing, and a
// local directory. Writes never replace an existing object.
#ifndef PGMERGE_STORAGE_OBJECT_STORE_H_
#define PGMERGE_STORAGE_OBJECT_STORE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/location.h"

namespace pgmerge::storage {

struct ObjectInfo {
  std::string key;  // Relative to the location's prefix.
  int64_t size = 0;
  std::string etag;  // Without quotes; "" when unknown.
};

// One object being written: parts in order, then Finish. Nothing is
// visible under the key before Finish succeeds; Abort leaves nothing.
class Upload {
 public:
  virtual ~Upload() = default;
  virtual absl::Status Write(std::string_view part) = 0;
  // AlreadyExists when the key appeared meanwhile (it is not replaced).
  virtual absl::Status Finish() = 0;
  virtual void Abort() = 0;
};

class ObjectStore {
 public:
  virtual ~ObjectStore() = default;
  // Every object under the location's prefix, sorted by key. NotFound for
  // a missing bucket or directory, PermissionDenied for refused
  // credentials, Unavailable for an endpoint that cannot be reached.
  virtual absl::StatusOr<std::vector<ObjectInfo>> List() = 0;
  // Bytes [offset, offset + length) of `key` into `out` (replaced).
  virtual absl::Status Read(const std::string& key, int64_t offset, int64_t length,
                            std::string* out) = 0;
  // The whole of `key`, handed to `sink` in pieces as it arrives (one
  // request where the store can; ranged reads of `piece` bytes otherwise).
  virtual absl::Status Stream(const ObjectInfo& object, int64_t piece,
                              const std::function<absl::Status(std::string_view)>& sink);
  // Starts writing `key` of `size` bytes in parts of at most `part_size`.
  virtual absl::StatusOr<std::unique_ptr<Upload>> BeginWrite(const std::string& key,
                                                             int64_t size,
                                                             int64_t part_size) = 0;
  // Server-side copy of `object` from `source` to `key` when both are on
  // one server with the same credentials; Unimplemented otherwise (then the
  // caller streams). Never replaces an existing object.
  virtual absl::Status CopyFrom(ObjectStore& source, const ObjectInfo& object,
                                const std::string& key) = 0;
  // The content's MD5 as an S3 single-part ETag would be ("" if unknown
  // without reading: local files are hashed on demand).
  virtual absl::StatusOr<std::string> ContentMd5(const ObjectInfo& object) = 0;
  virtual const Location& location() const = 0;
  // Before anything is copied into this store: is a signed write accepted?
  // Leaves nothing behind (S3: a multipart upload started and aborted).
  // PermissionDenied "write refused: ..." when not.
  virtual absl::Status ProbeWrite() { return absl::OkStatus(); }

  // Test support: create the location's bucket (S3) or directory.
  virtual absl::Status CreateContainer() = 0;
};

// Knobs of an S3 store; the defaults are S3's own limits. Tests lower them
// to exercise pagination and part-by-part copies with small objects.
struct StoreOptions {
  int max_keys = 1000;                            // Keys per listing page.
  int64_t single_copy_limit = int64_t{5} << 30;   // CopyObject's limit; parts above.
  // "HOST:PORT:ADDRESS" entries (CURLOPT_RESOLVE): a test's made-up host
  // for virtual-host style on loopback.
  std::vector<std::string> resolve;
};

// The store for `location`: a directory or an S3 bucket (prefix).
absl::StatusOr<std::unique_ptr<ObjectStore>> OpenStore(const Location& location,
                                                       const StoreOptions& options = {});

}  // namespace pgmerge::storage

#endif  // PGMERGE_STORAGE_OBJECT_STORE_H_
