// A local directory as an ObjectStore: keys are relative paths, writes go
// to a partial file hard-linked into place. Internal to storage/.
#ifndef PGMERGE_STORAGE_LOCAL_STORE_H_
#define PGMERGE_STORAGE_LOCAL_STORE_H_

#include <memory>

#include "storage/object_store.h"

namespace pgmerge::storage {

// REQUIRES: location.local.
std::unique_ptr<ObjectStore> NewLocalStore(const Location& location);

}  // namespace pgmerge::storage

#endif  // PGMERGE_STORAGE_LOCAL_STORE_H_
