// Object stores the media mirror reads and writes: S3 (any S3-compatible
// server: AWS, MinIO, moto) over libcurl with its own SigV4 signing, and a
// local directory. Writes never replace an existing object.
#ifndef PGMERGE_STORAGE_OBJECT_STORE_H_
#define PGMERGE_STORAGE_OBJECT_STORE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace pgmerge::storage {

// Where objects live, parsed from an mc-style address.
struct Location {
  bool local = false;
  std::string dir;  // local: the directory (keys are relative paths).
  // S3:
  std::string alias;     // As the user named it (for messages).
  std::string endpoint;  // scheme://host[:port], no credentials.
  std::string access_key, secret_key, region = "us-east-1";
  std::string bucket, prefix;  // prefix: "" or ends with '/'... as given.
  bool path_style = true;
  bool local_network = false;  // Loopback or a private address.
  // For messages: alias/bucket/prefix or the directory; never a secret.
  std::string Display() const;
};

// `ALIAS/BUCKET[/PREFIX]` with ALIAS from `MC_HOST_<ALIAS>` in `env`
// (http(s)://ACCESS:SECRET@HOST[:PORT]) or from mc's config file at
// `mc_config` (aliases.NAME.url/accessKey/secretKey/path); or a local
// directory (absolute, ./ or ../, or an existing directory).
absl::StatusOr<Location> ParseLocation(std::string_view arg,
                                       const std::map<std::string, std::string>& env,
                                       const std::string& mc_config);

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

  // Test support: create the location's bucket (S3) or directory.
  virtual absl::Status CreateContainer() = 0;
};

absl::StatusOr<std::unique_ptr<ObjectStore>> OpenStore(const Location& location);

}  // namespace pgmerge::storage

#endif  // PGMERGE_STORAGE_OBJECT_STORE_H_
