// --into's target database (internal to swap/): refused unless empty and
// unless the role can drop it and create it again; what it is (owner,
// encoding, locale, privileges, settings) kept so that a failed run puts
// it back empty and the same.
#ifndef PGMERGE_SWAP_RESTORE_TARGET_H_
#define PGMERGE_SWAP_RESTORE_TARGET_H_

#include <libpq-fe.h>

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "swap/db_properties.h"

namespace pgmerge::swap::internal {

struct Target {
  std::string name;        // current_database().
  std::string create_sql;  // CREATE DATABASE as it is now.
  DatabaseProperties properties;  // Its privileges, settings, comment.
};

// The database `conn` is on, checked: FailedPrecondition naming what is
// there when it is not empty, or when the role could not re-create it.
absl::StatusOr<Target> InspectTarget(PGconn* conn);

// Drops the target (its sessions too) and creates it again from
// `target`, connected to "postgres" or else "template1" of `conninfo`'s
// server. DataLoss when that fails: the database is half-restored.
absl::Status RecreateTarget(const std::string& conninfo, const Target& target);

}  // namespace pgmerge::swap::internal

#endif  // PGMERGE_SWAP_RESTORE_TARGET_H_
