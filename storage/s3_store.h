// An S3 bucket (any S3-compatible server: AWS, MinIO, moto) as an
// ObjectStore, over libcurl. Internal to storage/: callers use OpenStore.
#ifndef PGMERGE_STORAGE_S3_STORE_H_
#define PGMERGE_STORAGE_S3_STORE_H_

#include <memory>

#include "storage/object_store.h"

namespace pgmerge::storage {

// REQUIRES: !location.local. Thread-safe: each request has its own handle.
std::unique_ptr<ObjectStore> NewS3Store(const Location& location, const StoreOptions& options);

}  // namespace pgmerge::storage

#endif  // PGMERGE_STORAGE_S3_STORE_H_
